"""Shared helpers of the API tests: tokens for the roles of tests/web/conftest.py."""

from __future__ import annotations

import pytest

from alliance.web.api import tokens
from alliance.web.clinics.models import StaffMember

# Answers to the bundled client check-in (alliance-client), as in conftest.py's fixture.
CLIENT_ANSWERS = {"bond1": 8, "bond2": 9, "goals1": 6, "goals2": 7, "tasks1": 5, "tasks2": 7}


def make_token(member: StaffMember, scope: str = "write", **kwargs) -> str:
    return tokens.create_token(member.clinic, member, name=f"Tests as {member.display_name}",
                               scope=scope, **kwargs).token


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def api(client):
    """api(token) -> a function (method, path, json=None, **extra) -> response."""
    def as_token(token: str | None):
        def call(method: str, path: str, json=None, **extra):
            headers = bearer(token) if token else {}
            if json is not None:
                extra.setdefault("content_type", "application/json")
                return getattr(client, method)(path, json, **headers, **extra)
            return getattr(client, method)(path, **headers, **extra)
        return call
    return as_token

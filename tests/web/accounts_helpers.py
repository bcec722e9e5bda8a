"""Helpers of the tests of signing in (tests/web/test_accounts_*.py)."""

from __future__ import annotations

import time

from django.urls import reverse
from django_otp.oath import TOTP

from alliance.web.audit.models import Event

PASSWORD = "a long test password"


def sign_in(client, member_or_email, password=PASSWORD, **extra):
    email = getattr(getattr(member_or_email, "user", None), "email", member_or_email)
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def code_for(device, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now (or `steps_ahead` periods later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def events(action, **filters):
    return list(Event.objects.filter(action=action, **filters).order_by("id"))

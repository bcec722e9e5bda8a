"""The portal's "e-mail me a sign-in link": the request only enqueues, answers the same and
as late for known and unknown addresses, and the background worker sends the link."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from alliance.cli.main import cli
from alliance.web.portal import services

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def account(clinic, case, therapist):
    clinic.client_portal_enabled = True
    clinic.save()
    account = services.invite(case, by=therapist)
    mail.outbox.clear()
    return account


def ask(email):
    return Client().post(reverse("portal:sign_in"), {"method": "link", "link-email": email})


def test_the_request_only_enqueues_and_the_worker_sends_the_link(account):
    with override_settings(TASKS=DATABASE_TASKS):
        known, unknown = ask("client@example.org"), ask("nobody@example.org")
        assert (known.status_code, known["Location"]) == \
            (unknown.status_code, unknown["Location"]) == (302, reverse("portal:sign_in_sent"))
        assert not mail.outbox  # nothing is sent inside the request
        assert DBTaskResult.objects.ready().count() == 2  # the same work for both addresses
        result = CliRunner().invoke(cli, ["worker", "--batch"])
        assert result.exit_code == 0, result.output
    assert [m.to for m in mail.outbox] == [["client@example.org"]]
    assert "/portal/sign-in/" in mail.outbox[0].body


def test_known_and_unknown_addresses_are_answered_no_sooner_than_the_staff_reset(
        account, settings):
    settings.PASSWORD_RESET_ANSWER_SECONDS = 0.3

    def timed(email):
        started = time.monotonic()
        ask(email)
        return time.monotonic() - started

    known = [timed("client@example.org") for _ in range(2)]
    unknown = [timed("nobody@example.org") for _ in range(2)]
    assert min(known + unknown) >= 0.3
    assert abs(sum(known) / 2 - sum(unknown) / 2) < 0.15

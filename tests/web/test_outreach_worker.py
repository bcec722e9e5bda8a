"""The worker's side of the outbox, with real commits: several workers racing for the same
due messages send each exactly once, and `alliance worker --batch` sends what is due."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from alliance.cli.main import cli
from alliance.web.outreach import services
from alliance.web.outreach.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


def plan_notices(case, therapist, n, now):
    for i in range(n):
        services.plan_staff_notice(therapist, kind="rupture", case=case, key=f"race:{i}",
                                   due_at=now)


def test_two_workers_racing_send_each_message_exactly_once(case, therapist):
    now = timezone.now()
    plan_notices(case, therapist, 40, now)
    start = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            start.wait()
            results.append(services.send_due(now))
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(r["sent"] for r in results) == 40
    assert len(mail.outbox) == 40
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}


@override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
def test_the_worker_in_batch_mode_sends_what_is_due(case, therapist):
    plan_notices(case, therapist, 2, timezone.now())
    result = CliRunner().invoke(cli, ["worker", "--batch"])
    assert result.exit_code == 0, result.output
    assert len(mail.outbox) == 2
    assert not Message.objects.exclude(status="sent").exists()

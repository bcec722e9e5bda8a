"""Signal recomputation through the background worker (Django's tasks, database backend).

The rest of the suite runs tasks at once (the immediate backend in test_settings); these
tests use the database backend of a real deployment: a submission only enqueues, the
worker (`alliance worker --batch`, i.e. Django's db_worker) computes the signals. The
worker closes and reopens database connections, so these tests commit for real.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from alliance.cli.main import cli
from alliance.web.checkins import services as checkins
from alliance.web.monitoring.models import Signal

from helpers import ITEMS, checkin_post, next_session

pytestmark = pytest.mark.django_db(transaction=True)

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def database_tasks():
    with override_settings(TASKS=DATABASE_TASKS):
        yield


def run_worker() -> None:
    result = CliRunner().invoke(cli, ["worker", "--batch"])
    assert result.exit_code == 0, result.output


def submit(case, client, value):
    session = next_session(case)
    issued = checkins.issue_link(session, "alliance-client", by=case.therapist)
    response = client.post(issued.path, checkin_post(dict.fromkeys(ITEMS, value)))
    assert response.status_code == 302


def test_a_submission_only_enqueues_and_the_worker_then_finds_the_rupture(
        client, case, database_tasks):
    for value in (8, 8, 8, 5):
        submit(case, client, value)
    # The client's answers are stored at once; the signals wait for the worker.
    assert case.sessions.filter(administrations__isnull=False).distinct().count() == 4
    assert not Signal.objects.exists()
    # Two requests per check-in: the session was recorded, then the form arrived.
    assert DBTaskResult.objects.ready().count() == 8
    run_worker()
    [rupture] = Signal.objects.filter(case=case, type="rupture", subject="total")
    assert rupture.session.number == 5  # the fixture's session 1 has no form
    assert DBTaskResult.objects.ready().count() == 0


def test_a_burst_for_one_case_is_recomputed_once(client, case, database_tasks):
    for value in (8, 8, 8, 5):
        submit(case, client, value)
    run_worker()
    outcomes = list(DBTaskResult.objects.successful().values_list("return_value", flat=True))
    # Every earlier request was superseded by the last, which read all four forms.
    assert sorted(outcomes) == ["recomputed"] + ["superseded"] * 7


def test_requests_for_different_cases_are_each_recomputed(
        client, case, other_therapist_case, database_tasks):
    for subject in (case, other_therapist_case, case):
        submit(subject, client, 7)
    run_worker()
    by_case = {}
    for row in DBTaskResult.objects.successful():
        by_case.setdefault(row.args_kwargs["args"][0], []).append(row.return_value)
    assert sorted(by_case[case.pk]) == ["recomputed"] + ["superseded"] * 3
    assert sorted(by_case[other_therapist_case.pk]) == ["recomputed", "superseded"]


def test_a_new_rupture_rule_reaches_the_signals_through_the_worker(
        client, case, database_tasks):
    for value in (8, 8, 8, 7):  # a drop of 1: beyond sd1 (0.77), within sd2 (1.55)
        submit(case, client, value)
    run_worker()
    assert Signal.objects.filter(case=case, type="rupture", subject="total").count() == 1
    clinic = case.client.clinic
    clinic.rupture_rule = "sd2"
    clinic.save()
    assert Signal.objects.filter(case=case, type="rupture", subject="total").count() == 1
    run_worker()
    assert not Signal.objects.filter(case=case, type="rupture", subject="total").exists()


def test_the_worker_has_help_with_an_example():
    result = CliRunner().invoke(cli, ["worker", "-h"])
    assert result.exit_code == 0 and "Example" in result.output


def test_answers_are_kept_when_a_recomputation_fails(client, case,
                                                     database_tasks, monkeypatch):
    from alliance.web.monitoring import recompute

    def broken(case):
        raise RuntimeError("a bug in the detector")

    monkeypatch.setattr(recompute, "recompute_case_signals", broken)
    submit(case, client, 8)
    run_worker()
    assert case.sessions.filter(administrations__isnull=False).distinct().count() == 1
    [failed] = DBTaskResult.objects.failed()
    assert "a bug in the detector" in failed.traceback


def test_on_sqlite_the_detectors_run_without_holding_the_write_lock(client, case, monkeypatch):
    """Check-ins must not wait behind a recomputation: while the detectors run, another
    connection can start a write transaction at once (busy timeout 0)."""
    import sqlite3

    from django.db import connection

    from alliance.web.monitoring import detection, recompute

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL locks only the recomputed case's row")
    submit(case, client, 8)
    seen = []
    original = detection.detect

    def detect_while_writing(*args, **kwargs):
        other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0,
                                isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # raises "database is locked" if it is held
            other.execute("ROLLBACK")
            seen.append("write lock free")
        finally:
            other.close()
        return original(*args, **kwargs)

    monkeypatch.setattr(recompute, "detect", detect_while_writing)
    recompute.recompute_case_signals(case)
    assert seen == ["write lock free"]

"""SQLite as the embedded database: WAL, durable commits, and writers that queue rather than
fail with "database is locked"."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading

import pytest
from django.db import connection, transaction
from django.test import Client

from alliance.web.care import services as care
from alliance.web.care.models import Session
from alliance.web.checkins import services as checkins
from alliance.web.checkins.models import Administration

from helpers import checkin_post

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite",
                                reason="SQLite's pragmas and locking")

WRITERS = 20  # the web load benchmark's default number of virtual users
SUBMISSIONS_EACH = 3


def pragma(name):
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA {name}")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_a_live_connection_runs_in_wal_mode_with_full_sync_and_a_busy_timeout():
    assert pragma("journal_mode") == "wal"
    assert pragma("synchronous") == 2  # FULL: the WAL is synced at every commit
    assert pragma("busy_timeout") == 20_000  # milliseconds: writers wait their turn


@pytest.mark.django_db(transaction=True)
def test_a_transaction_takes_the_write_lock_when_it_begins():
    # IMMEDIATE: the lock is taken at BEGIN, not at the first write, so two transactions that
    # read and then write queue up instead of failing on a lock upgrade.
    other = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
    try:
        with transaction.atomic():
            assert pragma("journal_mode") == "wal"  # a read only, no write yet
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once the transaction ended
        other.rollback()
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_twenty_clients_submitting_check_ins_at_once_are_all_stored(therapist, open_case,
                                                                   client_answers):
    tokens = []
    for writer in range(WRITERS):
        case = open_case(therapist, f"C-LOCK{writer:02d}")
        own = []
        for number in range(SUBMISSIONS_EACH):
            session = (case.sessions.get(number=1) if number == 0 else care.record_session(
                case, date=dt.date(2026, 1, 12) + dt.timedelta(days=7 * number),
                status=Session.Status.ATTENDED))
            own.append(checkins.issue_link(session, "alliance-client", by=therapist).path)
        tokens.append(own)
    start = threading.Barrier(WRITERS, timeout=60)
    outcomes: list[str] = []

    def writer(paths):
        browser = Client()
        try:
            start.wait()
            for path in paths:
                response = browser.post(path, checkin_post(client_answers))
                outcomes.append(response.get("Location", str(response.status_code)))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(paths,)) for paths in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    problems = [o for o in outcomes if not o.startswith("/c/thanks/")]
    assert not problems, problems[:3]
    assert len(outcomes) == WRITERS * SUBMISSIONS_EACH
    answered = Administration.objects.filter(submitted_at__isnull=False)
    # Each check-in stores the alliance form and the wellbeing form in one transaction.
    assert answered.filter(instrument_id="alliance-client").count() == WRITERS * SUBMISSIONS_EACH
    assert answered.count() == 2 * WRITERS * SUBMISSIONS_EACH

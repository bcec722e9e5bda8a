"""The audit table is append-only in the database, and the hash chain shows tampering."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, connections, transaction

from alliance.web.audit.chain import verify
from alliance.web.audit.models import Event
from alliance.web.audit.services import record


def _raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def drop_guards():
    """What an attacker with database access would do first."""
    if connection.vendor == "postgresql":
        _raw("DROP TRIGGER audit_event_no_change ON audit_event")
    else:
        _raw("DROP TRIGGER audit_event_no_update")
        _raw("DROP TRIGGER audit_event_no_delete")


@pytest.fixture
def events(therapist, case):
    return [record(None, action, case, actor=therapist.user, clinic=therapist.clinic)
            for action in ("create", "read", "update", "read")]


def test_the_database_refuses_to_update_an_event(events):
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("UPDATE audit_event SET detail = 'nothing happened' WHERE id = %s", [events[1].id])
    assert Event.objects.get(pk=events[1].id).detail == ""


def test_the_database_refuses_to_delete_an_event(events):
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM audit_event WHERE id = %s", [events[1].id])
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("DELETE FROM audit_event")
    assert Event.objects.filter(pk__in=[e.id for e in events]).count() == 4


def test_an_untouched_trail_verifies(events):
    report = verify()
    assert report.intact, report.problems
    assert report.last.id == events[-1].id


def test_verify_names_the_event_whose_content_was_altered(events):
    drop_guards()
    _raw("UPDATE audit_event SET action = 'read' WHERE id = %s", [events[2].id])
    report = verify()
    assert [(p.event_id, p.what) for p in report.problems] == [
        (events[2].id, "its content was altered (the hash does not match)")]


def test_verify_names_the_event_after_an_altered_one_whose_hash_was_recomputed(events):
    drop_guards()
    forged = Event.objects.get(pk=events[2].id)
    forged.detail = "nothing to see"
    _raw("UPDATE audit_event SET detail = %s, hash = %s WHERE id = %s",
         [forged.detail, forged.compute_hash(), forged.id])
    problems = verify().problems
    assert [p.event_id for p in problems] == [events[3].id]
    assert f"does not link to event {events[2].id}" in problems[0].what


def test_verify_names_the_deleted_event(events):
    drop_guards()
    _raw("DELETE FROM audit_event WHERE id = %s", [events[1].id])
    problems = verify().problems
    assert [(p.event_id, p.what) for p in problems] == [
        (events[2].id, f"event {events[1].id} is missing (deleted) before it")]


def test_an_anchor_catches_a_trail_cut_short_at_its_end(events):
    anchor = (events[-1].id, events[-1].hash)
    assert verify(anchor=anchor).intact
    drop_guards()
    _raw("DELETE FROM audit_event WHERE id = %s", [events[-1].id])
    problems = verify(anchor=anchor).problems
    assert [p.event_id for p in problems] == [events[-1].id]
    assert "gone" in problems[0].what


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain(django_db_blocker):
    from alliance.web.clinics.models import Clinic

    clinic = Clinic.objects.create(name="Riverside Counselling")
    start = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    writers, per_writer = 8, 15
    barrier = threading.Barrier(writers)
    errors = []

    def write(n):
        try:
            barrier.wait()
            for i in range(per_writer):
                record(None, "read", clinic, actor=f"writer {n}", clinic=clinic,
                       detail=f"{n}.{i}")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    written = Event.objects.filter(id__gt=start)
    assert written.count() == writers * per_writer
    assert sorted(written.values_list("id", flat=True)) == list(
        range(start + 1, start + 1 + writers * per_writer))
    report = verify()
    assert report.intact, report.problems

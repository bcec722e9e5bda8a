"""`alliance audit verify` and `alliance audit export` against the test database."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from django.db import connection, transaction

from alliance.cli.main import cli
from alliance.web.audit.services import record
from alliance.web.clinics.models import Clinic


@pytest.fixture
def events(db):
    clinic = Clinic.objects.create(name="Riverside Counselling")
    return [record(None, action, clinic, actor="setup", clinic=clinic)
            for action in ("create", "read", "update")]


def _tamper(*statements):
    # An attacker with database access drops the guard first.
    drop = (["DROP TRIGGER audit_event_no_change ON audit_event"]
            if connection.vendor == "postgresql" else
            ["DROP TRIGGER audit_event_no_update", "DROP TRIGGER audit_event_no_delete"])
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in [*drop, *statements]:
            cursor.execute(sql)


def test_verify_reports_an_intact_trail_with_an_anchor_to_write_down(events):
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    assert f"--anchor {events[-1].id}:{events[-1].hash}" in result.output
    anchored = CliRunner().invoke(cli, ["audit", "verify", "--anchor",
                                        f"{events[-1].id}:{events[-1].hash}"])
    assert anchored.exit_code == 0, anchored.output


def test_verify_fails_and_names_the_altered_event(events):
    _tamper(f"UPDATE audit_event SET detail = 'edited' WHERE id = {events[1].id}")
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"event {events[1].id} (" in result.output
    assert "altered" in result.output


def test_verify_fails_and_names_the_deleted_event(events):
    _tamper(f"DELETE FROM audit_event WHERE id = {events[1].id}")
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"event {events[1].id} is missing (deleted)" in result.output


def test_verify_refuses_a_malformed_anchor(db):
    result = CliRunner().invoke(cli, ["audit", "verify", "--anchor", "12:abc"])
    assert result.exit_code == 2
    assert "ID:HASH" in result.output


def test_export_writes_the_events_of_a_clinic_as_csv_and_json(events):
    clinic_id = events[0].clinic_id
    result = CliRunner().invoke(cli, ["audit", "export", "--clinic", str(clinic_id)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["action"] for r in rows] == ["create", "read", "update"]
    assert rows[-1]["hash"] == events[-1].hash
    as_json = CliRunner().invoke(cli, ["audit", "export", "--clinic", str(clinic_id),
                                       "--format", "json", "--since", "2000-01-01"])
    assert [e["id"] for e in json.loads(as_json.output)] == [e.id for e in events]


def test_export_refuses_a_range_that_ends_before_it_starts(db):
    result = CliRunner().invoke(cli, ["audit", "export", "--since", "2026-02-01",
                                      "--until", "2026-01-01"])
    assert result.exit_code == 2
    assert "before --since" in result.output


def test_the_csv_export_neutralises_what_a_visitor_typed_as_a_formula(db):
    # A visitor can type anything as a sign-in e-mail; the failed sign-in is recorded.
    typed = "=HYPERLINK(\"http://x.example\",\"open\")"
    event = record(None, "login_failed", detail=f"{typed}", actor="@SUM(A1:A9)")
    result = CliRunner().invoke(cli, ["audit", "export"])
    assert result.exit_code == 0, result.output
    row = next(r for r in csv.DictReader(io.StringIO(result.output)) if r["id"] == str(event.id))
    assert row["detail"] == "'" + event.detail and row["actor_name"] == "'@SUM(A1:A9)"
    as_json = CliRunner().invoke(cli, ["audit", "export", "--format", "json"])
    assert json.loads(as_json.output)[-1]["detail"] == event.detail

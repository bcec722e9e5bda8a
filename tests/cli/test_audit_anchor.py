"""The audit trail's anchor kept outside the database: verify finds a trail cut short at its
end without being given an anchor; the demo's data folder needs no keys passed by hand."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.db import connection, transaction
from django.test import override_settings

from alliance.cli.main import cli
from alliance.web.audit import anchors
from alliance.web.audit.services import record
from alliance.web.clinics.models import Clinic


@pytest.fixture
def anchor_file(tmp_path):
    path = tmp_path / "var" / "audit-anchor"
    with override_settings(AUDIT_ANCHOR_FILE=path):
        yield path


def _tamper(*statements):
    drop = (["DROP TRIGGER audit_event_no_change ON audit_event"]
            if connection.vendor == "postgresql" else
            ["DROP TRIGGER audit_event_no_update", "DROP TRIGGER audit_event_no_delete"])
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in [*drop, *statements]:
            cursor.execute(sql)


def test_verify_finds_the_last_events_deleted_without_being_given_an_anchor(
        db, anchor_file, django_capture_on_commit_callbacks):
    clinic = Clinic.objects.create(name="Riverside Counselling")
    with django_capture_on_commit_callbacks(execute=True):
        events = [record(None, "read", clinic, actor="setup", clinic=clinic)
                  for _ in range(20)]
    assert anchors.latest() == (events[-1].id, events[-1].hash)
    assert stat.S_IMODE(os.stat(anchor_file).st_mode) == 0o600
    intact = CliRunner().invoke(cli, ["audit", "verify"])
    assert intact.exit_code == 0 and f"(event {events[-1].id})" in intact.output

    _tamper(f"DELETE FROM audit_event WHERE id > {events[9].id}")
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1, result.output
    assert f"event {events[-1].id}" in result.output and "cut short" in result.output


def test_the_anchor_only_moves_forward_unless_a_restore_resets_it(anchor_file):
    anchors.keep(10, "a" * 64)
    anchors.keep(7, "b" * 64)  # a process committing late, or a trail cut and refilled
    assert anchors.latest() == (10, "a" * 64)
    anchors.keep(12, "c" * 64)
    assert anchors.latest() == (12, "c" * 64)
    anchors.keep(5, "d" * 64, force=True)
    assert anchors.latest() == (5, "d" * 64)


def test_a_rolled_back_event_moves_no_anchor(db, anchor_file,
                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        kept = record(None, "read", actor="setup")
        with pytest.raises(RuntimeError), transaction.atomic():
            record(None, "read", actor="setup")
            raise RuntimeError
    assert anchors.latest() == (kept.id, kept.hash)


def test_the_commands_work_on_the_demos_data_folder_without_its_keys(tmp_path):
    from alliance.cli.demo import (ENCRYPTION_KEY_FILE, SECRET_KEY_FILE, _kept,
                                   new_encryption_key)

    folder = tmp_path / "var"
    _kept(folder / ENCRYPTION_KEY_FILE, new_encryption_key)
    _kept(folder / SECRET_KEY_FILE, lambda: "demo-secret-" + "x" * 50)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALLIANCE_", "DJANGO_", "DATABASE_URL"))}
    env.update(ALLIANCE_DATA_DIR=str(tmp_path), ALLIANCE_LOG_LEVEL="WARNING")
    alliance = [str(Path(sys.executable).with_name("alliance"))]

    def run(*args):
        done = subprocess.run([*alliance, *args], env=env, capture_output=True, text=True,
                              timeout=180, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("manage", "migrate", "--verbosity", "0")
    backed_up = run("backup", str(tmp_path / "demo.backup"))
    assert "Audit trail anchor: " in backed_up
    verified = run("audit", "verify")
    assert "intact" in verified and "Checked against the anchor kept in" in verified
    assert (folder / "audit-anchor").read_text().startswith(
        backed_up.split("Audit trail anchor: ")[1].split(":")[0] + ":")
    # Restoring puts the older trail back on purpose: the anchor starts again at its end
    # (its restore event takes the id the backup's event had, with another hash).
    restored = run("restore", "--force", str(tmp_path / "demo.backup"))
    assert "Audit trail anchor: " in restored
    assert "intact" in run("audit", "verify")

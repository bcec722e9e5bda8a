"""`alliance backup` and `alliance restore`: a restore drill on the database the suite runs on
(SQLite, or PostgreSQL with DATABASE_URL), and the commands' refusals."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.db import connection

from alliance.cli.main import cli
from alliance.web.audit.models import Event
from alliance.web.audit.services import record
from alliance.web.checkins import services as checkins

ALLIANCE = str(Path(sys.executable).with_name("alliance"))


def command_env(database_url: str, data_dir: Path, **extra) -> dict[str, str]:
    """The command's environment: the test settings (keys for tests only) on `database_url`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALLIANCE_", "DJANGO_", "DATABASE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "alliance.web.test_settings",
                "DATABASE_URL": database_url, "ALLIANCE_DATA_DIR": str(data_dir),
                "ALLIANCE_LOG_LEVEL": "WARNING"}, **extra)
    return env


def alliance(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run([ALLIANCE, *args], env=env, capture_output=True, text=True,
                          timeout=120)


def url_of(settings_dict, name=None) -> str:
    if connection.vendor == "sqlite":
        return f"sqlite:///{name or settings_dict['NAME']}"
    user = settings_dict["USER"] + (f":{settings_dict['PASSWORD']}"
                                    if settings_dict["PASSWORD"] else "")
    return (f"postgres://{user}@{settings_dict['HOST'] or 'localhost'}:"
            f"{settings_dict['PORT'] or 5432}/{name or settings_dict['NAME']}")


def plain(value):
    """A value in a form that reads the same from any connection of the same database."""
    if isinstance(value, (memoryview, bytearray)):
        return bytes(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time, decimal.Decimal, uuid.UUID)):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    return value


def digests(cursor, tables, before_event) -> dict[str, tuple[int, str]]:
    """{table: (rows, SHA-256 of every row in a fixed order)}; audit events up to (not
    including) `before_event`, the backup's own, which is recorded after the copy."""
    found = {}
    for table in tables:
        where = f" WHERE id < {int(before_event)}" if table == "audit_event" else ""
        cursor.execute(f'SELECT * FROM "{table}"{where}')
        rows = sorted(repr(tuple(plain(v) for v in row)) for row in cursor.fetchall())
        found[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return found


def sqlite_digests(path, before_event) -> dict[str, tuple[int, str]]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return digests(conn.cursor(), tables, before_event)
    finally:
        conn.close()


def postgres_digests(settings_dict, name, before_event) -> dict[str, tuple[int, str]]:
    import psycopg

    with psycopg.connect(dbname=name, user=settings_dict["USER"],
                         password=settings_dict["PASSWORD"] or None,
                         host=settings_dict["HOST"] or None,
                         port=settings_dict["PORT"] or None) as conn:
        with conn.cursor() as cursor:
            cursor.execute("SELECT table_name FROM information_schema.tables "
                           "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
            return digests(cursor, [r[0] for r in cursor.fetchall()], before_event)


@pytest.fixture
def seeded(therapist, supervisor, other_admin, case, issued, client_answers, open_case):
    """Two clinics with staff, cases, links and submitted check-ins (committed: the commands
    run in other processes)."""
    checkins.submit_link(issued.token, client_answers, {})
    record(None, "export", case, actor="restore drill", clinic=case.client.clinic)
    for number in range(3):
        other = open_case(therapist, f"C-DRILL{number}", email=f"drill{number}@example.org")
        link = checkins.issue_link(other.sessions.get(), "alliance-client", by=therapist)
        checkins.submit_link(link.token, {**client_answers, "bond1": number}, {})
    connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_a_fresh_database_has_every_row_of_every_table(seeded,
                                                                             tmp_path):
    source = connection.settings_dict
    env = command_env(url_of(source), tmp_path)
    backup = tmp_path / "alliance.backup"
    made = alliance("backup", str(backup), env=env)
    assert made.returncode == 0, made.stderr
    assert "Backed up the" in made.stdout and backup.exists()
    backup_event = Event.objects.filter(action="backup").order_by("-id").first()
    assert backup_event.outcome == "success" and backup.name in backup_event.detail

    if connection.vendor == "sqlite":
        target = tmp_path / "restored.sqlite3"
        restored = alliance("restore", str(backup), env=command_env(url_of(source, target),
                                                                    tmp_path))
        assert restored.returncode == 0, restored.stderr
        before = sqlite_digests(source["NAME"], backup_event.id)
        after = sqlite_digests(target, backup_event.id)
        journal = sqlite3.connect(target).execute("PRAGMA journal_mode").fetchone()[0]
        assert journal == "wal"
    else:
        target = f"{source['NAME']}_drill"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{target}"')
            cursor.execute(f'CREATE DATABASE "{target}"')
        target_env = command_env(url_of(source, target), tmp_path)
        try:
            # A freshly migrated database counts as empty; its tables are replaced.
            migrated = alliance("manage", "migrate", "--verbosity", "0", env=target_env)
            assert migrated.returncode == 0, migrated.stderr
            restored = alliance("restore", str(backup), env=target_env)
            assert restored.returncode == 0, restored.stderr
            before = postgres_digests(source, source["NAME"], backup_event.id)
            after = postgres_digests(source, target, backup_event.id)
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{target}"')

    assert before == after
    assert before["audit_event"][0] > 0
    assert before["checkins_administration"][0] >= 4  # the drill had data to lose
    if connection.vendor == "sqlite":
        last = sqlite3.connect(target).execute(
            "SELECT action, id FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
        assert last == ("restore", backup_event.id)  # in place of the backup's own event


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_with_data_and_replaces_it_with_force(seeded, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the PostgreSQL refusal is tested in-process below")
    backup = tmp_path / "first.backup"
    assert CliRunner().invoke(cli, ["backup", str(backup)]).exit_code == 0
    # A database in use elsewhere: a copy of the backup.
    target = tmp_path / "live.sqlite3"
    shutil.copyfile(backup, target)
    target_env = command_env(url_of(connection.settings_dict, target), tmp_path)

    refused = alliance("restore", str(backup), env=target_env)
    assert refused.returncode == 1
    assert "holds data" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr

    sqlite3.connect(target).execute("DELETE FROM checkins_checkinlink").connection.commit()
    forced = alliance("restore", "--force", str(backup), env=target_env)
    assert forced.returncode == 0, forced.stderr
    links = sqlite3.connect(target).execute("SELECT COUNT(*) FROM checkins_checkinlink")
    assert links.fetchone()[0] > 0  # the deleted rows are back


@pytest.mark.django_db(transaction=True)
def test_restore_into_a_database_with_data_is_refused_without_force(case, tmp_path):
    backup = tmp_path / "copy.backup"
    # Any backup of the right kind will do: restoring it is refused before it is read.
    if connection.vendor == "sqlite":
        sqlite3.connect(backup).execute(
            "CREATE TABLE django_migrations (id INTEGER)").connection.commit()
    else:
        backup.write_bytes(b"PGDMP" + b"\0" * 100)
    result = CliRunner().invoke(cli, ["restore", str(backup)])
    assert result.exit_code == 1
    assert "holds data" in result.output and "rows)" in result.output
    assert "--force" in result.output


def test_a_backup_never_replaces_an_existing_file(tmp_path, db):
    existing = tmp_path / "kept.backup"
    existing.write_text("an earlier backup")
    result = CliRunner().invoke(cli, ["backup", str(existing)])
    assert result.exit_code == 1 and "already exists" in result.output
    assert existing.read_text() == "an earlier backup"


def test_a_file_that_is_no_backup_is_refused_by_name(tmp_path, db):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database")
    result = CliRunner().invoke(cli, ["restore", str(junk)])
    assert result.exit_code == 1
    assert "neither an SQLite backup nor a pg_dump" in result.output


def test_a_backup_of_the_other_database_kind_is_refused(tmp_path, db):
    other = tmp_path / "other.backup"
    if connection.vendor == "sqlite":
        other.write_bytes(b"PGDMP" + b"\0" * 100)
        expected = "is a PostgreSQL backup but the settings name a SQLite database"
    else:
        sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
        expected = "is a SQLite backup but the settings name a PostgreSQL database"
    result = CliRunner().invoke(cli, ["restore", str(other)])
    assert result.exit_code == 1 and expected in result.output


@pytest.mark.django_db
def test_without_pg_dump_the_postgresql_backup_says_what_to_install(tmp_path, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's client programs")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("pg_dump") is None
    result = CliRunner().invoke(cli, ["backup", str(tmp_path / "x.backup")])
    assert result.exit_code == 1
    assert "pg_dump was not found" in result.output and "postgresql-client" in result.output


@pytest.mark.django_db
def test_restoring_sqlite_while_the_server_writes_is_refused(case, tmp_path, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write lock")
    from alliance.cli import backup as commands

    monkeypatch.setattr(commands, "LOCK_SECONDS", 0.1)
    backup = tmp_path / "copy.backup"
    sqlite3.connect(backup).execute(
        "CREATE TABLE django_migrations (id INTEGER)").connection.commit()
    # This test's transaction holds the write lock, as a server in the middle of a write.
    result = CliRunner().invoke(cli, ["restore", "--force", str(backup)])
    assert result.exit_code == 1
    assert "is in use: stop the server" in result.output

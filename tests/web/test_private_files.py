"""Files with client data are readable by their owner only: the SQLite database and its
journals, backups, the data folder (0700), whatever the process's umask."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from django.conf import settings
from django.db import connection
from django.db.backends.sqlite3.base import DatabaseWrapper

from alliance.cli.main import cli
from alliance.web.private_files import private_folder, tighten_sqlite


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def open_umask():
    # The usual umask, under which SQLite and open() create files readable by everyone.
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_sqlite_database_and_its_journals_are_owner_only(tmp_path, db):
    path = tmp_path / "new.sqlite3"
    # A settings dict of its own (the default database's OPTIONS must not be touched).
    wrapper = DatabaseWrapper({**settings.DATABASES["default"], "ENGINE":
                               "django.db.backends.sqlite3", "NAME": str(path),
                               "OPTIONS": dict(settings.SQLITE_OPTIONS)}, alias="probe")
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("CREATE TABLE t (x INTEGER)")
            cursor.execute("INSERT INTO t VALUES (1)")
        assert mode(path) == 0o600
        assert mode(f"{path}-wal") == 0o600 and mode(f"{path}-shm") == 0o600
    finally:
        wrapper.close()


def test_an_existing_database_with_loose_rights_is_tightened(tmp_path):
    path = tmp_path / "old.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE t (x INTEGER)").connection.close()
    os.chmod(path, 0o644)
    tighten_sqlite(path)
    assert mode(path) == 0o600


def test_the_data_folder_is_created_owner_only_by_the_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALLIANCE_", "DJANGO_",
                                                                     "DATABASE_URL"))}
    env.update(ALLIANCE_DATA_DIR=str(tmp_path), ALLIANCE_DEBUG="true")
    done = subprocess.run([sys.executable, "-c", "import os; os.umask(0o022); "
                           "import alliance.web.settings"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert mode(tmp_path / "var") == 0o700


def test_a_loose_data_folder_is_tightened(tmp_path):
    folder = tmp_path / "var"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    private_folder(folder)
    assert mode(folder) == 0o700


@pytest.mark.django_db(transaction=True)
def test_a_backup_and_a_restored_database_are_owner_only(tmp_path):
    backup = tmp_path / "alliance.backup"
    result = CliRunner().invoke(cli, ["backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert mode(backup) == 0o600
    if connection.vendor != "sqlite":
        return
    from alliance.cli.backup import restore_sqlite

    target = tmp_path / "restored" / "alliance.sqlite3"
    restore_sqlite(backup, target, force=False)
    assert mode(target) == 0o600 and mode(target.parent) == 0o700
    assert all(mode(p) == 0o600 for p in Path(target.parent).iterdir())


def test_a_shared_folder_and_a_folder_named_for_backups_keep_their_rights(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp: everyone writes, the sticky bit protects their files
    private_folder(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    backups = tmp_path / "backups"
    backups.mkdir()
    backups.chmod(0o750)
    private_folder(backups, tighten_existing=False)
    assert stat.S_IMODE(backups.stat().st_mode) == 0o750
    fresh = private_folder(tmp_path / "new" / "var")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o700

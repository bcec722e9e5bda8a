"""Backup and restore of the application's database: `alliance backup`, `alliance restore`.

The database is the one the settings name (DATABASE_URL, or the SQLite file under
ALLIANCE_DATA_DIR), so the commands run with the same environment as `alliance serve`.

- SQLite: SQLite's online backup API copies a consistent snapshot while the server keeps
  writing (WAL readers do not block writers). The backup is one self-contained file
  (rollback journal, not WAL), checked with `PRAGMA integrity_check` before it is kept.
- PostgreSQL: `pg_dump --format=custom` and `pg_restore`, the PostgreSQL client programs of
  the server's major version or newer (Debian: postgresql-client).

A backup is written next to its final name and renamed into place only when complete, and
never replaces an existing file. A restore refuses a database that holds data unless
--force is given. Both are recorded in the audit trail.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import click

from alliance.cli.server import setup_django
from alliance.web.private_files import new_private_file, private_folder, tighten_sqlite

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# Tables Django fills on `migrate` alone: rows there do not make a database "hold data".
# How long a restore waits for the SQLite write lock before saying the server still runs.
LOCK_SECONDS = 10
BOOKKEEPING = frozenset({"django_migrations", "django_content_type", "auth_permission",
                         "sqlite_sequence"})


class BackupError(click.ClickException):
    """A backup or restore that cannot go ahead; the message says why and what to do."""


# --------------------------------------------------------------------------- the database

def database() -> dict:
    from django.conf import settings

    return settings.DATABASES["default"]


def vendor(db: dict) -> str:
    engine = db["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"backups support SQLite and PostgreSQL, not {engine}")


def describe(db: dict) -> str:
    if vendor(db) == "sqlite":
        return f"SQLite database {db['NAME']}"
    where = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}"
    return f"PostgreSQL database {db['NAME']} on {where}"


def size_text(path: Path) -> str:
    size = path.stat().st_size
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return ""  # unreachable


def kind_of_file(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupError(f"{path} is neither an SQLite backup nor a pg_dump custom-format backup")


def tables_with_rows(counts: dict[str, int]) -> list[str]:
    return sorted(t for t, n in counts.items() if n and t not in BOOKKEEPING)


def sqlite_row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    return {name: conn.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]
            for name in names}


def django_row_counts() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
        counts = {}
        for name in names:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(name)}")
            counts[name] = cursor.fetchone()[0]
    return counts


def integrity(conn: sqlite3.Connection) -> str:
    return "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check"))


# --------------------------------------------------------------------------- SQLite

def backup_sqlite(source: Path, target: Path) -> None:
    if not source.exists():
        raise BackupError(f"there is no database at {source} (ALLIANCE_DATA_DIR or "
                          "DATABASE_URL points elsewhere?)")
    src = sqlite3.connect(source, timeout=20)
    dst = sqlite3.connect(target)
    try:
        # One step: the whole database from one read transaction, i.e. one consistent
        # snapshot; in WAL mode the server's writers carry on meanwhile.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
        problems = integrity(dst)
        if problems != "ok":
            raise BackupError(f"the copy failed SQLite's integrity check: {problems}")
    finally:
        dst.close()
        src.close()


def restore_sqlite(path: Path, target: Path, force: bool) -> None:
    src = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        problems = integrity(src)
        if problems != "ok":
            raise BackupError(f"{path} failed SQLite's integrity check: {problems}")
        if "django_migrations" not in sqlite_row_counts(src):
            raise BackupError(f"{path} is an SQLite file but not an Alliance database")
        private_folder(target.parent, tighten_existing=False)
        dst = sqlite3.connect(target, timeout=LOCK_SECONDS)
        tighten_sqlite(target)
        try:
            refuse_unless_forced(describe({"ENGINE": "sqlite3", "NAME": target}),
                                 sqlite_row_counts(dst), force)
            deadline = time.monotonic() + LOCK_SECONDS

            def give_up_while_locked(status, remaining, total):
                # SQLite's backup step retries a locked database forever: a server still
                # writing to it gets a clear answer instead.
                if status in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) \
                        and time.monotonic() > deadline:
                    raise BackupError(f"the database {target} is in use: stop the server, "
                                      "then restore")

            src.backup(dst, progress=give_up_while_locked, sleep=0.05)
            dst.execute("PRAGMA journal_mode=WAL")
            problems = integrity(dst)
            if problems != "ok":
                raise BackupError(f"the restored database failed the integrity check: "
                                  f"{problems}")
        finally:
            dst.close()
    finally:
        src.close()


# --------------------------------------------------------------------------- PostgreSQL

def pg_program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} was not found on PATH: install PostgreSQL's client programs of the "
            "server's major version or newer (Debian/Ubuntu: apt-get install postgresql-client)")
    return found


def pg_environment(db: dict) -> dict[str, str]:
    """libpq's variables for the configured database (the password stays off the command
    line, where other users could read it)."""
    env = os.environ.copy()
    for variable, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"),
                          ("PGPASSWORD", "PASSWORD"), ("PGDATABASE", "NAME")):
        if db.get(key):
            env[variable] = str(db[key])
    options = db.get("OPTIONS") or {}
    if options.get("sslmode"):
        env["PGSSLMODE"] = str(options["sslmode"])
    return env


def run_pg(command: list[str], db: dict) -> None:
    result = subprocess.run(command, env=pg_environment(db), capture_output=True, text=True)
    if result.returncode != 0:
        message = result.stderr.strip() or f"exit status {result.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {message}")


def backup_postgresql(db: dict, target: Path) -> None:
    run_pg([pg_program("pg_dump"), "--format=custom", "--file", str(target)], db)


def restore_postgresql(path: Path, db: dict, force: bool) -> None:
    from django.db import connections

    program = pg_program("pg_restore")
    counts = django_row_counts()
    connections.close_all()
    refuse_unless_forced(describe(db), counts, force)
    command = [program, "--no-owner", "--no-privileges", "--single-transaction",
               "--exit-on-error", "--dbname", str(db["NAME"])]
    if counts:  # tables exist (maybe empty, after a migrate): replace them
        command += ["--clean", "--if-exists"]
    run_pg([*command, str(path)], db)


def refuse_unless_forced(name: str, counts: dict[str, int], force: bool) -> None:
    full = tables_with_rows(counts)
    if full and not force:
        shown = ", ".join(f"{t} ({counts[t]} rows)" for t in full[:3])
        more = f" and {len(full) - 3} more" if len(full) > 3 else ""
        raise BackupError(
            f"the {name} holds data ({shown}{more}); restoring would replace it. Restore "
            "into an empty database, or add --force to replace it")


# --------------------------------------------------------------------------- audit trail

def audit(action: str, outcome: str, detail: str, *, quiet: bool = False) -> None:
    """Record the operation in the configured database's audit trail (a database without
    one, e.g. a new empty file, is left as it is, with a warning unless `quiet`)."""
    from django.db import DatabaseError, connections

    from alliance.web.audit.services import record

    try:
        record(None, action, outcome=outcome, detail=detail, actor=None)
    except DatabaseError as exc:
        if not quiet:
                click.echo(f"warning: the audit trail could not record the {action}: {exc}",
                       err=True)
    finally:
        connections.close_all()


def anchor_note(*, reset: bool = False) -> None:
    """Keep the audit trail's anchor (a restore starts it again at the restored trail's end)
    and print it, to be kept with the backup."""
    from django.db import DatabaseError, connections

    from alliance.web.audit import anchors
    from alliance.web.audit.models import Event

    try:
        last = (anchors.reset() if reset else
                Event.objects.order_by("-id").values_list("id", "hash").first())
        if last is not None:
            anchors.keep(*last)
            click.echo(f"Audit trail anchor: {last[0]}:{last[1]}")
    except DatabaseError:
        pass
    finally:
        connections.close_all()


# --------------------------------------------------------------------------- commands

@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Back up the database to PATH (a new file) while the server keeps running.

    SQLite: a consistent copy made with SQLite's online backup API, checked with
    integrity_check. PostgreSQL: pg_dump's custom format (needs PostgreSQL's client
    programs). Settings come from the environment, as for `alliance serve`.

    \b
    Example:
      alliance backup backups/alliance-$(date +%F).backup
      alliance restore backups/alliance-2026-11-22.backup
    """
    setup_django()
    db = database()
    kind = vendor(db)
    if path.exists():
        raise BackupError(f"{path} already exists; a backup never replaces a file, choose a "
                          "new name")
    if not path.parent.is_dir():
        raise BackupError(f"the folder {path.parent} does not exist")
    partial = path.with_name(f".{path.name}.partial")
    started = time.monotonic()
    try:
        # Owner-only from the start (the copy holds every client's data); pg_dump and
        # SQLite write into the file and keep its rights, and so does the rename.
        partial.unlink(missing_ok=True)
        new_private_file(partial)
        if kind == "sqlite":
            backup_sqlite(Path(db["NAME"]), partial)
        else:
            backup_postgresql(db, partial)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, (click.ClickException, OSError, sqlite3.Error)):
            audit("backup", "failure", f"to {path.name}: {exc}")
        if isinstance(exc, (OSError, sqlite3.Error)):
            raise BackupError(f"the backup failed: {exc}") from None
        raise
    seconds = time.monotonic() - started
    audit("backup", "success", f"to {path.name} ({size_text(path)})")
    anchor_note()
    click.echo(f"Backed up the {describe(db)} to {path} ({size_text(path)}, "
               f"{seconds:.1f} s).")


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace a database that already holds data.")
def restore(path: Path, force: bool) -> None:
    """Restore the database from a backup made by `alliance backup`.

    Stop the server first. The database the settings name must be empty (a new SQLite file,
    or a new PostgreSQL database, migrated or not) unless --force is given; then its
    contents are replaced. A backup restores into the same kind of database it came from.

    \b
    Example:
      alliance restore backups/alliance-2026-11-22.backup
      alliance restore --force backups/alliance-2026-11-22.backup
    """
    setup_django()
    db = database()
    kind = vendor(db)
    found = kind_of_file(path)
    if found != kind:
        names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
        raise BackupError(f"{path} is a {names[found]} backup but the settings name a "
                          f"{names[kind]} database; restore it into a {names[found]} database")
    started = time.monotonic()
    try:
        if kind == "sqlite":
            restore_sqlite(path, Path(db["NAME"]), force)
        else:
            restore_postgresql(path, db, force)
    except (click.ClickException, sqlite3.Error) as exc:
        # Recorded where the database has a trail (a refused restore left it untouched).
        audit("restore", "failure", f"from {path.name}: {exc}"[:500], quiet=True)
        if isinstance(exc, sqlite3.Error):
            raise BackupError(f"the restore failed: {exc}") from None
        raise
    seconds = time.monotonic() - started
    audit("restore", "success", f"from {path.name}" + (" (replacing data)" if force else ""))
    anchor_note(reset=True)
    click.echo(f"Restored the {describe(db)} from {path} ({seconds:.1f} s). Start the server "
               "with `alliance serve`: it applies any newer migrations first.")


COMMANDS = [backup, restore]

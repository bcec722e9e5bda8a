"""Crash test: the production server killed at random moments loses no acknowledged check-in.

The server runs as `alliance serve` does (gunicorn, production settings, plain HTTP on
127.0.0.1) against a database of its own: a temporary SQLite file, or a new database on the
PostgreSQL server when the suite runs there. Clients submit check-ins through fresh links
while the whole process group is killed with SIGKILL at random moments and started again.
A submission counts as acknowledged when the client got the redirect to the thank-you page.
Afterwards the database is consistent (SQLite's integrity and foreign-key checks; on
PostgreSQL, row counts and the relations between links, forms and sessions) and every
acknowledged submission is stored. On SQLite, an `alliance backup` taken while the server
runs holds every submission acknowledged before it started. In passing, the first start
checks the production caching: pages no-store, hashed static files cached as immutable.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"
ALLIANCE = str(Path(sys.executable).with_name("alliance"))
LINKS = 150
KILLS = 3  # starts, each ended by SIGKILL
CLIENTS = 4
# A new clinic's session check-in: the short alliance check-in and the wellbeing one.
ANSWERS = {"heard": "8", "aims": "6", "way": "7", "wellbeing-self": "5", "wellbeing-close": "6",
           "wellbeing-everyday": "5", "wellbeing-overall": "6"}
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
STYLESHEET = re.compile(r'href="(/static/alliance/css/alliance\.[0-9a-f]+\.css)"')

SEED = """
import json
from datetime import date, timedelta
from alliance.cli.server import prepare_server
prepare_server()
from django.contrib.auth import get_user_model
from alliance.web.care import services as care
from alliance.web.care.models import Session
from alliance.web.checkins import services as checkins
from alliance.web.clinics.models import Clinic, StaffMember
clinic = Clinic.objects.create(name="Crash Test Counselling")
user = get_user_model().objects.create_user("t@crash.example", "t@crash.example")
therapist = StaffMember.objects.create(user=user, clinic=clinic, role="therapist",
                                       display_name="Therapist")
links = []
for number in range(%(cases)d):
    case = care.admit_client(therapist, code=f"C-CRASH{number}", contact_email="",
                             modality="cbt", start_date=date(2026, 1, 5))
    for week in range(%(per_case)d):
        session = care.record_session(case, date=date(2026, 1, 5) + timedelta(days=7 * week),
                                      status=Session.Status.ATTENDED)
        issued = checkins.issue_link(session, "alliance-brief", by=therapist)
        links.append([issued.path, issued.link.pk])
print(json.dumps(links))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def server_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    # The suite's own ALLIANCE_* values (keys for tests only) with production settings.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update({"DJANGO_SETTINGS_MODULE": "alliance.web.settings", "ALLIANCE_DEBUG": "false",
                "ALLIANCE_HTTPS": "false", "ALLIANCE_DATA_DIR": str(data_dir),
                "ALLIANCE_ALLOWED_HOSTS": HOST, "ALLIANCE_LOG_LEVEL": "WARNING"})
    env.setdefault("ALLIANCE_SECRET_KEY", "crash-test-only-secret-key-" + "0123456789" * 4)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


class Server:
    """`alliance serve --no-prepare` in its own process group."""

    def __init__(self, env: dict, port: int, log: Path):
        self.port = port
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [ALLIANCE, "serve", "--no-prepare", "--host", HOST, "--port", str(port),
                 "--workers", "1", "--threads", str(CLIENTS)],
                env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                start_new_session=True)

    def wait_ready(self, timeout=90.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            with suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/login/")
                if conn.getresponse().status == 200:
                    return
            time.sleep(0.1)
        raise AssertionError("the server did not start:\n" + self.log.read_text()[-3000:])

    def kill(self):
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def caching(port: int) -> tuple[str, str]:
    """Cache-Control of the sign-in page and of its (hashed) stylesheet."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", "/login/")
        page = conn.getresponse()
        stylesheet = STYLESHEET.search(page.read().decode())
        assert stylesheet, "the sign-in page links no hashed stylesheet"
        conn.request("GET", stylesheet.group(1))
        static = conn.getresponse()
        static.read()
        assert static.status == 200
        return page.getheader("Cache-Control", ""), static.getheader("Cache-Control", "")
    finally:
        conn.close()


def submit(port: int, path: str) -> bool:
    """Open the link and submit answers; True when the thank-you redirect came back."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", path)
        page = conn.getresponse()
        html = page.read().decode()
        cookie = page.getheader("Set-Cookie", "").split(";")[0]
        token = CSRF.search(html)
        if page.status != 200 or token is None:
            return False
        body = urlencode({**ANSWERS, "csrfmiddlewaretoken": token.group(1)})
        conn.request("POST", path, body, {"Cookie": cookie,
                                          "Content-Type": "application/x-www-form-urlencoded"})
        answer = conn.getresponse()
        answer.read()
        return answer.status == 302 and answer.getheader("Location", "").startswith("/c/thanks/")
    except (OSError, http.client.HTTPException):
        return False  # the server died under this request: not acknowledged
    finally:
        conn.close()


class Clients:
    """Threads that take links one by one and submit them while `running` is set."""

    def __init__(self, links):
        self.links = list(links)
        self.lock = threading.Lock()
        self.acknowledged: list[int] = []  # link ids, in the order acknowledged
        self.tried = 0
        self.port = None
        self.running = threading.Event()
        self.stopped = False
        self.threads = [threading.Thread(target=self.work, daemon=True) for _ in range(CLIENTS)]

    def work(self):
        while not self.stopped:
            if not self.running.wait(timeout=0.1):
                continue
            with self.lock:
                if not self.links:
                    return
                path, link_id = self.links.pop()
                self.tried += 1
            if submit(self.port, path):
                with self.lock:
                    self.acknowledged.append(link_id)

    def start(self):
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stopped = True
        for thread in self.threads:
            thread.join(timeout=30)


def sqlite_state(path: Path) -> tuple[str, list, set[int]]:
    conn = sqlite3.connect(path)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        stored = {row[0] for row in conn.execute(
            "SELECT l.id FROM checkins_checkinlink l JOIN checkins_administration a "
            "ON a.id = l.administration_id "
            "WHERE l.used_at IS NOT NULL AND a.submitted_at IS NOT NULL")}
        return integrity, broken, stored
    finally:
        conn.close()


def postgres_state(settings_dict, name) -> tuple[dict, list, set[int]]:
    import psycopg

    with psycopg.connect(dbname=name, user=settings_dict["USER"],
                         password=settings_dict["PASSWORD"] or None,
                         host=settings_dict["HOST"] or None,
                         port=settings_dict["PORT"] or None) as conn, conn.cursor() as cur:
        counts = {}
        for table in ("checkins_checkinlink", "checkins_administration", "care_session"):
            cur.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cur.fetchone()[0]
        # Relations PostgreSQL enforces anyway, checked again: none may dangle, and a used
        # link always has its form submitted (both change in one transaction).
        cur.execute("SELECT l.id FROM checkins_checkinlink l LEFT JOIN checkins_administration "
                    "a ON a.id = l.administration_id WHERE a.id IS NULL "
                    "OR (l.used_at IS NOT NULL AND a.submitted_at IS NULL)")
        broken = cur.fetchall()
        cur.execute("SELECT a.id FROM checkins_administration a LEFT JOIN care_session s "
                    "ON s.id = a.session_id WHERE s.id IS NULL")
        broken += cur.fetchall()
        cur.execute("SELECT l.id FROM checkins_checkinlink l JOIN checkins_administration a "
                    "ON a.id = l.administration_id "
                    "WHERE l.used_at IS NOT NULL AND a.submitted_at IS NOT NULL")
        return counts, broken, {row[0] for row in cur.fetchall()}


@pytest.fixture
def crash_database(tmp_path, django_db_blocker):
    """(DATABASE_URL or None for SQLite, the SQLite file, the PostgreSQL database name)."""
    if connection.vendor == "sqlite":
        yield None, tmp_path / "var" / "alliance.sqlite3", None
        return
    with django_db_blocker.unblock():
        source = connection.settings_dict
        name = f"alliance_crash_{os.getpid()}"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}"')
        user = source["USER"] + (f":{source['PASSWORD']}" if source["PASSWORD"] else "")
        url = f"postgres://{user}@{source['HOST'] or 'localhost'}:{source['PORT'] or 5432}/{name}"
    try:
        yield url, None, name
    finally:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_acknowledged_check_ins_survive_the_server_being_killed(crash_database, tmp_path):
    database_url, sqlite_path, pg_name = crash_database
    env = server_env(tmp_path, database_url)
    seeded = subprocess.run([sys.executable, "-c", SEED % {"cases": 10, "per_case": LINKS // 10}],
                            env=env, capture_output=True, text=True, timeout=300)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    links = json.loads(seeded.stdout.strip().splitlines()[-1])
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    rng.shuffle(links)
    clients = Clients(links)
    clients.start()
    log = tmp_path / "server.log"
    backup, acknowledged_before_backup = tmp_path / "online.backup", None
    try:
        for round_ in range(KILLS):
            server = Server(env, free_port(), log)
            try:
                server.wait_ready()
                if round_ == 0:
                    # In passing: pages are never stored, static files for a long time.
                    page, static = caching(server.port)
                    assert "no-store" in page
                    assert "no-store" not in static and "immutable" in static, static
                clients.port = server.port
                clients.running.set()
                if round_ == KILLS - 1 and sqlite_path is not None:
                    time.sleep(rng.uniform(0.3, 1.0))
                    with clients.lock:
                        acknowledged_before_backup = set(clients.acknowledged)
                    made = subprocess.run([ALLIANCE, "backup", str(backup)], env=env,
                                          capture_output=True, text=True, timeout=120)
                    assert made.returncode == 0, made.stderr
                time.sleep(rng.uniform(0.5, 2.5))  # a random moment in the stream
            finally:
                # No new submissions (a link tried on a dead server is wasted), while those
                # under way meet the SIGKILL of gunicorn's whole process group.
                clients.running.clear()
                server.kill()
    finally:
        clients.stop()

    acknowledged = set(clients.acknowledged)
    context = f"seed {seed}: {len(acknowledged)} acknowledged of {clients.tried} tried"
    assert len(acknowledged) >= 10, context  # the stream really ran
    if sqlite_path is not None:
        integrity, broken, stored = sqlite_state(sqlite_path)
        assert integrity == "ok", context
        assert broken == [], context
        in_backup = sqlite_state(backup)
        assert in_backup[0] == "ok" and in_backup[1] == []
        assert acknowledged_before_backup <= in_backup[2], context
    else:
        counts, broken, stored = postgres_state(connection.settings_dict, pg_name)
        assert counts["checkins_checkinlink"] == len(links), context
        # Each session's check-in: the short alliance form and the wellbeing form.
        assert counts["checkins_administration"] == 2 * len(links), context
        assert broken == [], context
    assert acknowledged <= stored, f"{context}; lost: {sorted(acknowledged - stored)[:10]}"

"""Benchmark: the production web server under load, on SQLite and on PostgreSQL.

For each database, in a temporary data folder:

1. the demo clinic is seeded (`alliance.web.demo.seed_demo`) after the migrations, and
   fresh check-in links are issued for the submission load: new attended sessions are
   recorded for the active cases (`care.services.record_session`, dated weekly after
   each case's last session) and each gets a link to both client check-ins
   (`checkins.services.issue_link`), so that no link is answered twice;
2. the production server starts the way `alliance demo` runs it: `alliance serve`
   (gunicorn, DEBUG off, WhiteNoise, plain HTTP on 127.0.0.1, and the background worker
   that recomputes signals) with its default workers and threads unless
   --workers/--threads are given; its stderr (Django's log, with any "database is
   locked") and access log are kept in files;
3. this process, a second process on loopback, runs the load with virtual users on
   threads (`load_client.py`), closed loop, without pauses between requests unless
   --think is given:
   - check-in: each user opens a fresh link (GET the form, which sets the CSRF cookie)
     and submits answers to it (POST with the CSRF token; success is the redirect to
     the thank-you page); every link comes from its own loopback address (127.1.x.y),
     as each client answers on their own phone, so the per-address limits of link
     pages (ALLIANCE_TOKEN_REQUESTS_PER_MINUTE) apply as they would in a clinic;
   - caseload: each user is a therapist of the demo clinic, logged in once before the
     timing starts, and GETs /cases/ again and again;
   - mix: half the users do the first, half the second, at the same time.
   Each scenario stops after --seconds or --max-requests, whichever comes first; a
   short unrecorded warm-up runs first. After each scenario the background worker is
   given time to work through the recomputations the submissions enqueued: the report
   gives how long the signals took to catch up, and how many tasks ran, were superseded
   by a later one for the same case, or failed;
4. the server is stopped, and the requests are timed once more inside this process with
   Django's test client (no network, no concurrency) to see where the time goes: the
   caseload view and its queries, a submission (which enqueues the recomputation), and
   the recomputation of one case as the worker runs it.

PostgreSQL comes from scripts/test-postgres.sh (a throwaway cluster on 127.0.0.1,
installed with apt-get when missing). The servers, the cluster and the data folders are
removed however the run ends.

    .venv/bin/python benchmarks/web_load.py            # or: make bench-web
    .venv/bin/python benchmarks/web_load.py --quick    # smoke test: 3 s per scenario, 4 users
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_client import (Run, VirtualUser, fill_form, parse_form, run_users, summarise,
                         summarise_by_kind)

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SCRIPT = ROOT / "scripts" / "test-postgres.sh"
HOST = "127.0.0.1"
DATABASES = ("sqlite", "postgresql")
SCENARIOS = ("check-in", "caseload", "mix")
TARGET_P95_MS = 150.0
WARMUP_SECONDS = 3.0
WARMUP_REQUESTS = 200
PROFILE_REPEAT = 15
LINKS_PER_SECOND = 25
THANKS_PATH = "/c/thanks/"
LOCKED = "database is locked"


class Stop(Exception):
    """SIGTERM arrived: unwind so that every `finally` runs."""


def _raise_stop(signum, frame):
    raise Stop(f"signal {signum}")


# --------------------------------------------------------------------------- settings

def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 3 s per scenario, 4 users, 300 requests at most")
    parser.add_argument("--seconds", type=float, default=None,
                        help="longest time per scenario (default 30; 3 with --quick)")
    parser.add_argument("--users", type=int, default=None,
                        help="concurrent virtual users (default 20; 4 with --quick)")
    parser.add_argument("--max-requests", type=int, default=None,
                        help="most requests per scenario (default 3000; 300 with --quick)")
    parser.add_argument("--links-per-second", type=float, default=LINKS_PER_SECOND,
                        help="check-in links issued per second of a scenario (default "
                             f"{LINKS_PER_SECOND}; each is a new session of a case)")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean pause of a user between actions, in seconds (exponential);"
                             " default 0: every user sends its next request at once")
    parser.add_argument("--databases", default=",".join(DATABASES),
                        help="comma-separated: sqlite, postgresql (default both)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: alliance serve's, 2 x cores + 1)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per worker (default: alliance serve's, 1)")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the in-process timing after the load")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--seed", type=int, default=1, help="seed of the answers and link order")
    # Internal: one database, run by the main process (under test-postgres.sh for PostgreSQL).
    parser.add_argument("--run-one", choices=DATABASES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    quick = args.quick
    if args.seconds is None:
        args.seconds = 3.0 if quick else 30.0
    if args.users is None:
        args.users = 4 if quick else 20
    if args.max_requests is None:
        args.max_requests = 300 if quick else 3000
    if args.users < 2:
        parser.error("--users must be at least 2 (the mix has both kinds)")
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    for name in args.databases:
        if name not in DATABASES:
            parser.error(f"unknown database {name!r}: choose from {', '.join(DATABASES)}")
    return args


PROFILE_LINKS = 2 * PROFILE_REPEAT + 2


def links_per_scenario(args) -> int:
    """Links for one scenario: a check-in takes 2 requests, so at most max_requests / 2,
    and no more than --links-per-second a second (every link is a new session added to a
    case). A scenario that runs out stops early, and the report says so."""
    return min(args.max_requests // 2, math.ceil(args.links_per_second * args.seconds))


def links_needed(args) -> int:
    """Links for the warm-up, the check-in scenario, the mix and the in-process timing."""
    return WARMUP_REQUESTS // 2 + 2 * links_per_scenario(args) + PROFILE_LINKS


def share_links(tokens: list[str], args) -> dict[str, list[str]]:
    """Each use its own links, so that one scenario cannot take another's."""
    sizes = {"warm-up": WARMUP_REQUESTS // 2, "check-in": links_per_scenario(args),
             "mix": links_per_scenario(args), "profile": PROFILE_LINKS}
    pools, start = {}, 0
    for name, size in sizes.items():
        pools[name] = tokens[start:start + size]
        start += size
    return pools


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- seeding

def seed(folder: Path, port: int, links: int, rng: random.Random) -> dict:
    """Migrate, seed the demo clinic and issue `links` fresh check-in links (this process)."""
    from alliance.cli.demo import demo_environment, new_password

    os.environ.update(demo_environment(folder / "var", HOST, port))
    os.environ["ALLIANCE_DATA_DIR"] = str(folder)
    os.environ["ALLIANCE_LOG_LEVEL"] = "WARNING"
    from alliance.cli.server import prepare_server

    password = new_password()
    started = time.perf_counter()
    prepare_server()  # migrate, collectstatic (also sets Django up)
    from django.db import connections

    from alliance.web import demo

    seeded = demo.seed_demo(password)
    seeded_s = time.perf_counter() - started
    started = time.perf_counter()
    tokens, sessions = issue_links(seeded.clinic, links, rng)
    issued_s = time.perf_counter() - started
    if connections["default"].vendor == "postgresql":
        # Planner statistics, as autovacuum keeps them in a database in use (it would
        # otherwise analyze the freshly seeded tables at some moment during the load).
        with connections["default"].cursor() as cursor:
            cursor.execute("ANALYZE")
    therapists = list(demo.THERAPIST_EMAILS)
    from django.db.models import Count

    from alliance.web.care.models import Case

    counts = [c.n for c in Case.objects.filter(client__clinic=seeded.clinic, status="active")
              .annotate(n=Count("sessions"))]
    connections.close_all()
    return {"password": password, "tokens": tokens, "therapists": therapists,
            "clinic_id": seeded.clinic.pk, "seed_seconds": seeded_s,
            "links_seconds": issued_s, "new_sessions": sessions,
            "active_cases": len(counts),
            "sessions_per_active_case": round(statistics.mean(counts), 1) if counts else 0}


def issue_links(clinic, count: int, rng: random.Random) -> tuple[list[str], int]:
    """`count` fresh links to client check-ins, on new attended sessions of active cases.

    Sessions go round the active cases, each dated a week after the case's last one;
    each session gets a link to every client check-in in use. Signals are recomputed
    once at the end (as a bulk import does), not after every session.
    """
    from django.db import transaction
    from django.db.models import Max

    from alliance.web import demo
    from alliance.web.care import services as care
    from alliance.web.care.models import Case, Session
    from alliance.web.checkins import services as checkins
    from alliance.web.monitoring.recompute import deferred_recomputation

    forms = [f for f in (demo.CLIENT_FORM, demo.WELLBEING_FORM) if f in clinic.instruments_in_use]
    cases = list(Case.objects.filter(client__clinic=clinic, status=Case.Status.ACTIVE)
                 .select_related("client__clinic", "therapist")
                 .annotate(last=Max("sessions__date")).order_by("pk"))
    last = {case.pk: case.last or case.start_date for case in cases}
    tokens: list[str] = []
    sessions = 0
    with deferred_recomputation(), transaction.atomic():
        while len(tokens) < count:
            case = cases[sessions % len(cases)]
            last[case.pk] = last[case.pk] + timedelta(days=7)
            session = care.record_session(case, date=last[case.pk],
                                          status=Session.Status.ATTENDED)
            sessions += 1
            for form in forms:
                tokens.append(checkins.issue_link(session, form, by=case.therapist).token)
    rng.shuffle(tokens)
    return tokens[:count], sessions


def versions(database: str) -> dict:
    import sqlite3

    import django
    import gunicorn
    from django.db import connection

    found = {"python": platform.python_version(), "django": django.get_version(),
             "gunicorn": gunicorn.__version__, "sqlite": sqlite3.sqlite_version}
    if database == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            found["postgresql"] = cursor.fetchone()[0].split()[0]
        connection.close()
    return found


# --------------------------------------------------------------------------- the server

class Server:
    """`alliance serve` in its own process group, logs in files under `folder`."""

    def __init__(self, folder: Path, port: int, workers: int | None, threads: int | None):
        self.port = port
        self.log_path = folder / "server.log"
        self.access_path = folder / "access.log"
        env = os.environ.copy()
        command = [str(Path(sys.executable).with_name("alliance")), "serve",
                   "--no-prepare", "--host", HOST, "--port", str(port)]
        if workers:
            command += ["--workers", str(workers)]
        if threads:
            command += ["--threads", str(threads)]
        # Open for the server's lifetime; closed in stop().
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        self._access = open(self.access_path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(command, stdout=self._access, stderr=self._log,
                                        stdin=subprocess.DEVNULL, start_new_session=True,
                                        env=env)
        self._offset = 0

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        probe = VirtualUser(HOST, self.port, record=False, timeout=5)
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server stopped while starting:\n" + self.log_tail())
            if probe.get("probe", "/login/").status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError("the server did not answer in time:\n" + self.log_tail())

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def new_log(self) -> str:
        """What the server wrote to stderr since the last call."""
        with open(self.log_path, "rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        self._offset += len(data)
        return data.decode("utf-8", errors="replace")

    def stop(self) -> None:
        """SIGTERM to the whole group (gunicorn shuts down gracefully), SIGKILL if it lingers."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                pass
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)
        self._log.close()
        self._access.close()


def group_cpu_seconds(pgid: int) -> float:
    """CPU time (user + system) of the live processes of a process group (Linux /proc)."""
    ticks = sum(t for _, _, group, t, _ in _processes() if group == pgid)
    return ticks / os.sysconf("SC_CLK_TCK")


def _processes():
    """(pid, ppid, pgrp, cpu ticks, command line) of every process (Linux /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError, ValueError, IndexError):
            # after "(comm)": state ppid pgrp ...; utime, stime, cutime, cstime are the
            # 12th to 15th (cutime and cstime: its children that ended, e.g. a worker or a
            # database backend that exited, so that their time is not lost)
            after = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().split(b"\0")
            yield (int(entry.name), int(after[1]), int(after[2]),
                   sum(int(x) for x in after[11:15]), command)


def postgres_cpu_seconds(port: int) -> float:
    """CPU time of the PostgreSQL server listening on `port` and its backends."""
    rows = list(_processes())
    flag = str(port).encode()
    masters = {pid for pid, _, _, _, cmd in rows
               if cmd and cmd[0].endswith(b"postgres") and b"-p" in cmd
               and flag in cmd[cmd.index(b"-p") + 1:cmd.index(b"-p") + 2]}
    ticks = sum(t for pid, ppid, _, t, _ in rows if pid in masters or ppid in masters)
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all cores spent busy since boot (/proc/stat: everything but idle and iowait)."""
    with suppress(OSError, ValueError, IndexError):
        values = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")
    return 0.0


def log_counts(text: str) -> dict[str, int]:
    """Problems in a stretch of the server's log: "database is locked", tracebacks, errors."""
    lines = text.splitlines()
    return {"database_locked": sum(LOCKED in line.lower() for line in lines),
            "tracebacks": sum(line.startswith("Traceback") for line in lines),
            "error_lines": sum(" ERROR " in line or "[CRITICAL]" in line for line in lines),
            "worker_timeouts": sum("WORKER TIMEOUT" in line for line in lines)}


# --------------------------------------------------------------------------- scenarios

def database_port() -> int:
    """The PostgreSQL port from DATABASE_URL (0 for SQLite)."""
    from urllib.parse import urlsplit

    url = os.environ.get("DATABASE_URL")
    return (urlsplit(url).port or 5432) if url else 0


def client_address(n: int) -> str:
    """The n-th client's phone: its own loopback address (127.1.0.1, 127.1.0.2, ...)."""
    return f"127.1.{n // 250 % 250}.{n % 250 + 1}"


def make_checkin_step(tokens: list[str], rng: random.Random):
    phones = itertools.count()

    def step(user: VirtualUser) -> bool:
        try:
            token = tokens.pop()
        except IndexError:  # every link used: this user is done
            return False
        # Each link is a different client, in their own browser on their own phone: the
        # per-address limits of link pages see many people, as in a clinic, not one
        # address sending hundreds of links a minute.
        user.come_from(client_address(next(phones)))
        path = f"/c/{token}/"
        page = user.get("check-in form", path)
        if page.error:
            return True
        data = fill_form(parse_form(page.text), rng)
        user.post("check-in submit", path, data, redirect_to=THANKS_PATH)
        return True
    return step


def caseload_step(user: VirtualUser) -> bool:
    user.get("caseload", "/cases/")
    return True


def log_in(user: VirtualUser, email: str, password: str) -> None:
    user.record = False
    page = user.get("login form", "/login/")
    form = parse_form(page.text)
    data = {**form.hidden, "username": email, "password": password}
    reply = user.post("login", "/login/", data)
    user.record = True
    if reply.error:
        raise RuntimeError(f"{email} could not log in: {reply.error}")


def log_in_all(users: list[VirtualUser], emails: list[str], password: str) -> None:
    # Password hashing is deliberately slow: log the users in in parallel, untimed.
    import threading

    problems: list[str] = []

    def one(user, email):
        try:
            log_in(user, email, password)
        except Exception as exc:  # noqa: BLE001 - reported together below
            problems.append(str(exc))

    threads = [threading.Thread(target=one, args=(u, emails[i % len(emails)]))
               for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if problems:
        raise RuntimeError("; ".join(problems))


def run_scenarios(server: Server, setup: dict, args, rng: random.Random) -> dict:
    pools = setup["links"]
    db_port = database_port()
    n = args.users
    therapists = [VirtualUser(HOST, server.port, name=f"therapist-{i}") for i in range(n)]
    log_in_all(therapists, setup["therapists"], setup["password"])
    clients = [VirtualUser(HOST, server.port, name=f"client-{i}") for i in range(n)]
    half = n // 2

    def mix(links):
        checkin = make_checkin_step(links, rng)
        return ([(u, checkin, 2) for u in clients[:half]]
                + [(u, caseload_step, 1) for u in therapists[:n - half]])

    plans = {
        "check-in": [(u, make_checkin_step(pools["check-in"], rng), 2) for u in clients],
        "caseload": [(u, caseload_step, 1) for u in therapists],
        "mix": mix(pools["mix"]),
    }
    # Warm-up: every worker loads its views, templates and caches; not recorded.
    run_users(mix(pools["warm-up"]), seconds=WARMUP_SECONDS, max_requests=WARMUP_REQUESTS)
    server.new_log()
    results = {}
    for name in SCENARIOS:
        tokens = pools.get(name, [])
        links_before = len(tokens)
        load = os.getloadavg()[0]
        server_cpu, db_cpu, busy = (group_cpu_seconds(server.process.pid),
                                    postgres_cpu_seconds(db_port), machine_busy_seconds())
        started_tasks = task_ids()
        run = run_users(plans[name], seconds=args.seconds, max_requests=args.max_requests,
                        think=args.think, seed=args.seed)
        server_cpu = group_cpu_seconds(server.process.pid) - server_cpu
        db_cpu = postgres_cpu_seconds(db_port) - db_cpu
        busy = machine_busy_seconds() - busy
        catch_up = worker_catch_up(started_tasks)
        time.sleep(0.5)  # let the server finish writing its log
        results[name] = scenario_result(run, server.new_log(), links_before - len(tokens),
                                        exhausted=name in pools and not tokens)
        results[name]["worker"] = catch_up
        results[name]["cpu"] = {
            "server_seconds": round(server_cpu, 2),
            "server_ms_per_request": round(1000 * server_cpu / max(1, len(run.samples)), 1),
            "database_seconds": round(db_cpu, 2),
            "client_seconds": round(run.client_cpu_seconds, 2),
            # what else ran on the machine meanwhile (other programs), in cores
            "other_cores": round(max(0.0, busy - server_cpu - db_cpu - run.client_cpu_seconds)
                                 / run.seconds, 2),
            "load_average_before": round(load, 2)}
        print(f"  {name:>9}: {format_line(results[name])}", file=sys.stderr, flush=True)
    return results


def task_ids() -> set:
    from django_tasks_db.models import DBTaskResult

    return set(DBTaskResult.objects.values_list("id", flat=True))


def worker_catch_up(before: set, timeout: float = 300.0) -> dict:
    """Wait until the worker has run every task the scenario enqueued; what it did."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    started = time.perf_counter()
    while True:
        rows = DBTaskResult.objects.exclude(id__in=before)
        waiting = rows.filter(status__in=["READY", "RUNNING"]).count()
        if not waiting or time.perf_counter() - started > timeout:
            break
        time.sleep(0.2)
    outcomes = {}
    for status, value in rows.values_list("status", "return_value"):
        key = value if status == "SUCCESSFUL" else status.lower()
        outcomes[key] = outcomes.get(key, 0) + 1
    connection.close()
    return {"catch_up_seconds": round(time.perf_counter() - started, 1), "waiting": waiting,
            "outcomes": outcomes}


def scenario_result(run: Run, log: str, links_used: int, exhausted: bool) -> dict:
    total = summarise(run.samples, run.seconds)
    return {"summary": total.to_dict(),
            "by_request": {k: v.to_dict() for k, v in summarise_by_kind(run.samples,
                                                                        run.seconds).items()},
            "server_log": log_counts(log), "links_used": links_used,
            "links_exhausted": exhausted, "failures": run.failures[:10]}


def format_line(result: dict) -> str:
    s = result["summary"]
    cpu = result.get("cpu", {})
    return (f"{s['requests']} requests, {s['throughput_per_s']:.0f}/s, p50 {s['p50_ms']:.0f} ms,"
            f" p95 {s['p95_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, {s['errors']} errors, "
            f"{result['server_log']['database_locked']} 'database is locked'; server CPU "
            f"{cpu.get('server_ms_per_request')} ms/request, other work on the machine "
            f"{cpu.get('other_cores')} cores")


# --------------------------------------------------------------------------- in-process timing

def _median_ms(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def profile(setup: dict, rng: random.Random, repeat: int = PROFILE_REPEAT) -> dict:
    """Time the two requests in this process with Django's test client (server stopped)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from alliance.web.checkins.services import open_link
    from alliance.web.monitoring.recompute import recompute_case_signals

    # The server's processes move what they loaded at start out of the garbage
    # collector's reach (alliance/web/wsgi.py); do the same with this process's far larger
    # heap (the seeded clinic, the load's samples), or full collections inflate the times.
    # (The worker does not freeze; timed in a fresh process, a recomputation took the same
    # time either way.)
    gc.collect()
    gc.freeze()
    found: dict = {}
    browser = Client(HTTP_HOST=HOST)
    browser.force_login(get_user_model().objects.get(username=setup["therapists"][0]))
    browser.get("/cases/")
    with CaptureQueriesContext(connection) as queries:
        status = browser.get("/cases/").status_code
    if status != 200:
        raise RuntimeError(f"the caseload answered {status}")
    found["caseload_queries"] = len(queries)
    found["caseload_ms"] = _median_ms(lambda: browser.get("/cases/"), repeat)

    tokens = setup["links"]["profile"]

    def submit(token: str) -> int:
        client = Client(HTTP_HOST=HOST)
        path = f"/c/{token}/"
        data = fill_form(parse_form(client.get(path).content.decode()), rng)
        return client.post(path, data).status_code

    def timed_submits(count: int) -> tuple[float, int]:
        times, counts = [], []
        for _ in range(count):
            token = tokens.pop()
            client = Client(HTTP_HOST=HOST)
            path = f"/c/{token}/"
            data = fill_form(parse_form(client.get(path).content.decode()), rng)
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                status = client.post(path, data).status_code
                times.append((time.perf_counter() - started) * 1000)
            if status != 302:
                raise RuntimeError(f"a submission answered {status}")
            counts.append(len(queries))
        return statistics.median(times), round(statistics.median(counts))

    submit(tokens.pop())  # warm
    found["submit_ms"], found["submit_queries"] = timed_submits(repeat)
    case = open_link(tokens[-1]).administration.session.case
    found["recompute_ms"] = _median_ms(lambda: recompute_case_signals(case), repeat)
    with CaptureQueriesContext(connection) as queries:
        recompute_case_signals(case)
    found["recompute_queries"] = len(queries)
    connection.close()
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in found.items()}


# --------------------------------------------------------------------------- one database

def run_one(args) -> None:
    """Seed, serve, load and time one database; write the results to args.out."""
    signal.signal(signal.SIGTERM, _raise_stop)
    database = args.run_one
    if database == "postgresql" and not os.environ.get("DATABASE_URL"):
        raise SystemExit("PostgreSQL run without DATABASE_URL (run it through "
                         "scripts/test-postgres.sh)")
    if database == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    rng = random.Random(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="alliance-load."))
    server = None
    try:
        port = free_port()
        print(f"{database}: seeding the demo clinic and {links_needed(args)} check-in links",
              file=sys.stderr, flush=True)
        setup = seed(folder, port, links_needed(args), rng)
        setup["links"] = share_links(setup["tokens"], args)
        result = {"database": database, "versions": versions(database),
                  "seed_seconds": round(setup["seed_seconds"], 1),
                  "links_seconds": round(setup["links_seconds"], 1),
                  "links": len(setup["tokens"]), "new_sessions": setup["new_sessions"],
                  "active_cases": setup["active_cases"],
                  "sessions_per_active_case": setup["sessions_per_active_case"]}
        from alliance.cli.server import default_workers

        result["workers"] = args.workers or default_workers()
        result["threads"] = args.threads or 1
        server = Server(folder, port, args.workers, args.threads)
        server.wait_ready()
        print(f"{database}: gunicorn with {result['workers']} workers x {result['threads']} "
              f"thread(s); {args.users} users, {args.seconds:g} s or {args.max_requests} "
              "requests per scenario", file=sys.stderr, flush=True)
        result["scenarios"] = run_scenarios(server, setup, args, rng)
        server.stop()
        result["server_log_after"] = log_counts(server.new_log())
        server = None
        if not args.no_profile:
            result["profile"] = profile(setup, rng)
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- the report

def machine() -> dict:
    model = platform.processor() or "unknown"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cpu": model, "cores": os.cpu_count(), "system": f"{platform.system()} "
            f"{platform.release()}", "date": date.today().isoformat(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def verdict(result: dict) -> str:
    s = result["summary"]
    ok = (s["p95_ms"] < TARGET_P95_MS and s["errors"] == 0
          and result["server_log"]["database_locked"] == 0)
    return "yes" if ok else "no"


def report(results: list[dict], info: dict, args) -> str:
    lines = []
    first = results[0]["versions"] if results else {}
    pg = next((r["versions"].get("postgresql") for r in results
               if "postgresql" in r["versions"]), None)
    lines.append(f"Machine: {info['cpu']}, {info['cores']} cores; {info['system']}; "
                 f"Python {first.get('python')}, Django {first.get('django')}, gunicorn "
                 f"{first.get('gunicorn')}, SQLite {first.get('sqlite')}"
                 + (f", PostgreSQL {pg}" if pg else "")
                 + f"; run on {info['date']} (load average before: "
                 f"{', '.join(map(str, info['load_average']))}).")
    if results:
        r = results[0]
        pace = (f"a mean pause of {args.think:g} s between a user's actions" if args.think
                else "no pause between a user's requests")
        lines.append(f"Data: the demo clinic, {r['active_cases']} active cases with "
                     f"{r['sessions_per_active_case']} sessions on average (after adding "
                     f"{r['new_sessions']} sessions for {r['links']} check-in links).")
        lines.append(f"Server: gunicorn, {r['workers']} workers x {r['threads']} thread(s); "
                     f"{args.users} users, {pace}; {args.seconds:g} s or {args.max_requests} "
                     "requests per scenario.")
    lines.append("")
    lines.append("| database | scenario | requests | req/s | p50 ms | p95 ms | p99 ms | errors "
                 "| \"database is locked\" | CPU ms / request | target met |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    for r in results:
        for name, sc in r["scenarios"].items():
            s = sc["summary"]
            cpu = sc["cpu"]
            per_request = (cpu["server_seconds"] + cpu["database_seconds"]) * 1000 \
                / max(1, s["requests"])
            lines.append(f"| {r['database']} | {name} | {s['requests']:,} | "
                         f"{s['throughput_per_s']:.0f} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} | "
                         f"{s['p99_ms']:.0f} | {s['errors']} | "
                         f"{sc['server_log']['database_locked']} | {per_request:.0f} | "
                         f"{verdict(sc)} |")
    lines.append("")
    lines.append("| database | scenario | request | count | p50 ms | p95 ms | p99 ms | errors |")
    lines.append("|---|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        for name, sc in r["scenarios"].items():
            for kind, s in sc["by_request"].items():
                lines.append(f"| {r['database']} | {name} | {kind} | {s['requests']:,} | "
                             f"{s['p50_ms']:.0f} | {s['p95_ms']:.0f} | {s['p99_ms']:.0f} | "
                             f"{s['errors']} |")
    notes = []
    for r in results:
        for name, sc in r["scenarios"].items():
            s = sc["summary"]
            if s["error_kinds"]:
                notes.append(f"{r['database']} {name}: errors {s['error_kinds']}")
            log = sc["server_log"]
            if any(log.values()):
                notes.append(f"{r['database']} {name}: server log {log}")
            if sc["failures"]:
                notes.append(f"{r['database']} {name}: scenario failures {sc['failures']}")
            worker = sc.get("worker")
            if worker and worker["outcomes"]:
                done = ", ".join(f"{n} {k}" for k, n in sorted(worker["outcomes"].items()))
                notes.append(f"{r['database']} {name}: background worker caught up "
                             f"{worker['catch_up_seconds']} s after the load ended "
                             f"({worker['waiting']} still waiting); tasks: {done}")
            if sc["links_exhausted"]:
                notes.append(f"{r['database']} {name}: every check-in link was used")
            cpu = sc["cpu"]
            db = f", PostgreSQL {cpu['database_seconds']} s" if r["database"] != "sqlite" else ""
            notes.append(f"{r['database']} {name}: {s['seconds']:.1f} s; CPU: server "
                         f"{cpu['server_seconds']} s{db}, client {cpu['client_seconds']} s, "
                         f"other programs {cpu['other_cores']} cores; load average before "
                         f"{cpu['load_average_before']}; {sc['links_used']} links used")
    profiles = [r for r in results if "profile" in r]
    if profiles:
        lines.append("")
        lines.append("| database | caseload ms (queries) | submit ms (queries) | "
                     "recompute one case, in the worker ms (queries) |")
        lines.append("|---|---:|---:|---:|")
        for r in profiles:
            p = r["profile"]
            lines.append(f"| {r['database']} | {p['caseload_ms']} ({p['caseload_queries']}) | "
                         f"{p['submit_ms']} ({p['submit_queries']}) | "
                         f"{p['recompute_ms']} ({p['recompute_queries']}) |")
    if notes:
        lines.append("")
        lines.extend(f"- {note}" for note in notes)
    return "\n".join(lines)


def run_child(database: str, args, out: Path) -> None:
    """Run one database in a child process group; end it (and its server) on the way out."""
    command = [sys.executable, str(Path(__file__).resolve()), "--run-one", database,
               "--out", str(out), "--seconds", str(args.seconds), "--users", str(args.users),
               "--max-requests", str(args.max_requests), "--seed", str(args.seed),
               "--think", str(args.think)]
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    if args.no_profile:
        command.append("--no-profile")
    env = os.environ.copy()
    env.pop("ALLIANCE_TEST_POSTGRES", None)  # always a throwaway cluster
    if database == "postgresql":
        command = [str(POSTGRES_SCRIPT), *command]
    child = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        status = child.wait()
    finally:
        if child.poll() is None:
            # SIGTERM reaches test-postgres.sh and the run: both clean up after themselves.
            with suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
    if status != 0:
        raise SystemExit(f"the {database} run failed (exit status {status})")


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.run_one:
        run_one(args)
        return
    signal.signal(signal.SIGTERM, _raise_stop)
    info = machine()
    results = []
    with tempfile.TemporaryDirectory(prefix="alliance-load-results.") as scratch:
        for database in args.databases:
            out = Path(scratch) / f"{database}.json"
            run_child(database, args, out)
            results.append(json.loads(out.read_text(encoding="utf-8")))
    text = report(results, info, args)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "results": results}, indent=2),
                             encoding="utf-8")


if __name__ == "__main__":
    main()

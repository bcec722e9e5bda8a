"""Benchmark: the pages that grow with a clinic, timed in process on a large clinic.

The clinic is built through the history import (`alliance.web.interop.history`) from the
simulator (`alliance.core.simulator`), as a clinic moving to Alliance would bring its past:

- default size: 50 therapists, 2,000 active and 100 closed cases, intakes spread over a
  year and weekly sessions up to 55 (about 30 sessions a case); one therapist carries 200 of the active cases; a supervisor
  supervises 20 therapists (that one among them); one more case has 100 weekly sessions;
  an administrator; 20,000 audit events;
- `--size large`: 500 therapists, 20,000 active and 1,000 closed cases, the same shape
  (ten times the default's build, an estimated 30–60 minutes on two cores; meant for
  PostgreSQL).

After the import the clinic's signals are recomputed (`monitoring.recompute.refresh_clinic`).
The build is kept between runs: SQLite in var/large-clinic/<size>/var/alliance.sqlite3,
PostgreSQL as a dump var/large-clinic/<size>.pgdump restored into the throwaway cluster of
scripts/test-postgres.sh. `--rebuild` builds again (needed after the builder changes;
migrations added since the build are applied to the kept database on every run).

Each page is requested with Django's test client, signed in as the role that sees it, once
to warm up and then --repeat times; the table gives the median time, the median CPU time
of this process (on a shared machine the wall time also counts waiting for a core; on
SQLite the database's work is in this process, on PostgreSQL in the server's) and the
queries of a request (the audit event's included). Responses must be 200 and PDFs must start with %PDF.

    .venv/bin/python benchmarks/large_clinic.py                       # SQLite and PostgreSQL
    .venv/bin/python benchmarks/large_clinic.py --databases sqlite --repeat 5
    .venv/bin/python benchmarks/large_clinic.py --size large --databases postgresql
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SCRIPT = ROOT / "scripts" / "test-postgres.sh"
CACHE = ROOT / "var" / "large-clinic"
DATABASES = ("sqlite", "postgresql")
DOMAIN = "large.example"
LONG_CASE_CODE = "LONG-1"


class Size:
    def __init__(self, therapists, active, closed, big_caseload, supervised, audit_events):
        self.therapists = therapists
        self.active = active
        self.closed = closed
        self.big_caseload = big_caseload
        self.supervised = supervised
        self.audit_events = audit_events


SIZES = {
    "default": Size(therapists=50, active=2000, closed=100, big_caseload=200, supervised=20,
                    audit_events=20_000),
    "large": Size(therapists=500, active=20_000, closed=1000, big_caseload=200,
                  supervised=20, audit_events=200_000),
}
#: Weekly sessions of a case seen all year (the simulator's K); intakes spread over the year.
SESSIONS_PER_CASE = 55
#: The history begins this long ago (intakes spread over its first year; about 30 sessions
#: a case in all, as in the clinic the before-figures of docs/benchmarks.md were taken on).
HISTORY_DAYS = 470
LONG_CASE_SESSIONS = 100


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    parser.add_argument("--databases", default=",".join(DATABASES),
                        help="comma-separated: sqlite, postgresql (default both)")
    parser.add_argument("--repeat", type=int, default=3, help="timed requests per page")
    parser.add_argument("--pages", default="",
                        help="comma-separated page names to time (default all)")
    parser.add_argument("--rebuild", action="store_true", help="build the clinic again")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--run-one", choices=DATABASES, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    for name in args.databases:
        if name not in DATABASES:
            parser.error(f"unknown database {name!r}: choose from {', '.join(DATABASES)}")
    return args


# --------------------------------------------------------------------------- the clinic

def email(kind: str, k: int | None = None) -> str:
    return f"{kind}{'' if k is None else f'{k:03d}'}@{DOMAIN}"


def history_file(path: Path, size: Size, today: dt.date) -> dict:
    """Write the clinic's history in the import format; return what it holds."""
    import pandas as pd

    from alliance.core import instruments as core_instruments
    from alliance.core.simulator import simulate_clinic
    from alliance.web.interop.history import history_frame

    forms = {"client_form": core_instruments.load_bundled("alliance-client"),
             "outcome_form": core_instruments.load_bundled("wellbeing"),
             "therapist_form": core_instruments.load_bundled("alliance-therapist")}
    n = size.active + size.closed
    start = today - dt.timedelta(days=HISTORY_DAYS)
    sessions = simulate_clinic(n, SESSIONS_PER_CASE, 11, n_therapists=size.therapists,
                               start_date=start).sessions
    sessions = sessions[pd.to_datetime(sessions["date"]) < pd.Timestamp(today)]
    clients = sorted(sessions["client_id"].unique())
    # The first clients go to the therapist with the big caseload, the others round the
    # rest; the last ones are closed cases.
    therapist = {}
    for k, client in enumerate(clients):
        if k < size.big_caseload:
            therapist[client] = 0
        else:
            therapist[client] = 1 + (k - size.big_caseload) % (size.therapists - 1)
    closed = set(clients[-size.closed:]) if size.closed else set()
    sessions = sessions.assign(therapist_id=[f"T{therapist[c] + 1:03d}"
                                             for c in sessions["client_id"]])
    emails = {f"T{k + 1:03d}": email("therapist", k) for k in range(size.therapists)}
    frame = history_frame(sessions, emails, **forms)
    frame["case_status"] = ["closed" if c in closed else "" for c in frame["client"]]

    # One case seen weekly for two years: 100 sessions.
    long = simulate_clinic(1, LONG_CASE_SESSIONS, 12, n_therapists=1, dropout_share=0.0,
                           start_date=today - dt.timedelta(weeks=LONG_CASE_SESSIONS + 1)
                           ).sessions
    long = long.assign(client_id=LONG_CASE_CODE, therapist_id="T002")
    long_frame = history_frame(long, emails, **forms)
    long_frame["case_status"] = ""
    pd.concat([frame, long_frame]).to_csv(path, index=False)
    return {"clients": len(clients) + 1, "sessions": len(sessions) + len(long),
            "long_case_sessions": len(long), "rows": len(frame) + len(long_frame)}


def build(size: Size) -> dict:
    """Create the clinic, its staff, import its history and recompute its signals."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from alliance.web.audit.services import record
    from alliance.web.care.models import Case
    from alliance.web.clinics.models import Clinic, StaffMember
    from alliance.web.interop import history
    from alliance.web.monitoring import recompute

    today = dt.date.today()
    User = get_user_model()
    timings = {}
    with transaction.atomic():
        clinic = Clinic.objects.create(name="Large clinic")
        staff = []
        for k in range(size.therapists):
            user = User.objects.create_user(username=email("therapist", k),
                                            email=email("therapist", k))
            staff.append(StaffMember.objects.create(user=user, clinic=clinic,
                                                    role="therapist",
                                                    display_name=f"Therapist {k + 1}"))
        for kind, role in (("admin", "admin"), ("supervisor", "supervisor")):
            user = User.objects.create_user(username=email(kind), email=email(kind))
            member = StaffMember.objects.create(user=user, clinic=clinic, role=role,
                                                display_name=kind.title())
        member.supervisees.set(staff[:size.supervised])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "history.csv"
        started = time.perf_counter()
        info = history_file(path, size, today)
        timings["write_history_s"] = round(time.perf_counter() - started, 1)
        print(f"  history: {info}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        history.import_history(path, clinic, recompute=False)
        timings["import_s"] = round(time.perf_counter() - started, 1)
    print(f"  imported in {timings['import_s']} s", file=sys.stderr, flush=True)
    started = time.perf_counter()
    recompute.refresh_clinic(clinic)
    timings["signals_s"] = round(time.perf_counter() - started, 1)
    print(f"  signals in {timings['signals_s']} s", file=sys.stderr, flush=True)
    # The audit trail of a clinic that has run for a while: reads of its cases.
    started = time.perf_counter()
    cases = list(Case.objects.filter(client__clinic=clinic).order_by("pk"))
    admin = User.objects.get(username=email("admin"))
    with transaction.atomic():
        for k in range(size.audit_events):
            record(None, "read", cases[k % len(cases)], actor=admin, clinic=clinic)
    timings["audit_s"] = round(time.perf_counter() - started, 1)
    return {**info, **timings}


def describe() -> dict:
    from django.db.models import Count, Q

    from alliance.web.care.models import Case, Session
    from alliance.web.checkins.models import Administration
    from alliance.web.clinics.models import StaffMember
    from alliance.web.monitoring.models import Signal

    big = (StaffMember.objects.filter(role="therapist")
           .annotate(n=Count("cases", filter=Q(cases__status="active"))).order_by("-n")[0])
    return {"therapists": StaffMember.objects.filter(role="therapist").count(),
            "active_cases": Case.objects.filter(status="active").count(),
            "closed_cases": Case.objects.exclude(status="active").count(),
            "sessions": Session.objects.count(),
            "forms": Administration.objects.count(),
            "signals": Signal.objects.count(),
            "big_caseload": big.n}


# --------------------------------------------------------------------------- the database

def pg_bindir() -> Path:
    dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                  key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()])
    if not dirs:
        raise SystemExit("PostgreSQL's programs are missing (scripts/test-postgres.sh "
                         "installs them)")
    return dirs[-1]


def prepare(database: str, size_name: str, rebuild: bool) -> dict:
    """Migrate, and restore or build the clinic. Returns what the build took, if it ran."""
    from django.core.management import call_command

    size = SIZES[size_name]
    dump = CACHE / f"{size_name}.pgdump"
    if database == "postgresql" and dump.exists() and not rebuild:
        url = os.environ["DATABASE_URL"]
        started = time.perf_counter()
        subprocess.run([str(pg_bindir() / "pg_restore"), "--no-owner", "--no-privileges",
                        "-d", url, str(dump)], check=True)
        print(f"postgresql: restored {dump.name} in {time.perf_counter() - started:.0f} s",
              file=sys.stderr, flush=True)
        call_command("migrate", verbosity=0)
        return {"restored": True}
    call_command("migrate", verbosity=0)
    from alliance.web.clinics.models import Clinic

    if Clinic.objects.filter(name="Large clinic").exists():
        return {"kept": True}
    print(f"{database}: building the {size_name} clinic", file=sys.stderr, flush=True)
    built = build(size)
    if database == "postgresql":
        from django.db import connection

        connection.close()
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(pg_bindir() / "pg_dump"), "-Fc", "-f", str(dump),
                        os.environ["DATABASE_URL"]], check=True)
    return built


# --------------------------------------------------------------------------- the pages

def pages() -> list[tuple[str, str, str]]:
    """(name, signed-in user, URL) of every page that grows with the clinic."""
    from django.urls import reverse

    from alliance.web.care.models import Case

    from alliance.web.clinics.models import StaffMember

    long_case = Case.objects.get(client__code=LONG_CASE_CODE)
    therapist_pk = StaffMember.objects.get(user__username=email("therapist", 0)).pk
    case = reverse("care:case", args=[long_case.pk])
    return [
        ("caseload (200 cases)", email("therapist", 0), reverse("care:caseload")),
        ("caseload, search", email("therapist", 0), reverse("care:caseload") + "?q=C01"),
        ("caseload, last page", email("therapist", 0), reverse("care:caseload") + "?page=4"),
        ("supervision (20 therapists)", email("supervisor"), reverse("monitoring:supervision")),
        ("supervision, one therapist opened", email("supervisor"),
         reverse("monitoring:supervision") + f"?therapist={therapist_pk}"),
        ("signals report (admin)", email("admin"), reverse("monitoring:report")),
        ("signals report (supervisor)", email("supervisor"), reverse("monitoring:report")),
        ("clinic practice page (admin)", email("admin"), reverse("practice:clinic")),
        ("case page (100 sessions)", email("therapist", 1), case),
        ("case PDF (100 sessions)", email("therapist", 1),
         reverse("reports:case", args=[long_case.pk])),
        ("clinic PDF (admin)", email("admin"), reverse("reports:clinic")),
        ("clinic PDF (supervisor)", email("supervisor"), reverse("reports:clinic")),
        ("worklist (200 cases)", email("therapist", 0), reverse("outreach:worklist")),
        ("audit page (admin)", email("admin"), reverse("audit:list")),
    ]


def time_pages(repeat: int, only: set[str]) -> list[dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    users = {}
    results = []
    for name, username, url in pages():
        if only and not any(o.lower() in name.lower() for o in only):
            continue
        client = users.get(username)
        if client is None:
            client = users[username] = Client()
            client.force_login(get_user_model().objects.get(username=username))
        response = client.get(url)  # warm-up
        if response.status_code != 200:
            raise SystemExit(f"{name}: {url} answered {response.status_code}")
        times, cpu, queries = [], [], []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as captured:
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                content = (b"".join(response.streaming_content) if response.streaming
                           else response.content)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            queries.append(len(captured.captured_queries))
            if response.status_code != 200:
                raise SystemExit(f"{name}: {url} answered {response.status_code}")
            if url.endswith(".pdf") and not content.startswith(b"%PDF"):
                raise SystemExit(f"{name}: not a PDF")
        row = {"page": name, "url": url, "ms": round(statistics.median(times), 1),
               "cpu_ms": round(statistics.median(cpu), 1),
               "min_ms": round(min(times), 1), "queries": max(queries),
               "bytes": len(content)}
        results.append(row)
        print(f"  {name:32} {row['ms']:8.1f} ms  {row['cpu_ms']:8.1f} ms CPU  "
              f"{row['queries']:4d} queries  "
              f"{row['bytes']:>9,} bytes", file=sys.stderr, flush=True)
    return results


def run_one(args) -> None:
    database = args.run_one
    if database == "postgresql" and not os.environ.get("DATABASE_URL"):
        raise SystemExit("PostgreSQL run without DATABASE_URL (run it through "
                         "scripts/test-postgres.sh)")
    if database == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        folder = CACHE / args.size
        if args.rebuild and folder.exists():
            shutil.rmtree(folder)
        (folder / "var").mkdir(parents=True, exist_ok=True)
        os.environ["ALLIANCE_DATA_DIR"] = str(folder)
    os.environ["DJANGO_SETTINGS_MODULE"] = "alliance.web.test_settings"
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()
    built = prepare(database, args.size, args.rebuild)
    from django.db import connection

    if database == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        import sqlite3

        server = f"SQLite {sqlite3.sqlite_version}"
    result = {"database": database, "server": server, "build": built, "clinic": describe()}
    print(f"{database}: {result['clinic']}", file=sys.stderr, flush=True)
    only = {p.strip() for p in args.pages.split(",") if p.strip()}
    result["pages"] = time_pages(args.repeat, only)
    args.out.write_text(json.dumps(result))


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.run_one:
        run_one(args)
        return
    results = []
    for database in args.databases:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
            out = Path(handle.name)
        command = [sys.executable, str(Path(__file__).resolve()), "--run-one", database,
                   "--out", str(out), "--size", args.size, "--repeat", str(args.repeat),
                   "--pages", args.pages, *(["--rebuild"] if args.rebuild else [])]
        if database == "postgresql":
            command = ["bash", str(POSTGRES_SCRIPT), *command]
        try:
            subprocess.run(command, check=True, cwd=ROOT)
            results.append(json.loads(out.read_text()))
            results[-1]["load_average_after"] = os.getloadavg()
        finally:
            out.unlink(missing_ok=True)
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for result in results:
        print(f"\n{result['server']}: {result['clinic']}")
        print("| page | ms (median) | CPU ms of this process | queries | bytes |\n"
              "|---|---:|---:|---:|---:|")
        for row in result["pages"]:
            print(f"| {row['page']} | {row['ms']:.0f} | {row['cpu_ms']:.0f} | {row['queries']} "
                  f"| {row['bytes']:,} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

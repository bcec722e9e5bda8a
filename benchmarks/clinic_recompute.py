"""Benchmark: a large clinic's heavy operations, on SQLite or PostgreSQL.

A clinic of 50 therapists and 2,100 cases, 100 of them closed (`alliance.core.simulator`:
up to 30 weekly sessions a client with the client's and the therapist's alliance forms and
the wellbeing form, written in the history import format by `interop.history.history_frame`
and imported with `import_history`; its signals then computed once with `refresh_clinic`)
is built once per database and kept:

- SQLite: the database file under var/bench/ (`--rebuild` builds it again); each
  measurement runs on a fresh copy of it, so every run starts from the same data;
- PostgreSQL (DATABASE_URL set, e.g. by scripts/test-postgres.sh): the history file is kept
  under var/bench/ and imported into the throwaway database (the import is timed too).

Then, each in its own child process so that one's memory does not hide the other's:

1. **recompute**: a rule change (the clinic's rupture rule) and the recomputation of every
   active case's signals as the worker runs it once it has seen the change
   (`monitoring.recompute.recompute_clinic_signals`, inside the clinic's time zone): wall
   and processor time, queries, and what changed;
2. **export**: the whole clinic's research export (CSV, zipped) as the web page writes it:
   wall and processor time and the peak resident memory it adds to the process
   (`resource.getrusage(...).ru_maxrss` after, minus the resident size before).

Building takes a few minutes (the import of 145,000 forms); each measurement well under a
minute on an idle machine. `--repeat N` runs each measurement N times and keeps the best.

    .venv/bin/python benchmarks/clinic_recompute.py                       # SQLite
    scripts/test-postgres.sh .venv/bin/python benchmarks/clinic_recompute.py
    .venv/bin/python benchmarks/clinic_recompute.py --clients 200 --therapists 5   # quick

Results are printed as JSON; docs/benchmarks.md records a run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "bench"
NEW_RULE = "sd1"  # not the default rule (sd2): every rupture is looked at again


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.web.test_settings")
    import django

    django.setup()


def vendor() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith("postgres") else "sqlite"


def resident_mb() -> float:
    """The process's resident size now (Linux: /proc/self/statm)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- building

def build(options, history_file: Path) -> dict:
    """Migrate the database DATABASE_URL points at and import the clinic into it."""
    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from alliance.web.clinics.models import Clinic, StaffMember
    from alliance.web.interop import history
    from alliance.web.monitoring import recompute

    call_command("migrate", verbosity=0)
    clinic = Clinic.objects.create(name="Benchmark clinic")
    emails = [f"therapist{k}@benchmark.example" for k in range(options.therapists)]
    for email in emails:
        user = get_user_model().objects.create_user(username=email, email=email)
        StaffMember.objects.create(user=user, clinic=clinic, role="therapist",
                                   display_name=email)
    clinic.instruments_in_use = ["alliance-client", "wellbeing", "alliance-therapist"]
    clinic.save(update_fields=["instruments_in_use"])
    if not history_file.exists():
        write_history(history_file, emails, options)
    started = time.perf_counter()
    history.import_history(history_file, clinic, recompute=False)
    imported = time.perf_counter() - started
    started = time.perf_counter()
    recompute.refresh_clinic(clinic)
    first = time.perf_counter() - started
    from django.db import connection

    if connection.vendor == "sqlite":  # the whole database in its one file, to be copied
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
    return {"import_seconds": round(imported, 1), "first_recompute_seconds": round(first, 1)}


def write_history(path: Path, emails: list[str], options) -> None:
    """The simulated clinic in the history import format: every client seen for up to
    `--sessions` weekly sessions (client, therapist and outcome forms), the first
    `--closed` cases closed after their last session."""
    from alliance.core import instruments
    from alliance.core.simulator import simulate_clinic
    from alliance.web.interop import history

    simulated = simulate_clinic(options.clients, options.sessions, options.seed,
                                n_therapists=len(emails))
    frame = history.history_frame(
        simulated.sessions, {f"T{k + 1:03d}": email for k, email in enumerate(emails)},
        client_form=instruments.load_bundled("alliance-client"),
        outcome_form=instruments.load_bundled("wellbeing"),
        therapist_form=instruments.load_bundled("alliance-therapist"))
    closed = set(sorted(frame["client"].unique())[:options.closed])
    frame["case_status"] = frame["client"].map(lambda c: "closed" if c in closed else "")
    frame.to_csv(path, index=False)


def clinic_size() -> dict:
    from alliance.web.care.models import Case, Session
    from alliance.web.checkins.models import Administration
    from alliance.web.clinics.models import StaffMember
    from alliance.web.monitoring.models import Signal

    return {"therapists": StaffMember.objects.filter(role="therapist").count(),
            "active_cases": Case.objects.filter(status=Case.Status.ACTIVE).count(),
            "other_cases": Case.objects.exclude(status=Case.Status.ACTIVE).count(),
            "sessions": Session.objects.count(), "forms": Administration.objects.count(),
            "signals": Signal.objects.count()}


# --------------------------------------------------------------------------- measuring

def measure_recompute() -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alliance.web import localtime
    from alliance.web.clinics.models import Clinic
    from alliance.web.monitoring import recompute

    clinic = Clinic.objects.get(name="Benchmark clinic")
    # An update, not save(): saving would already recompute (the test settings run the
    # worker's tasks at once), and this measures that recomputation itself.
    Clinic.objects.filter(pk=clinic.pk).update(
        rupture_rule=NEW_RULE if clinic.rupture_rule != NEW_RULE else "sd2")
    clinic.refresh_from_db()
    started, cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as queries, localtime.activated(clinic):
        # What the worker's task runs once it has seen that a setting changed.
        result = recompute.recompute_clinic_signals(clinic)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"recompute_seconds": round(seconds, 2), "recompute_cpu_seconds": round(cpu, 2),
            "queries": len(queries), "peak_rss_mb": round(peak_mb()),
            "result": result.to_dict()}


def measure_export() -> dict:
    from alliance.web.clinics.models import Clinic
    from alliance.web.interop import research

    clinic = Clinic.objects.get(name="Benchmark clinic")
    before = resident_mb()
    started, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.zip"
        if hasattr(research, "write_zip"):  # streamed (after)
            with path.open("wb") as out:
                research.write_zip(out, clinic, fmt="csv")
        else:  # built in memory (before)
            export = research.build_export(clinic)
            path.write_bytes(research.zip_export(research.export_files(export, "csv")))
        size = path.stat().st_size
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"export_seconds": round(seconds, 2), "export_cpu_seconds": round(cpu, 2),
            "export_zip_bytes": size,
            "rss_before_mb": round(before), "peak_rss_mb": round(peak_mb()),
            "export_added_mb": round(peak_mb() - before)}


def child(step: str) -> dict:
    """Run one measurement in a fresh process (its own peak memory)."""
    result = subprocess.run([sys.executable, __file__, "--measure", step],
                            capture_output=True, text=True, env=os.environ.copy())
    if result.returncode:
        sys.exit(f"{step} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2100)
    parser.add_argument("--therapists", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=30, help="scheduled per client")
    parser.add_argument("--closed", type=int, default=100, help="cases closed")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="build the cached clinic again")
    parser.add_argument("--steps", default="recompute,export")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each step (best kept)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.measure:
        setup_django()
        step = {"recompute": measure_recompute, "export": measure_export,
                "size": clinic_size}[options.measure]
        print(json.dumps(step()))
        return

    CACHE.mkdir(parents=True, exist_ok=True)
    name = (f"clinic-{options.clients}x{options.sessions}-{options.therapists}t-"
            f"{options.closed}closed-seed{options.seed}")
    history_file = CACHE / f"{name}.csv"
    results: dict = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                                f"Python {sys.version.split()[0]}",
                     "database": vendor(), "clinic": name}
    with tempfile.TemporaryDirectory() as folder:
        if vendor() == "sqlite":
            cached = CACHE / f"{name}.sqlite3"
            if options.rebuild or not cached.exists():
                building = Path(folder) / "building.sqlite3"
                os.environ["DATABASE_URL"] = f"sqlite:///{building}"
                results["build"] = child_build(options, history_file)
                shutil.move(building, cached)
            work = Path(folder) / "work.sqlite3"
        else:
            results["build"] = child_build(options, history_file)
        os.environ.pop("DJANGO_SETTINGS_MODULE", None)
        for step in ["size", *options.steps.split(",")]:
            runs = []
            for _ in range(options.repeat if step != "size" else 1):
                if vendor() == "sqlite":
                    shutil.copyfile(cached, work)
                    os.environ["DATABASE_URL"] = f"sqlite:///{work}"
                runs.append(child(step))
            key = {"recompute": "recompute_seconds", "export": "export_seconds"}.get(step)
            results[step] = min(runs, key=lambda r: r[key]) if key else runs[0]
            if key and len(runs) > 1:
                results[step]["all_seconds"] = [r[key] for r in runs]
    print(json.dumps(results, indent=2))


def child_build(options, history_file: Path) -> dict:
    result = subprocess.run([sys.executable, "-c",
                             "import sys, json; sys.path.insert(0, sys.argv[1]);"
                             "import clinic_recompute as b, argparse;"
                             "o = argparse.Namespace(**json.loads(sys.argv[2]));"
                             "print(json.dumps(b.build(o, b.Path(sys.argv[3]))))",
                             str(Path(__file__).parent),
                             json.dumps({"clients": options.clients,
                                         "therapists": options.therapists,
                                         "sessions": options.sessions,
                                         "closed": options.closed,
                                         "seed": options.seed}), str(history_file)],
                            capture_output=True, text=True, env=os.environ.copy())
    if result.returncode:
        sys.exit(f"building the clinic failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()

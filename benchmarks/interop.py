"""Benchmark of the exchange paths: importing a year of history, exporting it for research,
and a case's FHIR Bundle.

A simulated clinic (`alliance.core.simulator`) seen for a year is written in the history
import format (one row per item answer or score), imported into an empty test database,
imported again (nothing added), exported for research as CSV and Parquet, and one case is
written as a FHIR Bundle. Each step is timed once with `time.perf_counter`; file sizes are
measured on the bytes written. Results are printed as JSON; docs/interop.md records a run.

A wide file (the import's columns and thousands of extra ones, one row, about 7 bytes a
column) is checked too, as an upload would be: its time is how long a server process is
busy with it (`--wide-columns`, several counts separated by commas; 0 leaves it out).

Run (SQLite in the temporary folder; set DATABASE_URL for PostgreSQL):

    .venv/bin/python benchmarks/interop.py --clients 300 --therapists 12
    .venv/bin/python benchmarks/interop.py --clients 20 --wide-columns 2000,8000,20000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--therapists", type=int, default=12)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--wide-columns", default="20000",
                        help="extra columns of the wide file(s), e.g. 2000,8000,20000")
    options = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.web.test_settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        print(json.dumps(run(options), indent=2))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(options) -> dict:
    from django.contrib.auth import get_user_model

    from alliance.web.care.models import Case
    from alliance.web.clinics.models import Clinic, StaffMember
    from alliance.web.interop import history, research
    from alliance.web.interop.fhir import case_bundle

    clinic = Clinic.objects.create(name="Benchmark clinic")
    emails = [f"therapist{k}@benchmark.example" for k in range(options.therapists)]
    for email in emails:
        user = get_user_model().objects.create_user(username=email, email=email)
        StaffMember.objects.create(user=user, clinic=clinic, role="therapist",
                                   display_name=email)
    results: dict = {"machine": f"{platform.processor() or platform.machine()}, "
                                f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
                     "database": django_vendor()}
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = folder / "year.csv"
        sessions = history.write_simulated_year(path, emails, clients=options.clients,
                                                seed=options.seed)
        rows = sum(1 for _ in path.open()) - 1
        results["history_file"] = {"clients": int(sessions["client_id"].nunique()),
                                   "therapists": options.therapists,
                                   "sessions": len(sessions), "rows": rows,
                                   "bytes": path.stat().st_size}

        started = time.perf_counter()
        history.import_history(path, clinic, dry_run=True)
        results["check_only_seconds"] = round(time.perf_counter() - started, 2)

        started = time.perf_counter()
        imported = history.import_history(path, clinic, recompute=False)
        results["import_seconds"] = round(time.perf_counter() - started, 2)
        from alliance.web.monitoring import recompute

        started = time.perf_counter()
        recompute.refresh_clinic(clinic)
        results["signal_recomputation_seconds"] = round(time.perf_counter() - started, 2)
        results["imported"] = imported.summary()
        results["wide_file"] = [wide_file(history, clinic, folder, emails[0], int(n))
                                for n in options.wide_columns.split(",") if int(n) > 0]

        started = time.perf_counter()
        again = history.import_history(path, clinic)
        results["reimport_seconds"] = round(time.perf_counter() - started, 2)
        results["reimported"] = again.summary()

        started = time.perf_counter()
        export = research.build_export(clinic)
        files = research.export_files(export, "both")
        results["research_export_seconds"] = round(time.perf_counter() - started, 2)
        results["research_export_rows"] = {name: len(frame)
                                           for name, frame in export.tables().items()}
        results["research_export_bytes"] = {name: len(content)
                                            for name, content in files.items()}
        results["research_export_zip_bytes"] = len(research.zip_export(
            research.export_files(export, "csv")))

        longest = max(Case.objects.filter(client__clinic=clinic),
                      key=lambda c: c.sessions.count())
        # The first Bundle of a process also imports the FHIR models it uses.
        started = time.perf_counter()
        case_bundle(longest)
        first = time.perf_counter() - started
        started = time.perf_counter()
        bundle = json.dumps(case_bundle(longest))
        results["fhir_bundle"] = {"sessions": longest.sessions.count(),
                                  "first_seconds": round(first, 2),
                                  "seconds": round(time.perf_counter() - started, 2),
                                  "bytes": len(bundle.encode())}
    return results


def wide_file(history, clinic, folder: Path, email: str, extra: int) -> dict:
    """Check a file with `extra` columns beyond the import's: the time until it is answered."""
    from alliance.core.errors import InputError

    path = folder / f"wide-{extra}.csv"
    header = [*history.REQUIRED, *history.OPTIONAL, *(f"x{k}" for k in range(extra))]
    row = {"client": "W1", "therapist": email, "session": "1", "date": "2026-01-05",
           "instrument": "alliance-client", "item": "bond1", "value": "5"}
    path.write_text(",".join(header) + "\n" + ",".join(row.get(c, "") for c in header) + "\n")
    started = time.perf_counter()
    try:
        history.import_history(path, clinic, dry_run=True)
        answer = "checked"
    except InputError as exc:
        answer = str(exc)
    seconds = time.perf_counter() - started
    # The file's checks without the import's column limit (they must grow linearly).
    from alliance.core.tables import read_csv

    started = time.perf_counter()
    read_csv(path, required=history.REQUIRED)
    return {"columns": len(header), "bytes": path.stat().st_size, "seconds": round(seconds, 3),
            "answer": answer[:160],
            "read_without_limit_seconds": round(time.perf_counter() - started, 3)}


def django_vendor() -> str:
    from django.db import connection

    return connection.vendor


if __name__ == "__main__":
    main()

"""Benchmark of the worker's question "which messages are due?" in a large outbox.

A clinic with N planned reminders (one per open check-in link, due later) and k of them
due now: the time to find the due ones (the query `send_due` runs each tick) and to send
them (Django's in-memory e-mail backend), for several k, and the same with a small outbox.
The partial index on planned messages by time makes the cost follow k, not N.

Results are printed as JSON; docs/benchmarks.md records a run. A throwaway test database
(SQLite in the temporary folder; set DATABASE_URL for PostgreSQL):

    .venv/bin/python benchmarks/outbox_due.py --planned 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time


def timed(function, repeat: int = 7) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--planned", type=int, default=100_000)
    parser.add_argument("--due", type=int, nargs="+", default=[0, 10, 100, 1000])
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.web.test_settings")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from django.contrib.auth import get_user_model

        from alliance.web.care import services as care
        from alliance.web.clinics.models import Clinic, StaffMember
        from alliance.web.outreach import services
        from alliance.web.outreach.models import Message

        clinic = Clinic.objects.create(name="Benchmark")
        user = get_user_model().objects.create_user("t@example.org", email="t@example.org")
        therapist = StaffMember.objects.create(user=user, clinic=clinic, role="therapist",
                                               display_name="T")
        case = care.admit_client(therapist, code="C-1", modality="cbt")
        now = timezone.now()

        def fill(n: int) -> None:
            Message.objects.all().delete()
            later = now + dt.timedelta(hours=12)
            Message.objects.bulk_create(
                (Message(clinic=clinic, kind="rupture", to_staff=therapist, case=case,
                         key=f"bench:{i}", due_at=later + dt.timedelta(seconds=i))
                 for i in range(n)), batch_size=5000)

        def find():
            return list(Message.objects.due(now).order_by("due_at", "pk")
                        .values_list("pk", flat=True)[:services.BATCH])

        # Warm up: the first message of a process loads the templates and the URL map.
        fill(1)
        Message.objects.update(due_at=now)
        services.send_due(now)

        rows = []
        for planned in (args.planned, 1000):
            for due in args.due:
                fill(planned)
                Message.objects.filter(pk__in=Message.objects.order_by("pk")
                                       .values("pk")[:due]).update(
                    due_at=now - dt.timedelta(minutes=1))
                if connection.vendor == "sqlite":
                    # Write the filling out of the write-ahead log first: otherwise the
                    # first commits below pay for checkpointing 100,000 inserted rows.
                    with connection.cursor() as cursor:
                        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                find_ms = timed(find) * 1e3
                started = time.perf_counter()
                counts = {"sent": 0}
                while True:  # send_due takes up to BATCH at a time, like the worker's ticks
                    result = services.send_due(now)
                    counts["sent"] += result["sent"]
                    if not result["sent"]:
                        break
                send_ms = (time.perf_counter() - started) * 1e3
                assert counts["sent"] == due
                rows.append({"planned": planned, "due": due, "find_due_ms": round(find_ms, 2),
                             "send_all_due_ms": round(send_ms, 1),
                             "per_message_ms": round(send_ms / due, 2) if due else None})
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(json.dumps({
        "machine": {"processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(), "python": platform.python_version(),
                    "database": connection.vendor},
        "runs": rows,
    }, indent=2))


if __name__ == "__main__":
    main()

"""The worker's periodic jobs, kept in the database (`Job`), and the tick that runs them.

`alliance worker` calls `tick()` every half minute beside Django's task queue: each job
whose time has come is claimed by one conditional UPDATE of its `next_run_at`, so of
several workers on several machines exactly one runs it; a job that fell due while every
worker was down runs once when one is back (its next time counts from then). Then the
messages that are due are sent (`services.send_due`, claimed one by one the same way).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from alliance.web import localtime
from alliance.web.care.models import Case
from alliance.web.outreach import services
from alliance.web.outreach.models import Job, Message, NoticePreference

logger = logging.getLogger(__name__)

TICK_SECONDS = 30


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    run: Callable[[datetime], str]
    # Whether a new installation runs it at once or one interval after the first tick.
    at_once: bool = True


def plan_digests(now: datetime) -> str:
    """Plan today's digest for each staff member who wants one and whose hour has come
    (in the clinic's time); one per day, however often this runs."""
    planned = 0
    for pref in (NoticePreference.objects.filter(daily_digest=True, staff__is_active=True)
                 .select_related("staff__clinic")):
        local = localtime.local(now, pref.staff.clinic)
        if local.hour < pref.digest_hour:
            continue
        services.plan_staff_notice(pref.staff, kind=Message.Kind.DIGEST,
                                   key=f"digest:{pref.staff_id}:{local.date()}", due_at=now)
        planned += 1
    return f"{planned} digests due today"


def recompute_active_cases(now: datetime) -> str:
    """Disengagement "as of today": a gap since the last session grows without any new
    data, so every active case is recomputed once a day (through the task queue)."""
    from alliance.web.monitoring import scheduling

    ids = list(Case.objects.filter(status=Case.Status.ACTIVE).values_list("pk", flat=True))
    for case_id in ids:
        scheduling.recompute_soon(case_id, "the daily look at open gaps")
    return f"{len(ids)} cases queued"


#: The periodic jobs; other parts of Alliance append theirs (the safety escalation).
PERIODIC: list[Periodic] = [
    Periodic("plan-digests", timedelta(minutes=15), plan_digests),
    Periodic("recompute-active-cases", timedelta(days=1), recompute_active_cases,
             at_once=False),
]


def _claim(job: Periodic, now: datetime) -> bool:
    row = Job.objects.filter(name=job.name).first()
    if row is None:
        try:
            with transaction.atomic():
                row = Job.objects.create(
                    name=job.name, next_run_at=now if job.at_once else now + job.every)
        except IntegrityError:  # another worker created it
            row = Job.objects.get(name=job.name)
    if row.next_run_at > now:
        return False
    return (Job.objects.filter(pk=row.pk, next_run_at=row.next_run_at)
            .update(next_run_at=now + job.every, last_run_at=now)) == 1


def tick(now: datetime | None = None) -> dict[str, str | dict]:
    """Run the periodic jobs that are due, then send the due messages."""
    now = now or timezone.now()
    ran: dict[str, str | dict] = {}
    for job in PERIODIC:
        if not _claim(job, now):
            continue
        try:
            result = job.run(now)
        except Exception:  # one failing job must not stop the others
            logger.exception("periodic job %s failed", job.name)
            result = "failed (see the log)"
        Job.objects.filter(name=job.name).update(last_result=result[:300])
        ran[job.name] = result
    ran["messages"] = services.send_due(now)
    return ran


def run_in_background(stop: threading.Event, seconds: float = TICK_SECONDS) -> threading.Thread:
    """Tick every `seconds` in a thread of the worker process until `stop` is set."""

    def loop():
        while not stop.is_set():
            try:
                tick()
            except Exception:  # e.g. the database is briefly unreachable: try again later
                logger.exception("the periodic jobs could not run")
            finally:
                close_old_connections()
            stop.wait(seconds)

    thread = threading.Thread(target=loop, name="alliance-periodic-jobs", daemon=True)
    thread.start()
    return thread


"""Asking the background worker for a recomputation (`tasks`), or noting it when inside
`recompute.deferred_recomputation` (seeding, imports).

Kept apart from `recompute`, which the tasks call, so that the computing code never
imports the tasks that run it.
"""

from __future__ import annotations

import logging

from alliance.web.care.models import Case
from alliance.web.clinics.models import Clinic
from alliance.web.monitoring import tasks
from alliance.web.monitoring.recompute import clinic_settings_saved, pending_recomputation

logger = logging.getLogger(__name__)


def recompute_soon(case_id: int, after: str) -> None:
    """`request_recompute`, for code that has just saved something a person did (`after`
    says what, for the log): a failure to ask is logged, never raised, so that what the
    person did is kept even when the queue is unreachable."""
    try:
        request_recompute(case_id)
    except Exception:  # never fail the request that changed the data
        logger.exception("asking for the signals of case %s after %s failed", case_id, after)


def request_recompute(case_id: int) -> None:
    """Ask the worker to recompute a case, or note it when inside `deferred_recomputation`."""
    pending = pending_recomputation()
    if pending is not None:
        pending["cases"].add(case_id)
        return
    tasks.recompute_case.enqueue(case_id)


def request_case_ended(case: Case) -> None:
    """Ask the worker to handle the end of a case (`case_ended`), or note it when deferring."""
    pending = pending_recomputation()
    if pending is not None:
        pending["ended"].add(case.client.clinic_id)
        return
    tasks.case_ended.enqueue(case.pk)


def request_settings_check(clinic: Clinic) -> None:
    """Ask the worker to recompute the clinic's cases if a signal setting changed."""
    if pending_recomputation() is not None:
        clinic_settings_saved(clinic)  # only notes the cases while deferring
        return
    tasks.clinic_settings_saved.enqueue(clinic.pk)

"""Signal recomputation as background tasks (Django's tasks framework, database backend).

A check-in submission or a recorded session only enqueues the recomputation of its case;
the worker (`alliance worker`, started by `alliance serve` and `alliance demo`) runs the
same service functions the request used to call. The request stays fast and a slow or
failing recomputation never touches what the person just saved. The test settings use
the immediate backend, so there the signals are up to date when the request returns.

Bursts coalesce: when the queue already holds a later request for the same case, the
earlier one is skipped, since the later run reads everything the earlier would have.
"""

from __future__ import annotations

from django_tasks import TaskContext, task

from alliance.web import localtime
from alliance.web.care.models import Case
from alliance.web.clinics.models import Clinic
from alliance.web.monitoring import recompute


def _superseded(context: TaskContext, key: int) -> bool:
    """True when a later, not yet started request for the same `key` waits in the queue."""
    db_result = getattr(context.task_result, "db_result", None)
    if db_result is None:  # not the database backend (e.g. the immediate one in tests)
        return False
    return (type(db_result).objects.ready()
            .filter(task_path=db_result.task_path, enqueued_at__gt=db_result.enqueued_at,
                    args_kwargs__args__0=key)
            .exists())


@task(takes_context=True)
def recompute_case(context: TaskContext, case_id: int) -> str:
    """Recompute the signals of one case (after a form was submitted or a session recorded)."""
    if _superseded(context, case_id):
        return "superseded"
    zone = Case.objects.filter(pk=case_id).values_list("client__clinic__time_zone",
                                                         flat=True).first()
    if zone is None:
        return "case gone"
    # Days (a goal waiting since, a gap between sessions) as the clinic counts them.
    with localtime.activated(tz=zone):
        recompute.recompute_case_signals(Case(pk=case_id))
    return "recomputed"


@task()
def case_ended(case_id: int) -> str:
    """A case closed: refit the clinic's expected course if needed, recompute if it changed."""
    case = Case.objects.select_related("client__clinic").filter(pk=case_id).first()
    if case is None:
        return "case gone"
    with localtime.activated(case.client.clinic):
        recompute.case_ended(case)
    return "done"


@task(takes_context=True)
def clinic_settings_saved(context: TaskContext, clinic_id: int) -> str:
    """The clinic's settings changed: recompute every active case if a rule changed."""
    if _superseded(context, clinic_id):
        return "superseded"
    clinic = Clinic.objects.filter(pk=clinic_id).first()
    if clinic is None:
        return "clinic gone"
    with localtime.activated(clinic):
        changed = recompute.clinic_settings_saved(clinic)
    return "recomputed" if changed else "unchanged"

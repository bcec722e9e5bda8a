"""Scoping for the client portal: every portal query starts from the signed-in client's account.

The staff rule lives in `alliance.web.scoping`; this is its counterpart for clients:
- a client account sees the records of its own client only (its cases, their goals, tasks
  and the feedback it wrote), within the client's clinic;
- staff users have no client account, so they see nothing here, and client users have no
  staff membership, so `alliance.web.scoping` shows them nothing;
- a record outside the account answers 404, never 403, so its existence is not revealed.

Views call `get_*_or_404(account, pk)`; lists start from `*_of(account)`.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from alliance.web.care.models import Case
from alliance.web.goals.models import Goal, Task
from alliance.web.identity import account_for
from alliance.web.portal.models import ClientAccount, ClientFeedback


def is_client_user(user) -> bool:
    return account_for(user) is not None


def cases_of(account: ClientAccount | None) -> QuerySet[Case]:
    if account is None:
        return Case.objects.none()
    return Case.objects.filter(client_id=account.client_id,
                               client__clinic_id=account.client.clinic_id)


def current_case(account: ClientAccount | None) -> Case | None:
    """The case the portal is about: the client's newest active case, else their latest case."""
    cases = list(cases_of(account).select_related("client__clinic", "therapist")
                 .order_by("-start_date", "-pk"))
    active = [c for c in cases if c.is_active]
    return (active or cases or [None])[0]


def get_case_or_404(account: ClientAccount | None, pk) -> Case:
    try:
        return cases_of(account).select_related("client__clinic", "therapist").get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError):
        raise Http404("No such case.") from None


def feedback_of(account: ClientAccount | None) -> QuerySet[ClientFeedback]:
    """Feedback the client wrote in the portal, about their own cases."""
    if account is None:
        return ClientFeedback.objects.none()
    return ClientFeedback.objects.filter(account=account, case__in=cases_of(account))


def goals_of(account: ClientAccount | None) -> QuerySet[Goal]:
    """Goals of the client's own cases."""
    if account is None:
        return Goal.objects.none()
    return Goal.objects.filter(case__in=cases_of(account))


def get_goal_or_404(account: ClientAccount | None, pk) -> Goal:
    try:
        return goals_of(account).select_related("case__client__clinic").get(pk=pk)
    except (Goal.DoesNotExist, ValueError, TypeError):
        raise Http404("No such goal.") from None


def tasks_of(account: ClientAccount | None) -> QuerySet[Task]:
    """Tasks of the goals of the client's own cases."""
    if account is None:
        return Task.objects.none()
    return Task.objects.filter(goal__case__in=cases_of(account))


def get_task_or_404(account: ClientAccount | None, pk) -> Task:
    try:
        return tasks_of(account).select_related("goal__case__client__clinic").get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise Http404("No such task.") from None

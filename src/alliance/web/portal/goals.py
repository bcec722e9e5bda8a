"""Goals and tasks as the client sees and changes them, through `alliance.web.goals.services`.

Every change is made by the signed-in client (`by=account.client`); the goals services
check the rules (the client's own case, an active case, the state of the goal or task)
and raise a `GoalError` with a message written for the client. Records reach this module
through `alliance.web.portal.scoping` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from alliance.web import localtime
from alliance.web.goals import services as goal_services
from alliance.web.goals.models import Goal, Side, Task, TaskReport
from alliance.web.portal import scoping
from alliance.web.portal.models import ClientAccount


@dataclass
class TaskItem:
    task: Task
    needs_client: bool        # the therapist proposed it; the client has not agreed yet
    can_report: bool          # agreed by both and still going
    last_report: TaskReport | None
    goal: Goal | None = None  # the goal it serves: a task is never shown without it

    @property
    def status_text(self) -> str:
        task = self.task
        if task.status == Task.Status.DONE:
            return _("Finished")
        if task.status == Task.Status.STOPPED:
            return _("Stopped")
        if self.needs_client:
            return _("Suggested by your therapist: does it suit you?")
        if not task.both_confirmed:
            return _("Your suggestion: your therapist will look at it with you.")
        return _("Agreed by you both")


@dataclass
class GoalItem:
    goal: Goal
    tasks: list[TaskItem] = field(default_factory=list)

    @property
    def needs_client(self) -> bool:
        goal = self.goal
        return goal.status == Goal.Status.PROPOSED and not goal.client_confirmed

    @property
    def waiting_for_therapist(self) -> bool:
        goal = self.goal
        return goal.status == Goal.Status.PROPOSED and goal.waiting_for == Side.THERAPIST

    @property
    def status_text(self) -> str:
        goal = self.goal
        if goal.status == Goal.Status.AGREED:
            return _("Agreed by you both on %(day)s") % {"day": _date(goal.agreed_at)}
        if goal.status == Goal.Status.ACHIEVED:
            return _("Reached on %(day)s") % {"day": _date(goal.status_changed_at)}
        if goal.status == Goal.Status.DROPPED:
            return _("Set aside on %(day)s") % {"day": _date(goal.status_changed_at)}
        if self.needs_client:
            return _("Suggested by your therapist: does this goal fit for you?")
        return _("Your suggestion: your therapist will look at it with you.")


def _date(moment) -> str:
    return localtime.format_date(moment) or "—"


@dataclass
class Plan:
    """The client's goals and tasks in one case, and what is waiting for them."""

    open_goals: list[GoalItem]
    closed_goals: list[GoalItem]
    can_propose: bool

    @property
    def goals_to_confirm(self) -> list[GoalItem]:
        return [g for g in self.open_goals if g.needs_client]

    @property
    def tasks_to_confirm(self) -> list[TaskItem]:
        return [t for g in self.open_goals for t in g.tasks if t.needs_client]

    @property
    def tasks_to_report(self) -> list[TaskItem]:
        return [t for g in self.open_goals for t in g.tasks if t.can_report]

    @property
    def has_next_steps(self) -> bool:
        return bool(self.goals_to_confirm or self.tasks_to_confirm or self.tasks_to_report)


def client_plan(account: ClientAccount, case) -> Plan:
    """The case's goals with their tasks and each task's last report (three queries)."""
    reports = TaskReport.objects.order_by("-created_at", "-pk")
    goals = list(goal_services.goals_for_case(case)
                 .filter(case__in=scoping.cases_of(account))
                 .prefetch_related(Prefetch("tasks__reports", queryset=reports)))
    open_goals, closed_goals = [], []
    for goal in goals:
        item = GoalItem(goal)
        for task in goal.tasks.all():
            active = task.status == Task.Status.ACTIVE and goal.is_open
            item.tasks.append(TaskItem(
                task=task,
                needs_client=active and not task.client_confirmed,
                can_report=active and task.both_confirmed,
                last_report=next(iter(task.reports.all()), None), goal=goal))
        (open_goals if goal.is_open else closed_goals).append(item)
    return Plan(open_goals, closed_goals, can_propose=case.is_active)


def propose(account: ClientAccount, case, text: str) -> Goal:
    return goal_services.propose_goal(case, text, by=account.client)


def confirm_goal(account: ClientAccount, goal: Goal) -> Goal:
    return goal_services.confirm_goal(goal, by=account.client)


def confirm_task(account: ClientAccount, task: Task) -> Task:
    return goal_services.confirm_task(task, by=account.client)


def report_task(account: ClientAccount, task: Task, *, done: str,
                helpful: int | None) -> TaskReport:
    return goal_services.report_task(task, by=account.client, done=done, helpful=helpful)

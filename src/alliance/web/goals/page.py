"""The "Goals and tasks" section of the case page: its data, in a bounded number of queries.

Everything is read through `alliance.web.scoping` (the user's cases), in seven queries
whatever the number of goals, tasks, reviews and reports (one more for a supervisor,
whose supervisees scoping looks up): the goals, their tasks, the tasks' reports, the
goals' history, their reviews, the open review request and the case's sessions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch

from alliance.web import localtime, scoping
from alliance.web.care.models import Session
from alliance.web.goals import forms
from alliance.web.goals.charts import progress_chart
from alliance.web.goals.models import (Goal, GoalEvent, GoalReview, ReviewRequest, Side, Task,
                                       TaskReport)
from alliance.web.goals.services import (STATUS_ORDER, ReviewStatus, compute_review_status,
                                         session_at)

REPORTS_SHOWN = 3


def _day(moment) -> str:
    return localtime.format_date(moment)


def who(side: str, by_staff, by_client_id=None, *, own_id: int | None = None) -> str:
    """Who made a change, in words: "the client", "you", "Sam Rivera", or the client's
    words entered by a staff member."""
    if by_client_id is not None or (side == Side.CLIENT and by_staff is None):
        return "the client"
    name = "you" if by_staff is not None and by_staff.pk == own_id else \
        (by_staff.display_name if by_staff is not None else "a former colleague")
    if side == Side.CLIENT:
        return f"the client (in their words, entered by {name})"
    return name


def waiting_words(record, *, own: bool) -> str:
    waiting = record.waiting_for
    if waiting == Side.CLIENT:
        return "Waiting for the client to agree"
    if waiting == Side.THERAPIST:
        return "Waiting for your agreement" if own else "Waiting for the therapist's agreement"
    return ""


@dataclass
class ReviewRow:
    session: int
    date: dt.date | None
    client: int | None = None
    therapist: int | None = None


@dataclass
class TaskRow:
    task: Task
    state: str
    proposed: str
    reports: list = field(default_factory=list)   # newest first, at most REPORTS_SHOWN
    report_count: int = 0
    confirm_needed: bool = False                  # waiting for this user's confirmation


@dataclass
class GoalRow:
    goal: Goal
    state: str
    proposed: str
    confirmations: list[str]
    history: list[str]
    tasks: list[TaskRow]
    reviews: list[ReviewRow]
    chart: str = ""
    chart_alt: str = ""
    confirm_needed: bool = False
    revise_form: object = None
    rating_form: object = None
    task_form: object = None


@dataclass
class CaseGoals:
    case: object
    open_goals: list[GoalRow]
    closed_goals: list[GoalRow]
    review: ReviewStatus
    can_change: bool
    propose_form: object = None

    @property
    def has_goals(self) -> bool:
        return bool(self.open_goals or self.closed_goals)


def _state(goal: Goal, own: bool) -> str:
    if goal.status == Goal.Status.PROPOSED:
        return waiting_words(goal, own=own)
    if goal.status == Goal.Status.AGREED:
        return f"Agreed by both on {_day(goal.agreed_at)}"
    return f"{goal.get_status_display()} on {_day(goal.status_changed_at)}"


def _task_state(task: Task, own: bool) -> str:
    if task.status != Task.Status.ACTIVE:
        return f"{task.get_status_display()} on {_day(task.status_changed_at)}"
    return waiting_words(task, own=own) or "Agreed by both"


def _history(goal: Goal, own_id: int | None) -> list[str]:
    lines = []
    for event in goal.events.all():
        person = who(event.side, event.by_staff, event.by_client_id, own_id=own_id)
        task = f"task “{event.task.what}”" if event.task_id else ""
        text = {
            GoalEvent.Kind.PROPOSED: f"Proposed by {person}: “{event.new_text}”",
            GoalEvent.Kind.CONFIRMED: f"Agreed by {person}",
            GoalEvent.Kind.REVISED: f"Reworded by {person}: “{event.old_text}” → "
                                    f"“{event.new_text}”",
            GoalEvent.Kind.ACHIEVED: f"Marked achieved by {person}",
            GoalEvent.Kind.DROPPED: f"Dropped by {person}",
            GoalEvent.Kind.TASK_PROPOSED: f"New {task} proposed by {person}",
            GoalEvent.Kind.TASK_CONFIRMED: f"The {task} agreed by {person}",
            GoalEvent.Kind.TASK_DONE: f"The {task} marked finished by {person}",
            GoalEvent.Kind.TASK_STOPPED: f"The {task} stopped by {person}",
        }.get(event.kind, event.get_kind_display())
        lines.append(f"{_day(event.at)} · {text}")
    return lines


def _reviews(goal: Goal, sessions) -> list[ReviewRow]:
    dates = {number: date for number, date, _ in sessions}
    rows: dict[int, ReviewRow] = {}
    for review in goal.reviews.all():  # oldest first: later ratings at a session win
        number = review.session.number if review.session_id else \
            session_at(sessions, review.created_at)
        row = rows.setdefault(number, ReviewRow(number, dates.get(number)))
        setattr(row, review.side, review.rating)
    return [rows[n] for n in sorted(rows)]


def _chart(goal: Goal, reviews: list[ReviewRow]) -> tuple[str, str]:
    client = [(r.session, r.client) for r in reviews if r.client is not None]
    therapist = [(r.session, r.therapist) for r in reviews if r.therapist is not None]
    if len(client) + len(therapist) < 3:
        return "", ""
    alt = (f"Progress on “{goal.text}”, rated 0–10 at sessions {reviews[0].session}–"
           f"{reviews[-1].session}: the client's ratings "
           f"{', '.join(str(r) for _, r in client) or 'none'}; the therapist's "
           f"{', '.join(str(r) for _, r in therapist) or 'none'}. The numbers are also in "
           f"the table.")
    return progress_chart(client, therapist), alt


def case_goals(user, case, *, can_change: bool) -> CaseGoals:
    """The section's data for `case` as `user` may see it (see the module docstring)."""
    cases = scoping.cases_for(user).filter(pk=case.pk)
    staff = scoping.staff_for(user)
    own_id = staff.pk if staff else None
    own = case.therapist_id == own_id
    reports = Prefetch("tasks", queryset=Task.objects.select_related("proposed_by_staff")
                       .prefetch_related(Prefetch("reports", queryset=TaskReport.objects
                                                  .select_related("session"))))
    events = Prefetch("events", queryset=GoalEvent.objects.select_related("by_staff", "task"))
    reviews = Prefetch("reviews", queryset=GoalReview.objects.select_related("session"))
    goals = list(Goal.objects.filter(case__in=cases)
                 .select_related("proposed_by_staff", "therapist_confirmed_by",
                                 "status_changed_by_staff")
                 .prefetch_related(reports, events, reviews)
                 .order_by("proposed_at", "pk"))
    sessions = [(n, d, s == Session.Status.ATTENDED) for n, d, s in
                Session.objects.filter(case__in=cases).order_by("number")
                .values_list("number", "date", "status")]
    requested = ReviewRequest.objects.filter(case__in=cases, fulfilled_at__isnull=True).exists()
    client_reviews = [(r.session.number if r.session_id else None, r.created_at)
                      for g in goals for r in g.reviews.all() if r.side == Side.CLIENT]
    review = compute_review_status(
        interval=case.client.clinic.goal_review_interval,
        agreed_at=[g.first_agreed_at for g in goals if g.status == Goal.Status.AGREED],
        client_reviews=client_reviews, sessions=sessions, requested=requested)

    rank = {status: i for i, status in enumerate(STATUS_ORDER)}
    rows = []
    for goal in sorted(goals, key=lambda g: rank.get(g.status, 9)):
        row_reviews = _reviews(goal, sessions)
        chart, alt = _chart(goal, row_reviews)
        row = GoalRow(
            goal=goal, state=_state(goal, own),
            proposed=f"Proposed by {who(goal.proposed_by, goal.proposed_by_staff, None, own_id=own_id)}"
                     f" on {_day(goal.proposed_at)}",
            confirmations=_confirmations(goal, own_id), history=_history(goal, own_id),
            tasks=[_task_row(t, own, own_id, sessions) for t in goal.tasks.all()],
            reviews=row_reviews, chart=chart, chart_alt=alt,
            confirm_needed=own and goal.status == Goal.Status.PROPOSED
            and goal.waiting_for == Side.THERAPIST)
        if can_change and goal.is_open:
            row.revise_form = forms.ReviseGoalForm(initial={"text": goal.text},
                                                   auto_id=f"goal-{goal.pk}-revise-%s")
            row.task_form = forms.ProposeTaskForm(auto_id=f"goal-{goal.pk}-task-%s")
            if goal.is_agreed:
                row.rating_form = forms.RatingForm(auto_id=f"goal-{goal.pk}-rating-%s")
        rows.append(row)
    return CaseGoals(case=case, open_goals=[r for r in rows if r.goal.is_open],
                     closed_goals=[r for r in rows if not r.goal.is_open], review=review,
                     can_change=can_change,
                     propose_form=forms.ProposeGoalForm(auto_id="new-goal-%s")
                     if can_change else None)


def _confirmations(record, own_id) -> list[str]:
    """Who agreed and when, leaving out the proposing side (its proposal is its agreement)."""
    parts = []
    proposed = {record.proposed_at, getattr(record, "revised_at", None)}
    if record.client_confirmed_at and record.client_confirmed_at not in proposed:
        parts.append(f"the client on {_day(record.client_confirmed_at)}")
    if record.therapist_confirmed_at and record.therapist_confirmed_at not in proposed:
        person = who(Side.THERAPIST, record.therapist_confirmed_by, None, own_id=own_id)
        parts.append(f"{person} on {_day(record.therapist_confirmed_at)}")
    return parts


@dataclass
class ReportRow:
    session: int
    report: TaskReport


def _task_row(task: Task, own: bool, own_id, sessions) -> TaskRow:
    reports = [ReportRow(r.session.number if r.session_id else session_at(sessions, r.created_at),
                         r) for r in task.reports.all()]
    person = who(task.proposed_by, task.proposed_by_staff, None, own_id=own_id)
    return TaskRow(task=task, state=_task_state(task, own),
                   proposed=f"Proposed by {person} on {_day(task.proposed_at)}",
                   reports=list(reversed(reports))[:REPORTS_SHOWN], report_count=len(reports),
                   confirm_needed=own and task.status == Task.Status.ACTIVE
                   and task.waiting_for == Side.THERAPIST)

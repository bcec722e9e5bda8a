"""The rules of goals and tasks: proposing, confirming, revising, reviewing, reporting.

Either side proposes; the proposer's side confirms by proposing. A goal (or task) is
*agreed* once both client and therapist have confirmed it. A revision keeps the old
wording in the history and needs both to confirm again. Every change records who made
it (a staff member or the client) and when, as a `GoalEvent`.

Who may act: the case's own therapist (a supervisor reads, but does not change), or the
case's own client (through the client portal or their check-in). Anyone else, a closed
case, or a change the current state does not allow raises `GoalError` (a `DomainError`
with a `kind` and a message written for the person using the site).

Changes announce `goals.events.goals_changed` after they commit, so the case's goal and
task signals are recomputed (`goals.receivers`). A check-in that stores goal answers
together with the client's form runs them `quietly()`: its own event recomputes the case.

API (the client portal calls these too)::

    propose_goal(case, text, *, by, proposed_by=None) -> Goal
    confirm_goal(goal, *, by) -> Goal
    revise_goal(goal, text, *, by) -> Goal
    set_goal_status(goal, status, *, by) -> Goal              # "achieved" / "dropped"
    record_review(goal, *, by, rating, session=None) -> GoalReview
    request_review(case, *, by) -> ReviewRequest
    propose_task(goal, what, *, how_often="", until=None, by) -> Task
    confirm_task(task, *, by) -> Task
    set_task_status(task, status, *, by) -> Task              # "done" / "stopped"
    report_task(task, *, by, done, helpful, session=None) -> TaskReport
    goals_for_case(case) -> QuerySet[Goal]
    review_due(case) -> bool;  review_status(case, upto=None) -> ReviewStatus
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Union

from django.db import IntegrityError, transaction
from django.db.models import Case as Cases
from django.db.models import IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from alliance.web.audit.services import record_change
from alliance.web.care.models import Case, Client, Session
from alliance.web.clinics.models import StaffMember
from alliance.web.errors import DomainError
from alliance.web.goals.events import goals_changed
from alliance.web.goals.models import (RATING_MAX, RATING_MIN, TEXT_MAX_LENGTH, Goal, GoalEvent,
                                       GoalReview, ReviewRequest, Side, Task, TaskReport)

Actor = Union[StaffMember, Client]
HOW_OFTEN_MAX_LENGTH = 120


class GoalError(DomainError):
    """A goal or task rule said no. `kind` names the rule; `str(error)` is for the user.

    Kinds: ``not_allowed`` (not the case's therapist or client), ``case_closed``,
    ``invalid_text``, ``unchanged``, ``already_confirmed``, ``already_agreed``,
    ``closed`` (achieved, dropped, finished or stopped), ``not_agreed``,
    ``invalid_status``, ``invalid_rating``, ``invalid_session``, ``invalid_date``,
    ``invalid_done``, ``not_running``, ``already_requested``, ``nothing_to_review``.
    """

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


# --------------------------------------------------------------------------- helpers

_quiet: ContextVar[set | None] = ContextVar("alliance_goals_quiet", default=None)


@contextmanager
def quietly():
    """Make changes without announcing them (the caller's own event recomputes the case)."""
    token = _quiet.set(set())
    try:
        yield
    finally:
        _quiet.reset(token)


#: The audit trail's words for each change, the same whichever page or API made it.
AUDIT_DETAIL = {
    "propose_goal": ("create", "goal proposed"), "confirm_goal": ("update", "goal confirmed"),
    "revise_goal": ("update", "goal reworded"), "achieved": ("update", "goal marked achieved"),
    "dropped": ("update", "goal dropped"), "record_review": ("create", "progress rated"),
    "request_review": ("create", "goal review requested"),
    "propose_task": ("create", "task proposed"), "confirm_task": ("update", "task confirmed"),
    "done": ("update", "task marked finished"), "stopped": ("update", "task stopped"),
    "report_task": ("create", "task reported on"),
}


def _audit(change: str, target, by) -> None:
    # A check-in that stores goal answers with its form (`quietly`) is recorded as one
    # event, the form's.
    if _quiet.get() is None:
        action, detail = AUDIT_DETAIL[change]
        record_change(action, target, by=by, detail=detail)


def _announce(case_id: int) -> None:
    if _quiet.get() is not None:
        return
    transaction.on_commit(lambda: goals_changed.send(sender=Goal, case_id=case_id))


def side_of(by: Actor) -> str:
    if isinstance(by, StaffMember):
        return Side.THERAPIST
    if isinstance(by, Client):
        return Side.CLIENT
    raise TypeError(f"a goal change is made by a StaffMember or a Client, not {by!r}")


def _who(by: Actor) -> dict:
    return ({"by_staff": by, "by_client": None} if isinstance(by, StaffMember)
            else {"by_staff": None, "by_client": by})


def _check_actor(case: Case, by: Actor) -> str:
    side = side_of(by)
    if side == Side.THERAPIST:
        if not by.is_active or by.pk != case.therapist_id:
            raise GoalError("not_allowed",
                            "Only the case's therapist can change its goals and tasks.")
    elif by.pk != case.client_id:
        # The client's side reads these in the client's language (docs/languages.md).
        raise GoalError("not_allowed", _("You can only change your own goals and tasks."))
    if case.status != Case.Status.ACTIVE:
        raise GoalError("case_closed",
                        _("This case has ended, so its goals and tasks can no longer change."))
    return side


def _clean_text(text, what: str) -> str:
    text = " ".join(str(text or "").split())
    if not text:
        raise GoalError("invalid_text", f"Please write the {what} in a few words.")
    if len(text) > TEXT_MAX_LENGTH:
        raise GoalError("invalid_text", f"Please keep the {what} under {TEXT_MAX_LENGTH} "
                                        f"characters (it has {len(text)}).")
    return text


def _rating(value, what: str, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or not RATING_MIN <= value <= RATING_MAX:
        raise GoalError("invalid_rating",
                        f"{what} is a whole number from {RATING_MIN} to {RATING_MAX}, "
                        f"not {value!r}.")
    return int(value)


def _check_session(session: Session | None, case_id: int) -> None:
    if session is not None and session.case_id != case_id:
        raise GoalError("invalid_session", "That session belongs to another case.")


def _copy(fresh, target):
    """Put the saved state on the caller's object too."""
    if target is not fresh:
        for field in type(fresh)._meta.concrete_fields:
            setattr(target, field.attname, getattr(fresh, field.attname))
    return target


def _locked_goal(goal: Goal) -> Goal:
    # Both sides may confirm at the same moment: read and change the goal under a lock
    # (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises writers).
    return Goal.objects.select_for_update(of=("self",)).select_related("case").get(pk=goal.pk)


def _locked_task(task: Task) -> Task:
    return (Task.objects.select_for_update(of=("self",)).select_related("goal__case")
            .get(pk=task.pk))


def _event(goal: Goal, kind: str, side: str, by: Actor, now, *, task: Task | None = None,
           old_text: str = "", new_text: str = "") -> GoalEvent:
    return GoalEvent.objects.create(goal=goal, task=task, kind=kind, side=side, at=now,
                                    old_text=old_text, new_text=new_text, **_who(by))


def _confirm(record, side: str, by: Actor, now) -> None:
    if side == Side.CLIENT:
        record.client_confirmed_at = now
    else:
        record.therapist_confirmed_at = now
        record.therapist_confirmed_by = by if isinstance(by, StaffMember) else None


def _status_changed(record, status: str, by: Actor, now) -> None:
    record.status = status
    record.status_changed_at = now
    record.status_changed_by_staff = by if isinstance(by, StaffMember) else None
    record.status_changed_by_client = by if isinstance(by, Client) else None


def _waiting_text(record, side: str, what: str) -> str:
    if side == Side.CLIENT:
        return (_("You have already confirmed this goal; it is waiting for your therapist.")
                if what == "goal" else
                _("You have already confirmed this task; it is waiting for your therapist."))
    return f"You have already confirmed this {what}; it is waiting for the client."


# --------------------------------------------------------------------------- goals

def propose_goal(case: Case, text: str, *, by: Actor, proposed_by: str | None = None) -> Goal:
    """A new goal, confirmed by the proposing side.

    `proposed_by` ("client" or "therapist", default: the side of `by`) lets the
    therapist enter a goal the client put into words in the session: it is then the
    client's proposal (recorded by the therapist, so confirmed on the client's side) and
    waits for the therapist's confirmation.
    """
    side = _check_actor(case, by)
    proposer = proposed_by or side
    if proposer not in Side.values:
        raise GoalError("invalid_side", "A goal is proposed by the client or the therapist.")
    if side == Side.CLIENT and proposer != Side.CLIENT:
        raise GoalError("not_allowed", "You can propose goals of your own.")
    text = _clean_text(text, "goal")
    now = timezone.now()
    with transaction.atomic():
        goal = Goal(case=case, text=text, proposed_by=proposer, proposed_at=now,
                    proposed_by_staff=by if isinstance(by, StaffMember) else None,
                    proposed_by_client=by if isinstance(by, Client) else None)
        _confirm(goal, proposer, by, now)
        goal.save()
        _event(goal, GoalEvent.Kind.PROPOSED, proposer, by, now, new_text=text)
        _audit("propose_goal", goal, by)
    _announce(case.pk)
    return goal


def confirm_goal(goal: Goal, *, by: Actor) -> Goal:
    """The other side agrees to the goal; once both have, it is agreed."""
    with transaction.atomic():
        fresh = _locked_goal(goal)
        side = _check_actor(fresh.case, by)
        if fresh.status == Goal.Status.AGREED:
            raise GoalError("already_agreed", _("This goal is already agreed by both of you."))
        if fresh.status != Goal.Status.PROPOSED:
            raise GoalError("closed", f"This goal is {fresh.get_status_display().lower()}; "
                                      "it cannot be confirmed any more.")
        if fresh.confirmed_by(side):
            raise GoalError("already_confirmed", _waiting_text(fresh, side, "goal"))
        now = timezone.now()
        _confirm(fresh, side, by, now)
        if fresh.both_confirmed:
            _status_changed(fresh, Goal.Status.AGREED, by, now)
            fresh.first_agreed_at = fresh.first_agreed_at or now
        fresh.save()
        _event(fresh, GoalEvent.Kind.CONFIRMED, side, by, now)
        _audit("confirm_goal", fresh, by)
    _announce(fresh.case_id)
    return _copy(fresh, goal)


def revise_goal(goal: Goal, text: str, *, by: Actor) -> Goal:
    """New wording for an open goal: the old one stays in the history, and both confirm again.

    The revising side's confirmation is the revision itself; the other side's is cleared,
    so an agreed goal goes back to proposed until the other side confirms the new words.
    """
    text = _clean_text(text, "goal")
    with transaction.atomic():
        fresh = _locked_goal(goal)
        side = _check_actor(fresh.case, by)
        if not fresh.is_open:
            raise GoalError("closed", f"This goal is {fresh.get_status_display().lower()}; "
                                      "propose a new goal instead.")
        if text == fresh.text:
            raise GoalError("unchanged", "The new wording is the same as the current one.")
        now = timezone.now()
        old = fresh.text
        fresh.text, fresh.revised_at = text, now
        fresh.client_confirmed_at = fresh.therapist_confirmed_at = None
        fresh.therapist_confirmed_by = None
        _confirm(fresh, side, by, now)
        if fresh.status == Goal.Status.AGREED:
            _status_changed(fresh, Goal.Status.PROPOSED, by, now)
        fresh.save()
        _event(fresh, GoalEvent.Kind.REVISED, side, by, now, old_text=old, new_text=text)
        _audit("revise_goal", fresh, by)
    _announce(fresh.case_id)
    return _copy(fresh, goal)


CLOSING = {Goal.Status.ACHIEVED: (GoalEvent.Kind.ACHIEVED, Task.Status.DONE),
           Goal.Status.DROPPED: (GoalEvent.Kind.DROPPED, Task.Status.STOPPED)}


def set_goal_status(goal: Goal, status: str, *, by: Actor) -> Goal:
    """Mark a goal achieved (only an agreed one) or dropped, dated, with who did it.

    Its active tasks end with it: finished when the goal is achieved, stopped when it is
    dropped.
    """
    if status not in CLOSING:
        raise GoalError("invalid_status", "A goal can be marked achieved or dropped.")
    with transaction.atomic():
        fresh = _locked_goal(goal)
        side = _check_actor(fresh.case, by)
        if not fresh.is_open:
            raise GoalError("closed", f"This goal is already "
                                      f"{fresh.get_status_display().lower()}.")
        if status == Goal.Status.ACHIEVED and fresh.status != Goal.Status.AGREED:
            raise GoalError("not_agreed", "Only a goal you have both agreed on can be marked "
                                          "achieved; you can drop it instead.")
        now = timezone.now()
        kind, task_status = CLOSING[status]
        _status_changed(fresh, status, by, now)
        fresh.save()
        _event(fresh, kind, side, by, now)
        _audit(status, fresh, by)
        for task in fresh.tasks.filter(status=Task.Status.ACTIVE):
            _status_changed(task, task_status, by, now)
            task.save()
    _announce(fresh.case_id)
    return _copy(fresh, goal)


def record_review(goal: Goal, *, by: Actor, rating: int, session: Session | None = None,
                  administration=None) -> GoalReview:
    """A progress rating (0–10) of an agreed goal by one side.

    `session`: the session it is about (a check-in's session); without it the rating is
    placed at the last session on or before its date. A client's rating fulfils an open
    review request of the case.
    """
    rating = _rating(rating, "A progress rating")
    with transaction.atomic():
        fresh = Goal.objects.select_related("case").get(pk=goal.pk)
        side = _check_actor(fresh.case, by)
        if fresh.status != Goal.Status.AGREED:
            raise GoalError("not_agreed", "Progress is rated on goals you have both agreed on.")
        _check_session(session, fresh.case_id)
        now = timezone.now()
        review = GoalReview.objects.create(goal=fresh, session=session, side=side,
                                           rating=rating, administration=administration,
                                           created_at=now, **_who(by))
        if side == Side.CLIENT:
            ReviewRequest.objects.filter(case_id=fresh.case_id,
                                         fulfilled_at__isnull=True).update(fulfilled_at=now)
        _audit("record_review", fresh, by)
    _announce(fresh.case_id)
    return review


def request_review(case: Case, *, by: StaffMember) -> ReviewRequest:
    """The therapist asks for a goal review now: the client's next check-in asks for ratings."""
    if side_of(by) != Side.THERAPIST:
        raise GoalError("not_allowed", "Only the case's therapist can ask for a goal review.")
    _check_actor(case, by)
    if not Goal.objects.filter(case=case, status=Goal.Status.AGREED).exists():
        raise GoalError("nothing_to_review", "There is no agreed goal to review yet.")
    try:
        with transaction.atomic():
            requested = ReviewRequest.objects.create(case=case, requested_by=by)
            _audit("request_review", case, by)
            return requested
    except IntegrityError:
        raise GoalError("already_requested", "A review is already requested: the client's "
                                             "next check-in asks for their ratings.") from None


# --------------------------------------------------------------------------- tasks

def _until(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise GoalError("invalid_date", "Please give the end date as a date.")
    if value < timezone.localdate():
        raise GoalError("invalid_date", "That date has passed: please choose today or later.")
    return value


def propose_task(goal: Goal, what: str, *, how_often: str = "", until: dt.date | None = None,
                 by: Actor) -> Task:
    """A task for an open goal (what, how often, until when), confirmed by the proposer."""
    what = _clean_text(what, "task")
    how_often = " ".join(str(how_often or "").split())
    if len(how_often) > HOW_OFTEN_MAX_LENGTH:
        raise GoalError("invalid_text", f"Please keep 'how often' under {HOW_OFTEN_MAX_LENGTH} "
                                        "characters.")
    until = _until(until)
    with transaction.atomic():
        fresh = Goal.objects.select_related("case").get(pk=goal.pk)
        side = _check_actor(fresh.case, by)
        if not fresh.is_open:
            raise GoalError("closed", f"This goal is {fresh.get_status_display().lower()}; "
                                      "tasks belong to open goals.")
        now = timezone.now()
        task = Task(goal=fresh, what=what, how_often=how_often, until=until, proposed_by=side,
                    proposed_at=now,
                    proposed_by_staff=by if isinstance(by, StaffMember) else None,
                    proposed_by_client=by if isinstance(by, Client) else None)
        _confirm(task, side, by, now)
        task.save()
        _event(fresh, GoalEvent.Kind.TASK_PROPOSED, side, by, now, task=task, new_text=what)
        _audit("propose_task", task, by)
    _announce(fresh.case_id)
    return task


def confirm_task(task: Task, *, by: Actor) -> Task:
    """The other side agrees to the task; once both have, the client reports on it."""
    with transaction.atomic():
        fresh = _locked_task(task)
        side = _check_actor(fresh.goal.case, by)
        if fresh.status != Task.Status.ACTIVE or not fresh.goal.is_open:
            raise GoalError("closed", _("This task has ended; it cannot be confirmed any more."))
        if fresh.both_confirmed:
            raise GoalError("already_agreed", _("This task is already agreed by both of you."))
        if fresh.confirmed_by(side):
            raise GoalError("already_confirmed", _waiting_text(fresh, side, "task"))
        now = timezone.now()
        _confirm(fresh, side, by, now)
        fresh.save()
        _event(fresh.goal, GoalEvent.Kind.TASK_CONFIRMED, side, by, now, task=fresh)
        _audit("confirm_task", fresh, by)
    _announce(fresh.goal.case_id)
    return _copy(fresh, task)


TASK_CLOSING = {Task.Status.DONE: GoalEvent.Kind.TASK_DONE,
                Task.Status.STOPPED: GoalEvent.Kind.TASK_STOPPED}


def set_task_status(task: Task, status: str, *, by: Actor) -> Task:
    """End an active task: finished ("done") or stopped."""
    if status not in TASK_CLOSING:
        raise GoalError("invalid_status", "A task can be marked finished or stopped.")
    with transaction.atomic():
        fresh = _locked_task(task)
        side = _check_actor(fresh.goal.case, by)
        if fresh.status != Task.Status.ACTIVE:
            raise GoalError("closed", f"This task is already "
                                      f"{fresh.get_status_display().lower()}.")
        if status == Task.Status.DONE and not fresh.is_agreed:
            # Nothing was done yet: a suggestion is withdrawn (stopped), not finished.
            raise GoalError("not_agreed", "This task is not agreed yet, so it cannot be "
                                          "finished; withdraw the suggestion instead.")
        now = timezone.now()
        _status_changed(fresh, status, by, now)
        fresh.save()
        _event(fresh.goal, TASK_CLOSING[status], side, by, now, task=fresh)
        _audit(status, fresh, by)
    _announce(fresh.goal.case_id)
    return _copy(fresh, task)


def report_task(task: Task, *, by: Actor, done: str, helpful: int | None,
                session: Session | None = None, administration=None) -> TaskReport:
    """Whether an agreed, active task was done (done / partly / not done) and how helpful
    it was (0–10).

    A task that was not done has no helpfulness rating: `helpful` is then not stored.
    """
    if done not in TaskReport.Done.values:
        raise GoalError("invalid_done", "Please say whether the task was done, partly done or "
                                        "not done.")
    helpful = _rating(helpful, "How helpful a task was", optional=True)
    if done == TaskReport.Done.NOT_DONE:
        helpful = None
    with transaction.atomic():
        fresh = Task.objects.select_related("goal__case").get(pk=task.pk)
        side = _check_actor(fresh.goal.case, by)
        if not fresh.is_running or not fresh.goal.is_open:
            raise GoalError("not_running", _("Reports are for tasks you have both agreed on "
                                             "and that are still going."))
        _check_session(session, fresh.goal.case_id)
        report = TaskReport.objects.create(task=fresh, session=session, done=done,
                                           helpful=helpful, side=side,
                                           administration=administration,
                                           created_at=timezone.now(), **_who(by))
        _audit("report_task", fresh, by)
    _announce(fresh.goal.case_id)
    return report


# --------------------------------------------------------------------------- reading

STATUS_ORDER = (Goal.Status.AGREED, Goal.Status.PROPOSED, Goal.Status.ACHIEVED,
                Goal.Status.DROPPED)


def goals_for_case(case: Case):
    """The case's goals with their tasks: agreed first, then proposed, achieved, dropped.

    The caller has the case from `alliance.web.scoping` (staff) or the signed-in client's
    own case (portal): this function does not check who asks.
    """
    rank = Cases(*(When(status=s, then=Value(i)) for i, s in enumerate(STATUS_ORDER)),
                 default=Value(9), output_field=IntegerField())
    return (Goal.objects.filter(case=case).annotate(status_rank=rank)
            .order_by("status_rank", "proposed_at", "pk").prefetch_related("tasks"))


@dataclass(frozen=True)
class ReviewStatus:
    """Whether the client's check-in should ask for goal ratings, and why, in words."""

    due: bool
    requested: bool
    interval: int
    agreed_goals: int
    last_review_session: int | None   # the client's last rating (session number)
    since_session: int | None         # counting from (last review, or first agreement)
    sessions_since: int
    message: str

    def to_dict(self) -> dict:
        return {"due": self.due, "requested": self.requested, "interval": self.interval,
                "agreed_goals": self.agreed_goals,
                "last_review_session": self.last_review_session,
                "since_session": self.since_session, "sessions_since": self.sessions_since,
                "message": self.message}


def session_at(sessions: Sequence[tuple[int, dt.date, bool]], moment) -> int:
    """The number of the last session dated on or before `moment` (0 before the first).

    `sessions`: (number, date, attended) of one case. A goal, rating or report without
    a session is placed at this session.
    """
    day = moment if isinstance(moment, dt.date) and not isinstance(moment, dt.datetime) \
        else timezone.localdate(moment)
    numbers = [number for number, date, _ in sessions if date <= day]
    return max(numbers, default=0)


def compute_review_status(*, interval: int, agreed_at: Iterable, client_reviews: Iterable,
                          sessions: Sequence[tuple[int, dt.date, bool]], requested: bool,
                          upto: int | None = None) -> ReviewStatus:
    """The review rule on loaded data (see `review_status`).

    `agreed_at`: when each currently agreed goal was first agreed; `client_reviews`:
    (session number or None, when) of the client's ratings of the case's goals.
    """
    agreed_at = [a for a in agreed_at if a is not None]
    if not agreed_at:
        return ReviewStatus(False, requested, interval, 0, None, None, 0,
                            "No agreed goals yet: reviews start once a goal is agreed.")
    if upto is not None:
        sessions = [s for s in sessions if s[0] <= upto]
    numbers = [number if number is not None else session_at(sessions, when)
               for number, when in client_reviews]
    numbers = [n for n in numbers if upto is None or n <= upto]
    last = max(numbers, default=None)
    since = last if last is not None else min(session_at(sessions, a) for a in agreed_at)
    count = sum(1 for number, _, attended in sessions if attended and number > since)
    due = requested or count >= interval
    if requested:
        message = ("A review has been asked for: the client's next check-in asks for their "
                   "progress ratings.")
    elif due:
        message = (f"A review is due: {count} session{'s' if count != 1 else ''} since "
                   f"{'the last review' if last is not None else 'the goals were agreed'}. "
                   "The client's next check-in asks for their ratings.")
    else:
        left = interval - count
        message = (f"Next review in {left} session{'s' if left != 1 else ''} (every "
                   f"{interval} sessions).")
    return ReviewStatus(due, requested, interval, len(agreed_at), last, since, count, message)


def review_status(case: Case, upto: int | None = None) -> ReviewStatus:
    """Whether a goal review is due for the case (four queries).

    Due when the therapist asked for one and the client has not rated since, or when
    the clinic's interval (default 4) of attended sessions has passed since the
    client's last rating — counted from the session at which the first goal was agreed
    when there is no rating yet. `upto`: judge as of this session number (a check-in's
    session).
    """
    clinic = case.client.clinic
    agreed = list(Goal.objects.filter(case=case, status=Goal.Status.AGREED)
                  .values_list("first_agreed_at", flat=True))
    reviews = list(GoalReview.objects.filter(goal__case=case, side=Side.CLIENT)
                   .values_list("session__number", "created_at"))
    sessions = [(n, d, s == Session.Status.ATTENDED) for n, d, s in
                Session.objects.filter(case=case).values_list("number", "date", "status")]
    requested = ReviewRequest.objects.filter(case=case, fulfilled_at__isnull=True).exists()
    return compute_review_status(interval=clinic.goal_review_interval, agreed_at=agreed,
                                 client_reviews=reviews, sessions=sessions,
                                 requested=requested, upto=upto)


def review_due(case: Case) -> bool:
    """True when the client's next check-in should ask for progress ratings."""
    return review_status(case).due

"""Goals, tasks, reviews and reports for the demo clinic (a step of `alliance.web.demo`).

Every active case gets one to three goals in the client's own words
(`goals.demo_texts`), dated along its sessions as they would have happened:

- proposed at a session, by the client (in their words, entered by the therapist, who
  agrees at once) or by the therapist (the client agrees in that session's check-in);
  the newest goal of some cases still waits for the client's (or the therapist's)
  agreement; a few goals were reworded and agreed again, a few achieved or dropped;
- reviews about every four sessions from the client (in their check-in, linked to it)
  and from the therapist: mostly rising progress, some goals levelling off, some where
  the two see it differently;
- one or two tasks per agreed goal, agreed at the next check-in, and reported on at each
  answered check-in after that: most done and helpful, some repeatedly not done or not
  helpful (and then stopped), so that every kind of goal and task signal has examples;
- the cases whose latest check-in is still waiting (the demo's live links) have a goal
  suggested by the therapist, a review asked for and a running task, so that opening the
  link shows the check-in's goal questions.

Rows are written in bulk, without the services (which date changes "now"), following the
same rules; the signals are computed afterwards with the rest of the clinic's. Seeding is
idempotent: cases that already have goals are left alone.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.utils import timezone

from alliance.web import localtime
from alliance.web.care.models import Case, Session
from alliance.web.checkins.models import Administration
from alliance.web.goals.demo_texts import GOALS, REVISIONS
from alliance.web.goals.models import (Goal, GoalEvent, GoalReview, ReviewRequest, Side, Task,
                                       TaskReport)

REVIEW_EVERY = 4


@dataclass
class _Seen:
    """One attended session of a case, with the client's check-in if it was answered."""

    session: Session
    answered_at: dt.datetime | None
    administration_id: int | None


@dataclass
class _Rows:
    goals: list[Goal] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    events: list[GoalEvent] = field(default_factory=list)
    reviews: list[GoalReview] = field(default_factory=list)
    reports: list[TaskReport] = field(default_factory=list)
    requests: list[ReviewRequest] = field(default_factory=list)


def _at(date: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    # The clinic's wall-clock time (seed_goals runs in its zone), never later than now.
    return min(localtime.at(date, hour, minute), timezone.now())


def seed_goals(clinic, pending=(), *, seed: int = 7) -> int:
    """Give every active case of `clinic` without goals its goals, tasks and reviews.

    `pending`: sessions whose client check-in is still waiting (the demo's live links).
    Returns the number of goals created. Times are the clinic's local ones.
    """
    with localtime.activated(clinic):
        return _seed_goals(clinic, pending, seed)


def _seed_goals(clinic, pending, seed: int) -> int:
    rng = random.Random(seed * 7919 + 11)
    cases = list(Case.objects.filter(client__clinic=clinic, status=Case.Status.ACTIVE)
                 .exclude(goals__isnull=False).select_related("client", "therapist")
                 .order_by("pk"))
    if not cases:
        return 0
    from alliance.web.monitoring.data import clinic_instruments

    client_form = clinic_instruments(clinic).client.id
    answered = {session_id: (pk, when) for session_id, pk, when in
                Administration.objects.filter(session__case__in=cases,
                                              instrument_id=client_form, respondent="client",
                                              submitted_at__isnull=False)
                .values_list("session_id", "pk", "submitted_at")}
    seen: dict[int, list[_Seen]] = {case.pk: [] for case in cases}
    for session in (Session.objects.filter(case__in=cases, status=Session.Status.ATTENDED)
                    .order_by("case_id", "number")):
        pk, when = answered.get(session.pk, (None, None))
        seen[session.case_id].append(_Seen(session, when, pk))
    waiting = {s.case_id: s for s in pending}
    rows = _Rows()
    texts = list(GOALS)
    for case in cases:
        sessions = seen[case.pk]
        if sessions:
            _case(case, sessions, waiting.get(case.pk), texts, rng, rows)
    Goal.objects.bulk_create(rows.goals, batch_size=500)
    Task.objects.bulk_create(rows.tasks, batch_size=500)
    GoalEvent.objects.bulk_create(rows.events, batch_size=500)
    GoalReview.objects.bulk_create(rows.reviews, batch_size=500)
    TaskReport.objects.bulk_create(rows.reports, batch_size=500)
    ReviewRequest.objects.bulk_create(rows.requests)
    return len(rows.goals)


def _case(case, sessions: list[_Seen], pending: Session | None, texts, rng, rows: _Rows):
    n = len(sessions)
    count = 1 if n < 5 else rng.choice((1, 2, 2, 3)) if n < 12 else rng.choice((2, 2, 3, 3))
    chosen = rng.sample(texts, count)
    starts = sorted({0, *(rng.randint(1, max(1, n // 2)) for _ in range(count - 1))})
    while len(starts) < count:
        starts.append(min(n - 1, starts[-1] + 1))
    for k, ((text, tasks), start) in enumerate(zip(chosen, starts)):
        newest = k == count - 1
        still_waiting = newest and count > 1 and rng.random() < 0.3
        if still_waiting:  # a recent proposal, not yet agreed
            start = max(start, n - rng.randint(1, 3))
        _goal(case, sessions, start, text, tasks, rng, rows, waiting=still_waiting)
    if pending is not None:
        _pending_checkin(case, sessions, pending, texts, chosen, rng, rows)


def _next_answer(sessions: list[_Seen], index: int) -> int | None:
    """The first session from `index` on whose client check-in was answered."""
    for j in range(index, len(sessions)):
        if sessions[j].answered_at is not None:
            return j
    return None


def _event(rows, goal, kind, side, when, case, *, by_client=False, task=None, old="", new=""):
    rows.events.append(GoalEvent(goal=goal, task=task, kind=kind, side=side, at=when,
                                 by_staff=None if by_client else case.therapist,
                                 by_client=case.client if by_client else None,
                                 old_text=old, new_text=new))


def _goal(case, sessions, start, text, tasks, rng, rows: _Rows, *, waiting: bool):
    therapist, client = case.therapist, case.client
    proposed_on = sessions[start].session.date
    proposed_at = _at(proposed_on, 10, rng.randint(5, 50))
    by_client = rng.random() < 0.55
    goal = Goal(case=case, text=text, proposed_at=proposed_at, proposed_by_staff=therapist,
                proposed_by=Side.CLIENT if by_client else Side.THERAPIST)
    rows.goals.append(goal)
    _event(rows, goal, GoalEvent.Kind.PROPOSED, goal.proposed_by, proposed_at, case, new=text)
    if by_client:
        goal.client_confirmed_at = proposed_at
    else:
        goal.therapist_confirmed_at, goal.therapist_confirmed_by = proposed_at, therapist
    if waiting:
        if by_client and rng.random() < 0.5:
            return  # waiting for the therapist
        goal.proposed_by, goal.client_confirmed_at = Side.THERAPIST, None
        goal.therapist_confirmed_at, goal.therapist_confirmed_by = proposed_at, therapist
        rows.events[-1].side = Side.THERAPIST
        return  # waiting for the client's check-in
    # Agreement: the therapist at once (the client's words), or the client's check-in.
    if by_client:
        agreed_index, agreed_at = start, proposed_at + dt.timedelta(minutes=2)
        goal.therapist_confirmed_at, goal.therapist_confirmed_by = agreed_at, therapist
        _event(rows, goal, GoalEvent.Kind.CONFIRMED, Side.THERAPIST, agreed_at, case)
    else:
        agreed_index = _next_answer(sessions, start)
        if agreed_index is None:
            return
        agreed_at = sessions[agreed_index].answered_at
        goal.client_confirmed_at = agreed_at
        _event(rows, goal, GoalEvent.Kind.CONFIRMED, Side.CLIENT, agreed_at, case,
               by_client=True)
    goal.status, goal.first_agreed_at = Goal.Status.AGREED, agreed_at
    goal.status_changed_at = agreed_at
    goal.status_changed_by_staff = therapist if by_client else None
    goal.status_changed_by_client = None if by_client else client

    # How the goal ends (if it does) and its progress profile.
    n = len(sessions)
    end_index = n - 1
    if n - agreed_index > 10 and rng.random() < 0.2:
        end_index = rng.randint(n - 4, n - 2)
        closed_at = _at(sessions[end_index].session.date, 10, 40)
        goal.status, goal.status_changed_at = Goal.Status.ACHIEVED, closed_at
        goal.status_changed_by_staff, goal.status_changed_by_client = therapist, None
        _event(rows, goal, GoalEvent.Kind.ACHIEVED, Side.THERAPIST, closed_at, case)
    elif n - agreed_index > 8 and rng.random() < 0.06:
        end_index = rng.randint(agreed_index + 4, n - 2)
        closed_at = _at(sessions[end_index].session.date, 10, 40)
        goal.status, goal.status_changed_at = Goal.Status.DROPPED, closed_at
        goal.status_changed_by_staff, goal.status_changed_by_client = therapist, None
        _event(rows, goal, GoalEvent.Kind.DROPPED, Side.THERAPIST, closed_at, case)

    if text in REVISIONS and goal.status == Goal.Status.AGREED and n - agreed_index > 7 \
            and rng.random() < 0.6:
        _revise(goal, case, sessions, agreed_index + rng.randint(4, 6), REVISIONS[text], rows)
    _reviews(goal, case, sessions, agreed_index, end_index, rng, rows)
    _tasks(goal, case, sessions, agreed_index, end_index, tasks, rng, rows)


def _revise(goal, case, sessions, index, new_text, rows):
    when = _at(sessions[index].session.date, 10, 30)
    confirm = _next_answer(sessions, index)
    _event(rows, goal, GoalEvent.Kind.REVISED, Side.THERAPIST, when, case, old=goal.text,
           new=new_text)
    goal.text, goal.revised_at = new_text, when
    goal.therapist_confirmed_at, goal.therapist_confirmed_by = when, case.therapist
    if confirm is None:
        goal.status, goal.client_confirmed_at = Goal.Status.PROPOSED, None
        goal.status_changed_at, goal.status_changed_by_staff = when, case.therapist
        goal.status_changed_by_client = None
        return
    agreed_at = sessions[confirm].answered_at
    goal.client_confirmed_at = agreed_at
    goal.status_changed_at, goal.status_changed_by_client = agreed_at, case.client
    goal.status_changed_by_staff = None
    _event(rows, goal, GoalEvent.Kind.CONFIRMED, Side.CLIENT, agreed_at, case, by_client=True)


def _reviews(goal, case, sessions, agreed_index, end_index, rng, rows):
    profile = rng.choices(("rising", "level", "apart", "slow"), weights=(55, 15, 15, 15))[0]
    rating = rng.randint(1, 4) if profile != "level" else rng.randint(3, 5)
    since = 0
    index = agreed_index + 1
    reviews = 0
    gap = REVIEW_EVERY + rng.choice((-1, 0, 0, 0, 1))
    while index <= end_index:
        since += 1
        seen = sessions[index]
        if since >= gap and seen.answered_at is not None:
            reviews += 1
            if profile == "rising":
                rating = min(10, rating + rng.choice((1, 1, 2, 2, 3)))
            elif profile == "slow":
                rating = min(10, rating + rng.choice((0, 0, 1)))
            elif profile == "apart":
                rating = min(10, rating + rng.choice((0, 1, 2)))
            rows.reviews.append(GoalReview(
                goal=goal, session=seen.session, side=Side.CLIENT, rating=rating,
                by_client=case.client, administration_id=seen.administration_id,
                created_at=seen.answered_at))
            if rng.random() < 0.85:
                own = rating + rng.choice((-1, 0, 0, 1))
                if profile == "apart" and reviews >= 2:
                    own = rating - 3 if rating >= 4 else rating + 3
                rows.reviews.append(GoalReview(
                    goal=goal, session=seen.session, side=Side.THERAPIST,
                    rating=max(0, min(10, own)), by_staff=case.therapist,
                    created_at=_at(seen.session.date, 18, rng.randint(0, 59))))
            since, gap = 0, REVIEW_EVERY + rng.choice((-1, 0, 0, 0, 1))
        index += 1


DONE_WEIGHTS = {"good": (65, 25, 10), "struggling": (10, 25, 65), "unhelpful": (50, 40, 10)}
HELPFUL = {"good": (6, 9), "struggling": (3, 6), "unhelpful": (1, 3)}


def _tasks(goal, case, sessions, agreed_index, end_index, options, rng, rows):
    n_tasks = 1 if rng.random() < 0.55 else 2
    index = agreed_index
    for what, how_often in options[:n_tasks]:
        if index > end_index - 1:
            return
        proposed_at = _at(sessions[index].session.date, 10, 45)
        task = Task(goal=goal, what=what, how_often=how_often, proposed_by=Side.THERAPIST,
                    proposed_by_staff=case.therapist, proposed_at=proposed_at,
                    therapist_confirmed_at=proposed_at, therapist_confirmed_by=case.therapist)
        rows.tasks.append(task)
        _event(rows, goal, GoalEvent.Kind.TASK_PROPOSED, Side.THERAPIST, proposed_at, case,
               task=task, new=what)
        agreed = _next_answer(sessions, index)
        if agreed is None or agreed > end_index:
            return  # still waiting for the client's check-in
        task.client_confirmed_at = sessions[agreed].answered_at
        _event(rows, goal, GoalEvent.Kind.TASK_CONFIRMED, Side.CLIENT, task.client_confirmed_at,
               case, by_client=True, task=task)
        profile = rng.choices(("good", "struggling", "unhelpful"), weights=(70, 15, 15))[0]
        stopped_after = rng.randint(3, 5) if profile != "good" and rng.random() < 0.5 else None
        reports = 0
        for j in range(agreed + 1, end_index + 1):
            seen = sessions[j]
            if seen.answered_at is None:
                continue
            done = rng.choices((TaskReport.Done.DONE, TaskReport.Done.PARTLY,
                                TaskReport.Done.NOT_DONE), weights=DONE_WEIGHTS[profile])[0]
            helpful = None if done == TaskReport.Done.NOT_DONE else rng.randint(*HELPFUL[profile])
            rows.reports.append(TaskReport(
                task=task, session=seen.session, done=done, helpful=helpful, side=Side.CLIENT,
                by_client=case.client, administration_id=seen.administration_id,
                created_at=seen.answered_at))
            reports += 1
            if stopped_after is not None and reports >= stopped_after:
                when = _at(sessions[min(j + 1, len(sessions) - 1)].session.date, 10, 50)
                task.status, task.status_changed_at = Task.Status.STOPPED, when
                task.status_changed_by_staff = case.therapist
                _event(rows, goal, GoalEvent.Kind.TASK_STOPPED, Side.THERAPIST, when, case,
                       task=task)
                index = min(j + 1, end_index)
                break
        else:
            if goal.status == Goal.Status.ACHIEVED:
                task.status, task.status_changed_at = Task.Status.DONE, goal.status_changed_at
                task.status_changed_by_staff = case.therapist
            index = agreed


def _pending_checkin(case, sessions, pending, texts, chosen, rng, rows):
    """The waiting check-in asks something about goals: a suggestion, a review, a task."""
    when = _at(pending.date, 10, 20)
    spare = [t for t in texts if t not in chosen]
    text, tasks = rng.choice(spare)
    goal = Goal(case=case, text=text, proposed_by=Side.THERAPIST, proposed_at=when,
                proposed_by_staff=case.therapist, therapist_confirmed_at=when,
                therapist_confirmed_by=case.therapist)
    rows.goals.append(goal)
    _event(rows, goal, GoalEvent.Kind.PROPOSED, Side.THERAPIST, when, case, new=text)
    if any(g.case is case and g.status == Goal.Status.AGREED for g in rows.goals):
        rows.requests.append(ReviewRequest(case=case, requested_by=case.therapist,
                                           requested_at=when))

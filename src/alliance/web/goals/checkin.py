"""Goal and task questions inside the client's alliance check-in.

When the clinic's client alliance check-in is opened from its link, the form also asks,
only when there is something to ask:

- to agree (or "not yet") to goals and tasks the therapist suggested;
- a progress rating (0–10 slider) for each agreed goal, when a goal review is due (the
  clinic's interval of sessions since the client's last ratings, or the therapist asked);
- for each agreed, active task that was running since the previous session: done,
  partly or not done, and — if done at least in part — how helpful it was (0–10).

The answers are stored in the same transaction as the check-in itself
(`checkins.services.submit_link(…, also=form.store)`), so the link is still consumed
exactly once and a submission stores everything once or nothing. They go through
`goals.services` with the client as the actor; a goal or task that changed between
opening and sending the form (for example agreed meanwhile) is skipped rather than
failing the whole check-in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.web.care.models import Case, Session
from alliance.web.forms import Form
from alliance.web.goals import services
from alliance.web.goals.models import RATING_MAX, RATING_MIN, Goal, GoalReview, ReviewRequest, \
    Side, Task, TaskReport

logger = logging.getLogger(__name__)

AGREE = "yes"
NOT_YET = "not_yet"
AGREE_CHOICES = [(AGREE, _("Yes, that fits for me")), (NOT_YET, _("Not yet — I’d like to talk about it"))]
DONE_CHOICES = [(TaskReport.Done.DONE, _("Done")), (TaskReport.Done.PARTLY, _("Partly")),
                (TaskReport.Done.NOT_DONE, _("Not done"))]
POINTS = list(range(RATING_MIN, RATING_MAX + 1))


@dataclass
class CheckinPart:
    """What the check-in asks about goals and tasks for one client alliance form."""

    case: Case
    session: Session
    confirm_goals: list[Goal] = field(default_factory=list)
    rate_goals: list[Goal] = field(default_factory=list)
    confirm_tasks: list[Task] = field(default_factory=list)
    report_tasks: list[Task] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.confirm_goals or self.rate_goals or self.confirm_tasks
                    or self.report_tasks)


def is_alliance_form(administration) -> bool:
    from alliance.web.monitoring.data import clinic_instruments

    clinic = administration.session.case.client.clinic
    client = clinic_instruments(clinic).client
    return (administration.respondent == "client" and client is not None
            and administration.instrument_id == client.id)


def checkin_part(administration) -> CheckinPart | None:
    """The goal and task questions for this form, or None when there is nothing to ask.

    Five queries: the goals, the tasks, the client's earlier ratings, the sessions and
    an open review request.
    """
    session = administration.session
    case = session.case
    if case.status != Case.Status.ACTIVE or not is_alliance_form(administration):
        return None
    goals = [g for g in Goal.objects.filter(case=case).order_by("proposed_at", "pk")
             if g.is_open]
    if not goals:
        return None
    part = CheckinPart(case=case, session=session)
    part.confirm_goals = [g for g in goals if g.status == Goal.Status.PROPOSED
                          and g.waiting_for == Side.CLIENT]
    open_ids = {g.pk: g for g in goals}
    tasks = list(Task.objects.filter(goal_id__in=list(open_ids), status=Task.Status.ACTIVE)
                 .order_by("proposed_at", "pk"))
    for task in tasks:
        task.goal = open_ids[task.goal_id]
    part.confirm_tasks = [t for t in tasks if t.waiting_for == Side.CLIENT]
    sessions = [(n, d, s == Session.Status.ATTENDED) for n, d, s in
                Session.objects.filter(case=case).values_list("number", "date", "status")]
    previous = max((d for n, d, _ in sessions if n < session.number), default=None)
    # Running since before this session (agreed earlier), and not ended before the last one.
    part.report_tasks = [t for t in tasks if t.is_running
                         and timezone.localdate(t.agreed_at) < session.date
                         and (t.until is None or previous is None or t.until >= previous)]
    agreed = [g for g in goals if g.status == Goal.Status.AGREED]
    if agreed:
        reviews = list(GoalReview.objects.filter(goal__case=case, side=Side.CLIENT)
                       .values_list("session__number", "created_at"))
        requested = ReviewRequest.objects.filter(case=case, fulfilled_at__isnull=True).exists()
        status = services.compute_review_status(
            interval=case.client.clinic.goal_review_interval,
            agreed_at=[g.first_agreed_at for g in agreed], client_reviews=reviews,
            sessions=sessions, requested=requested, upto=session.number)
        if status.due:
            part.rate_goals = agreed
    _within_budget(part)
    return None if part.empty else part


#: The most answers the goal and task questions add to one check-in, so that a check-in
#: stays short (at most 8 answers for the forms, 12 with these). What does not fit is
#: asked at the next check-in.
MAX_GOAL_INPUTS = 4


def _within_budget(part: CheckinPart) -> None:
    """Keep the questions that fit `MAX_GOAL_INPUTS`, in this order: agreeing to goals,
    agreeing to tasks, rating goals, reporting on tasks (two answers each: done, helpful)."""
    left = MAX_GOAL_INPUTS
    for name, cost in (("confirm_goals", 1), ("confirm_tasks", 1), ("rate_goals", 1),
                       ("report_tasks", 2)):
        items = getattr(part, name)
        keep = min(len(items), left // cost)
        setattr(part, name, items[:keep])
        left -= keep * cost


_RANGE = _("Please choose a value from %(low)s to %(high)s.")


class RatingField(forms.IntegerField):
    """An optional 0–10 rating; a value off the scale is a clear error next to the question."""

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {
            "invalid": _RANGE % {"low": RATING_MIN, "high": RATING_MAX},
            "min_value": _RANGE % {"low": RATING_MIN, "high": RATING_MAX},
            "max_value": _RANGE % {"low": RATING_MIN, "high": RATING_MAX},
        })
        super().__init__(min_value=RATING_MIN, max_value=RATING_MAX, required=False, **kwargs)


class GoalCheckinForm(Form):
    """The goal and task questions, named after the goal and task ids."""

    def __init__(self, data=None, *, part: CheckinPart, **kwargs):
        super().__init__(data, **kwargs)
        self.part = part
        for goal in part.confirm_goals:
            self.fields[f"goal_{goal.pk}_agree"] = forms.ChoiceField(
                label=goal.text, choices=AGREE_CHOICES, required=False, widget=forms.RadioSelect)
        for goal in part.rate_goals:
            self.fields[f"goal_{goal.pk}_progress"] = RatingField(label=goal.text)
        for task in part.confirm_tasks:
            self.fields[f"task_{task.pk}_agree"] = forms.ChoiceField(
                label=task.what, choices=AGREE_CHOICES, required=False, widget=forms.RadioSelect)
        for task in part.report_tasks:
            self.fields[f"task_{task.pk}_done"] = forms.ChoiceField(
                label=task.what, choices=DONE_CHOICES, required=False, widget=forms.RadioSelect)
            self.fields[f"task_{task.pk}_helpful"] = RatingField(label=_("How helpful was it?"))

    # Rows for the template --------------------------------------------------------------
    def _slider(self, name: str) -> dict:
        # Nothing chosen until the client chooses: a rating left alone stores nothing.
        return {"field": self[name], "points": POINTS}

    def confirm_goal_rows(self):
        return [{"goal": g, "field": self[f"goal_{g.pk}_agree"]} for g in self.part.confirm_goals]

    def rate_goal_rows(self):
        return [{"goal": g, **self._slider(f"goal_{g.pk}_progress")} for g in self.part.rate_goals]

    def confirm_task_rows(self):
        return [{"task": t, "field": self[f"task_{t.pk}_agree"]} for t in self.part.confirm_tasks]

    def report_task_rows(self):
        return [{"task": t, "done": self[f"task_{t.pk}_done"],
                 "helpful": self._slider(f"task_{t.pk}_helpful")} for t in self.part.report_tasks]

    # Storing ------------------------------------------------------------------------------
    def store(self, administration) -> None:
        """Store the answers as the client (inside the check-in's transaction)."""
        client = self.part.case.client
        session = self.part.session
        data = self.cleaned_data
        with services.quietly():
            for goal in self.part.confirm_goals:
                if data.get(f"goal_{goal.pk}_agree") == AGREE:
                    self._safely(services.confirm_goal, goal, by=client)
            for task in self.part.confirm_tasks:
                if data.get(f"task_{task.pk}_agree") == AGREE:
                    self._safely(services.confirm_task, task, by=client)
            for goal in self.part.rate_goals:
                rating = data.get(f"goal_{goal.pk}_progress")
                if rating is not None:
                    self._safely(services.record_review, goal, by=client, rating=rating,
                                 session=session, administration=administration)
            for task in self.part.report_tasks:
                done = data.get(f"task_{task.pk}_done")
                if done:
                    helpful = data.get(f"task_{task.pk}_helpful")
                    self._safely(services.report_task, task, by=client, done=done,
                                 helpful=helpful, session=session,
                                 administration=administration)

    @staticmethod
    def _safely(function, record, **kwargs) -> None:
        try:
            function(record, **kwargs)
        except services.GoalError as exc:
            # Changed since the form was opened (e.g. agreed or ended meanwhile).
            logger.info("check-in answer about %s %s skipped: %s", type(record).__name__,
                        record.pk, exc.kind)


def form_for(administration, data=None) -> GoalCheckinForm | None:
    """The goal and task part of a client check-in form, or None when it asks nothing."""
    part = checkin_part(administration)
    if part is None:
        return None
    return GoalCheckinForm(data, part=part, prefix="goals")

"""Goals, reviews and task reports as the plain tables the core's goal and task rules read.

`alliance.core.signals` has the rules (docs/signals.md, "Goals and tasks"); this module
loads a set of cases' goals, goal reviews and task reports in three queries and maps them
onto the core's input shapes (`goals_frame`, `reviews_frame`, `tasks_frame`), with the
clinic's thresholds. `alliance.web.monitoring.recompute` calls `detect` inside its
recomputation and stores the results like every other signal.

How the web records become the core's records:

- A goal, rating or report is placed at a session: the session it names (a check-in's
  session), or else the last session of the case dated on or before it. An agreement
  made on a later day than that session counts as after it (a goal agreed the day after
  session 3 was still waiting at session 3).
- goals: ``proposed_session`` is where the current wording was proposed (a revision
  starts a new wait for agreement); ``agreed_session`` where both had confirmed it. A goal
  dropped (or achieved) before it was agreed stops waiting where it was closed, so it is
  not flagged as "not agreed" afterwards.
- review overdue: counted from the session a goal was first agreed, over the sessions
  while the case has an agreed goal; once every goal is achieved or dropped, reviews are
  no longer due.
- reviews: one row per goal and session with the client's and the therapist's latest
  rating there (0–10).
- task reports: ``done`` is 1 for done or partly done and 0 for not done; ``helpful`` is
  0 when the client rated it at or below the clinic's "not helpful" rating (default 3),
  1 above it, empty when not rated.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import replace

import numpy as np
import pandas as pd
from django.utils import timezone

from alliance.core.signals import (Goal as CoreGoal, GoalReview as CoreReview,
                                   SignalSettings, TaskReport as CoreReport, detect_signals,
                                   goals_frame, reviews_frame, tasks_frame)
from alliance.web.goals.models import Goal, GoalReview, Side, TaskReport

TITLE_LENGTH = 60
#: Clinic fields these signals depend on: saving the settings recomputes when one changed.
SETTING_FIELDS = ("goal_review_interval", "goal_agree_sessions", "goal_agree_days",
                  "goal_ratings_apart", "goal_flat_reviews", "goal_flat_tolerance",
                  "task_in_a_row", "task_unhelpful_rating")
GOAL_TYPES = ("goal_not_agreed", "goal_ratings_apart", "goal_progress_flat", "task_not_done",
              "task_unhelpful")


def signal_settings(clinic) -> dict:
    """The clinic's goal and task thresholds as `SignalSettings` fields."""
    return {"goal_agree_sessions": clinic.goal_agree_sessions,
            "goal_agree_days": float(clinic.goal_agree_days),
            "goal_ratings_apart": float(clinic.goal_ratings_apart),
            "goal_review_sessions": clinic.goal_review_interval,
            "goal_flat_reviews": clinic.goal_flat_reviews,
            "goal_flat_tolerance": float(clinic.goal_flat_tolerance),
            "task_in_a_row": clinic.task_in_a_row}


def title(text: str) -> str:
    """A goal's or task's words, shortened for a signal's explanation."""
    text = " ".join(text.split())
    return text if len(text) <= TITLE_LENGTH else text[:TITLE_LENGTH - 1].rstrip() + "…"


class _Placer:
    """Places moments at sessions, per case (the last session dated on or before)."""

    def __init__(self, frame: pd.DataFrame):
        # Built for a case when first asked: a clinic's recomputation holds thousands of
        # cases, most of them without a goal to place.
        self._frame = frame
        self._rows: dict[str, np.ndarray] | None = None
        self._by_case: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}

    def _case(self, case_id: str):
        if case_id not in self._by_case:
            if self._rows is None:
                self._rows = ({} if self._frame.empty else
                              self._frame.groupby("client_id", sort=False).indices)
            index = self._rows.get(case_id)
            if index is None:
                self._by_case[case_id] = None
            else:
                dates = self._frame["date"].to_numpy()[index]
                order = np.argsort(dates, kind="stable")
                numbers = np.maximum.accumulate(self._frame["session"].to_numpy()[index][order])
                self._by_case[case_id] = (dates[order].astype("datetime64[D]"), numbers)
        return self._by_case[case_id]

    def session(self, case_id: str, moment, *, between: bool = False) -> float:
        """The last session dated on or before `moment` (0 before the first).

        With `between`, a moment on a later day than that session is placed half-way to
        the next one (s + 0.5): a goal agreed the day after session 3 was not agreed "at"
        session 3, so the rules still see it as waiting there.
        """
        if moment is None:
            return 0
        day = np.datetime64(moment if isinstance(moment, dt.date)
                            and not isinstance(moment, dt.datetime)
                            else timezone.localdate(moment), "D")
        found = self._case(case_id)
        if found is None:
            return 0
        dates, numbers = found
        k = int(np.searchsorted(dates, day, side="right"))
        if not k:
            return 0.5 if between else 0
        return int(numbers[k - 1]) + (0.5 if between and dates[k - 1] < day else 0)


def load(data_frame: pd.DataFrame, case_ids, unhelpful_at_or_below: int):
    """The core's goal, review and task tables for these cases (three queries).

    Returns (goals for "not agreed", goals for "review overdue", reviews, task reports,
    the last session at which each case still had an agreed goal, or None while it has one).
    """
    place = _Placer(data_frame)
    goals = (Goal.objects.filter(case_id__in=case_ids)
             .values_list("pk", "case_id", "text", "status", "proposed_at", "revised_at",
                          "client_confirmed_at", "therapist_confirmed_at", "first_agreed_at",
                          "status_changed_at"))
    waiting, agreed = [], []
    goal_open: dict[str, bool] = defaultdict(bool)
    goal_end: dict[str, int] = {}
    for (pk, case_id, text, status, proposed_at, revised_at, client_at, therapist_at,
         first_agreed, changed_at) in goals:
        case_key = str(case_id)
        since = revised_at or proposed_at
        if client_at and therapist_at:
            agreed_session = place.session(case_key, max(client_at, therapist_at),
                                           between=True)
        elif status in (Goal.Status.ACHIEVED, Goal.Status.DROPPED):
            # The wait ended there.
            agreed_session = place.session(case_key, changed_at, between=True)
        else:
            agreed_session = None
        waiting.append(CoreGoal(client_id=case_key, goal_id=str(pk),
                                proposed_session=place.session(case_key, since),
                                agreed_session=agreed_session,
                                proposed_date=timezone.localdate(since).isoformat(),
                                title=title(text)))
        if first_agreed is not None:
            agreed.append(CoreGoal(client_id=case_key, goal_id=str(pk),
                                   proposed_session=place.session(case_key, proposed_at),
                                   agreed_session=place.session(case_key, first_agreed),
                                   title=title(text)))
            if status in (Goal.Status.AGREED, Goal.Status.PROPOSED):
                goal_open[case_key] = True
            else:
                goal_end[case_key] = max(goal_end.get(case_key, 0),
                                         place.session(case_key, changed_at))
    ends = {case_key: (None if goal_open[case_key] else end) for case_key, end in
            goal_end.items()}

    ratings: dict[tuple[str, str, int], dict[str, tuple]] = {}
    reviews = (GoalReview.objects.filter(goal__case_id__in=case_ids)
               .values_list("goal_id", "goal__case_id", "goal__text", "side", "rating",
                            "session__number", "created_at", "pk"))
    for goal_id, case_id, text, side, rating, number, created, pk in reviews:
        case_key = str(case_id)
        number = number if number is not None else place.session(case_key, created)
        if not number:
            continue  # before the first session: nothing to place it at
        entry = ratings.setdefault((case_key, str(goal_id), number), {"title": title(text)})
        if side not in entry or entry[side][0] < (created, pk):
            entry[side] = ((created, pk), rating)
    review_rows = [CoreReview(client_id=case_key, goal_id=goal_id, session=number,
                              client_rating=entry.get(Side.CLIENT, (None, None))[1],
                              therapist_rating=entry.get(Side.THERAPIST, (None, None))[1])
                   for (case_key, goal_id, number), entry in ratings.items()]

    latest: dict[tuple[str, str, int], tuple] = {}
    reports = (TaskReport.objects.filter(task__goal__case_id__in=case_ids)
               .values_list("task_id", "task__goal__case_id", "task__what", "session__number",
                            "created_at", "pk", "done", "helpful"))
    for task_id, case_id, what, number, created, pk, done, helpful in reports:
        case_key = str(case_id)
        number = number if number is not None else place.session(case_key, created)
        if not number:
            continue
        key = (case_key, str(task_id), number)
        if key not in latest or latest[key][0] < (created, pk):
            latest[key] = ((created, pk), what, done, helpful)
    report_rows = [CoreReport(client_id=case_key, task_id=task_id, session=number,
                              done=done != TaskReport.Done.NOT_DONE,
                              helpful=None if helpful is None else helpful > unhelpful_at_or_below,
                              title=title(what))
                   for (case_key, task_id, number), (_, what, done, helpful) in latest.items()]
    reviews_table = reviews_frame(review_rows)
    # The goal's words name it in the explanations (the core reads an optional title).
    reviews_table["title"] = [ratings[(r.client_id, r.goal_id, r.session)]["title"]
                              for r in review_rows]
    return (goals_frame(waiting), goals_frame(agreed), reviews_table, tasks_frame(report_rows),
            ends)


def _until_goals_end(frame: pd.DataFrame, ends: dict[str, int | None]) -> pd.DataFrame:
    """Sessions while each case still had an agreed goal (all sessions when it has one)."""
    cut = frame["client_id"].map(lambda case_key: ends.get(case_key))
    keep = cut.isna() | (frame["session"] <= cut.fillna(np.inf))
    return frame[keep.to_numpy(dtype=bool)]


def detect(frame: pd.DataFrame, settings: SignalSettings, clinic) -> list:
    """The goal and task signals of the cases in `frame` (the long format of
    `monitoring.data.load_cases`), as `alliance.core.signals.Signal` records.

    Three queries, however many goals, reviews and reports.
    """
    if frame.empty:
        return []
    settings = replace(settings, **signal_settings(clinic))
    case_ids = sorted({int(c) for c in frame["client_id"]})
    waiting, agreed, reviews, reports, ends = load(frame, case_ids, clinic.task_unhelpful_rating)
    sessions = frame[["client_id", "session", "date", "attended"]]
    found = []
    if len(waiting) or len(reviews) or len(reports):
        found += detect_signals(sessions, settings, types=GOAL_TYPES,
                                goals=waiting if len(waiting) else None,
                                goal_reviews=reviews if len(reviews) else None,
                                task_reports=reports if len(reports) else None)
    if len(agreed):
        found += detect_signals(_until_goals_end(sessions, ends), settings,
                                types=["goal_review_overdue"], goals=agreed,
                                goal_reviews=reviews)
    return found

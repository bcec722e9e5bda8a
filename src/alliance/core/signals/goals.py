"""Goal and task signals over plain records.

Input shapes (DataFrames; build them from the dataclasses below with
`goals_frame`, `reviews_frame` and `tasks_frame`, or from any export that has
these columns):

goals
    ``client_id, goal_id, proposed_session, agreed_session`` and optionally
    ``proposed_date`` (ISO date) and ``title`` (used in explanations).
    ``agreed_session`` is empty while the goal is not agreed.
goal reviews
    ``client_id, goal_id, session, client_rating, therapist_rating``: progress on
    the goal as rated by each (0–10 in the bundled forms; empty when not rated).
task reports
    ``client_id, task_id, session, done, helpful``: 1 or 0 (empty when not
    reported); optionally ``title``.
held sessions
    ``client_id, session`` and optionally ``date``: the sessions that took place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..errors import InputError
from ._groups import group_rows, run_lengths, shift
from .records import Signal, plain, rating_text, session_value

GOAL_COLUMNS = ("client_id", "goal_id", "proposed_session", "agreed_session")
REVIEW_COLUMNS = ("client_id", "goal_id", "session", "client_rating", "therapist_rating")
TASK_COLUMNS = ("client_id", "task_id", "session", "done", "helpful")
HELD_COLUMNS = ("client_id", "session")


@dataclass(frozen=True)
class Goal:
    """A goal proposed in therapy (and the session it was agreed at, if it was)."""

    client_id: str
    goal_id: str
    proposed_session: int
    agreed_session: int | None = None
    proposed_date: dt.date | str | None = None
    title: str | None = None


@dataclass(frozen=True)
class GoalReview:
    """Progress on a goal at a session, as rated by the client and by the therapist."""

    client_id: str
    goal_id: str
    session: int
    client_rating: float | None = None
    therapist_rating: float | None = None


@dataclass(frozen=True)
class TaskReport:
    """Whether an agreed task was done, and whether it helped, reported at a session."""

    client_id: str
    task_id: str
    session: int
    done: bool | None = None
    helpful: bool | None = None
    title: str | None = None


def goals_frame(goals: Iterable[Goal]) -> pd.DataFrame:
    """Goals as the DataFrame the goal rules read."""
    return _frame(goals, (*GOAL_COLUMNS, "proposed_date", "title"))


def reviews_frame(reviews: Iterable[GoalReview]) -> pd.DataFrame:
    """Goal reviews as the DataFrame the goal rules read."""
    return _frame(reviews, REVIEW_COLUMNS)


def tasks_frame(reports: Iterable[TaskReport]) -> pd.DataFrame:
    """Task reports as the DataFrame the task rules read."""
    return _frame(reports, (*TASK_COLUMNS, "title"))


def _frame(records, columns) -> pd.DataFrame:
    frame = pd.DataFrame([asdict(r) for r in records], columns=list(columns))
    for column in ("agreed_session", "client_rating", "therapist_rating", "done", "helpful"):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column].astype(object).where(frame[column].notna()),
                                          errors="coerce").astype(float)
    return frame


def _require(frame: pd.DataFrame, columns, what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{what} must be a table (DataFrame)")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{what} lack column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(repr(c) for c in missing)}")
    return frame.reset_index(drop=True)


def _numbers(frame: pd.DataFrame, column: str, what: str) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(values) & frame[column].notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"{what}, row {row + 1}: {frame[column].iloc[row]!r} is not a number",
                         column=column)
    return values


def _name(frame: pd.DataFrame, i: int, id_column: str, kind: str) -> str:
    title = frame["title"].iloc[i] if "title" in frame.columns else None
    text = title if isinstance(title, str) and title.strip() else frame[id_column].iloc[i]
    return f"{kind} '{text}'"


def goal_not_agreed(goals: pd.DataFrame, held: pd.DataFrame, *, after_sessions: int = 2,
                    after_days: float | None = 21.0) -> list[Signal]:
    """Goals proposed but still not agreed after N sessions (or D days).

    Notes
    -----
    For a goal proposed at session s₀, take the client's held sessions after s₀
    in order. The rule fires at the N-th of them, or at the first dated at
    least D days after the proposal (when both dates are known), whichever comes
    first, unless the goal was agreed at or before that session. One signal per goal.
    """
    goals = _require(goals, GOAL_COLUMNS, "goals")
    held = _require(held, HELD_COLUMNS, "held sessions")
    proposed = _numbers(goals, "proposed_session", "goals")
    agreed = _numbers(goals, "agreed_session", "goals")
    table = pd.DataFrame({"goal": np.arange(len(goals)), "client_id": goals["client_id"],
                          "proposed": proposed, "agreed": agreed})
    use_days = (after_days is not None and "proposed_date" in goals.columns
                and "date" in held.columns)
    if use_days:
        table["proposed_date"] = pd.to_datetime(goals["proposed_date"], errors="coerce")
    later = pd.DataFrame({"client_id": held["client_id"],
                          "session": _numbers(held, "session", "held sessions")})
    if use_days:
        later["date"] = pd.to_datetime(held["date"], errors="coerce")
    pairs = table.merge(later, on="client_id")
    pairs = pairs[pairs["session"] > pairs["proposed"]].sort_values(["goal", "session"])
    pairs["count"] = pairs.groupby("goal").cumcount() + 1
    due = pairs["count"] >= after_sessions
    if use_days:
        waited = (pairs["date"] - pairs["proposed_date"]).dt.days
        due = due | (waited >= after_days).fillna(False)
    first = pairs[due].groupby("goal").head(1)
    first = first[first["agreed"].isna() | (first["agreed"] > first["session"])]
    parameters = MappingProxyType({"after_sessions": after_sessions, "after_days": after_days})
    signals = []
    for goal, session, proposed_at, n_later in zip(first["goal"], first["session"],
                                                   first["proposed"], first["count"]):
        name = _name(goals, goal, "goal_id", "goal")
        n_later = int(n_later)
        signals.append(Signal(
            type="goal_not_agreed", client_id=plain(goals["client_id"].iloc[goal]),
            session=session_value(session), rule="not_agreed", parameters=parameters,
            data={"goal_id": plain(goals["goal_id"].iloc[goal]),
                  "proposed_session": session_value(proposed_at), "sessions_since": n_later},
            explanation=(f"The {name} was proposed at session {session_value(proposed_at)} and "
                         f"is not yet agreed {n_later} session{'s' if n_later > 1 else ''} "
                         f"later; it may help to revisit it together.")))
    return signals


def goal_ratings_apart(reviews: pd.DataFrame, *, threshold: float = 3.0) -> list[Signal]:
    """Reviews where client and therapist rate progress on a goal far apart.

    Notes
    -----
    Fires when |client_rating − therapist_rating| ≥ threshold (default 3 points).
    """
    reviews = _require(reviews, REVIEW_COLUMNS, "goal reviews")
    ours = _numbers(reviews, "client_rating", "goal reviews")
    theirs = _numbers(reviews, "therapist_rating", "goal reviews")
    sessions = _numbers(reviews, "session", "goal reviews")
    with np.errstate(invalid="ignore"):
        fired = np.flatnonzero(np.abs(ours - theirs) >= threshold - 1e-9)
    parameters = MappingProxyType({"threshold": threshold})
    return [Signal(
        type="goal_ratings_apart", client_id=plain(reviews["client_id"].iloc[i]),
        session=session_value(sessions[i]), rule="ratings_apart", parameters=parameters,
        data={"goal_id": plain(reviews["goal_id"].iloc[i]), "client_rating": float(ours[i]),
              "therapist_rating": float(theirs[i]), "difference": float(abs(ours[i] - theirs[i]))},
        explanation=(f"At session {session_value(sessions[i])} the client rated progress on "
                     f"{_name(reviews, i, 'goal_id', 'goal')} {rating_text(ours[i])} and the "
                     f"therapist {rating_text(theirs[i])}, so they may see it differently."))
        for i in fired]


def goal_review_overdue(goals: pd.DataFrame, reviews: pd.DataFrame, held: pd.DataFrame, *,
                        max_sessions: int = 4) -> list[Signal]:
    """Clients with agreed goals whose goals have not been reviewed for more than N sessions.

    Notes
    -----
    From the first session at which a goal was agreed, count the client's
    sessions (held or with a review) since the last goal review. Fires at the
    session where the count reaches N + 1, once per stretch without a review.
    """
    goals = _require(goals, GOAL_COLUMNS, "goals")
    reviews = _require(reviews, REVIEW_COLUMNS, "goal reviews")
    held = _require(held, HELD_COLUMNS, "held sessions")
    agreed = pd.DataFrame({"client_id": goals["client_id"],
                           "agreed": _numbers(goals, "agreed_session", "goals")}).dropna()
    start = agreed.groupby("client_id", sort=False)["agreed"].min()
    reviewed = pd.DataFrame({"client_id": reviews["client_id"],
                             "session": _numbers(reviews, "session", "goal reviews"),
                             "reviewed": True})
    timeline = pd.concat([
        pd.DataFrame({"client_id": held["client_id"],
                      "session": _numbers(held, "session", "held sessions"), "reviewed": False}),
        reviewed], ignore_index=True)
    timeline = (timeline.groupby(["client_id", "session"], sort=False)["reviewed"].max()
                .reset_index())
    timeline = timeline[timeline["client_id"].isin(start.index)]
    timeline = timeline[timeline["session"] > timeline["client_id"].map(start)]
    if timeline.empty:
        return []
    codes, labels = pd.factorize(timeline["client_id"])
    groups = group_rows(codes, np.asarray(labels), timeline["session"].to_numpy(dtype=float))
    ordered = timeline.iloc[groups.order]
    run = run_lengths(~ordered["reviewed"].to_numpy(dtype=bool), groups)
    fired = np.flatnonzero(run == max_sessions + 1)
    parameters = MappingProxyType({"max_sessions": max_sessions})
    sessions = ordered["session"].to_numpy()
    signals = []
    for i in fired:
        first = session_value(sessions[i - max_sessions])
        since = session_value(sessions[i - max_sessions - 1]) if groups.pos[i] > max_sessions \
            else session_value(start[ordered["client_id"].iloc[i]])
        signals.append(Signal(
            type="goal_review_overdue", client_id=plain(ordered["client_id"].iloc[i]),
            session=session_value(sessions[i]), rule="review_overdue", parameters=parameters,
            data={"sessions_without_review": max_sessions + 1, "since_session": since,
                  "from_session": first},
            explanation=(f"The goals have not been reviewed for {max_sessions + 1} sessions "
                         f"(since session {since}); a short review may help keep them in view.")))
    return signals


def goal_progress_flat(reviews: pd.DataFrame, *, n_reviews: int = 3, tolerance: float = 0.5,
                       rating: str = "client_rating") -> list[Signal]:
    """Goals whose progress rating has stayed flat over the last k reviews.

    Notes
    -----
    Per goal, reviews with a rating in session order r_1 … r_n. At review j ≥ k
    the last k ratings are flat when max − min ≤ tolerance. Fires at the first
    review of each flat stretch (where the previous review was not flat).
    """
    reviews = _require(reviews, (*REVIEW_COLUMNS[:3], rating), "goal reviews")
    values = _numbers(reviews, rating, "goal reviews")
    keep = ~np.isnan(values)
    codes, labels = pd.factorize(pd.MultiIndex.from_frame(reviews[["client_id", "goal_id"]]))
    groups = group_rows(np.asarray(codes), np.asarray(labels, dtype=object),
                        _numbers(reviews, "session", "goal reviews"), keep)
    r = values[groups.order]
    hi, lo = r.copy(), r.copy()
    for lag in range(1, n_reviews):
        earlier = shift(r, lag, groups)
        hi, lo = np.fmax(hi, earlier), np.fmin(lo, earlier)
    flat = (groups.pos >= n_reviews - 1) & (hi - lo <= tolerance + 1e-9)
    fired = np.flatnonzero(flat & ~shift(flat, 1, groups, fill=False))
    parameters = MappingProxyType({"n_reviews": n_reviews, "tolerance": tolerance,
                                   "rating": rating})
    sessions = reviews["session"].to_numpy()[groups.order]
    signals = []
    for i in fired:
        row = groups.order[i]
        first = session_value(sessions[i - n_reviews + 1])
        signals.append(Signal(
            type="goal_progress_flat", client_id=plain(reviews["client_id"].iloc[row]),
            session=session_value(sessions[i]), rule="progress_flat", parameters=parameters,
            data={"goal_id": plain(reviews["goal_id"].iloc[row]),
                  "ratings": [float(x) for x in r[i - n_reviews + 1:i + 1]],
                  "from_session": first},
            explanation=(f"Progress on {_name(reviews, row, 'goal_id', 'goal')} has stayed "
                         f"around {rating_text(r[i])} over the last {n_reviews} reviews (sessions "
                         f"{first}–{session_value(sessions[i])}); it may be worth checking "
                         f"whether the goal still fits.")))
    return signals


def task_signals(reports: pd.DataFrame, *, in_a_row: int = 2) -> list[Signal]:
    """Tasks reported not done, or rated unhelpful, at N consecutive reports.

    Notes
    -----
    Per task, reports in session order that answer the question (done or
    helpful; empty answers are skipped). ``task_not_done`` fires at the N-th
    consecutive report with done = 0; ``task_unhelpful`` at the N-th consecutive
    report with helpful = 0; once per run.
    """
    reports = _require(reports, TASK_COLUMNS, "task reports")
    codes, labels = pd.factorize(pd.MultiIndex.from_frame(reports[["client_id", "task_id"]]))
    sessions = _numbers(reports, "session", "task reports")
    parameters = MappingProxyType({"in_a_row": in_a_row})
    signals = []
    for column, kind in (("done", "task_not_done"), ("helpful", "task_unhelpful")):
        answer = _numbers(reports, column, "task reports")
        known = ~np.isnan(answer)
        if not np.isin(answer[known], (0.0, 1.0)).all():
            raise InputError(f"task reports: {column} must be 1 or 0", column=column)
        groups = group_rows(np.asarray(codes), np.asarray(labels, dtype=object), sessions, known)
        run = run_lengths(answer[groups.order] == 0, groups)
        for i in np.flatnonzero(run == in_a_row):
            row = groups.order[i]
            first = session_value(sessions[groups.order[i - in_a_row + 1]])
            last = session_value(sessions[row])
            name = _name(reports, row, "task_id", "task")
            what = "not done" if column == "done" else "rated not helpful"
            advice = ("adjusting it, or explaining its purpose, may help" if column == "done"
                      else "it may help to ask what would fit better")
            signals.append(Signal(
                type=kind, client_id=plain(reports["client_id"].iloc[row]), session=last,
                rule=f"{column}_in_a_row", parameters=parameters,
                data={"task_id": plain(reports["task_id"].iloc[row]), "from_session": first,
                      "reports": in_a_row},
                explanation=(f"The {name} was {what} at {in_a_row} reports in a row "
                             f"(sessions {first}–{last}); {advice}.")))
    return signals

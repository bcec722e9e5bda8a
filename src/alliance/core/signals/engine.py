"""Run every applicable detector on a sessions table with one set of clinic settings."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from .engagement import disengagement
from .goals import (goal_not_agreed, goal_progress_flat, goal_ratings_apart, goal_review_overdue,
                    task_signals)
from .levels import discrepancy, low_alliance
from .outcome import PERSISTENCE, expected_bands, not_on_track
from .records import SIGNAL_TYPES, Signal, label, sort_signals
from .ruptures import (DEFAULT_RULE, REFERENCES, RULES, RUPTURE_RULES, detect_ruptures,
                       rupture_signals)


@dataclass(frozen=True)
class SignalSettings:
    """Clinic settings for every signal, with their defaults.

    Columns of the sessions table
        client ("client_id"), session ("session"), score ("alliance", the
        client-rated score watched for ruptures and low alliance),
        therapist_score ("therapist_alliance"), attended ("attended"), date
        ("date"), outcome ("wellbeing"). A detector runs only when its columns exist.
    Rupture
        rule ("sd2"; "sd1", "sd2" or "rci"), reference ("previous" or "mean3"),
        window (3 rated sessions), pooled_sd (None = estimated from the data),
        sd and reliability (required by "rci").
    Low alliance
        low_cutoff (None = use the clinic percentile), low_cutoff_inclusive (False:
        strictly below; True: at or below), low_percentile (10),
        low_min_reference (20 scores).
    Discrepancy
        scale (0, 10) of the client form, therapist_scale (None = same),
        discrepancy_points (20 POMP points).
    Not on track
        higher_is_better (True), not_on_track_in_a_row (2 rated sessions below the
        band in a row; see `not_on_track`).
    Disengagement
        missed_in_a_row (2), unanswered_in_a_row (3), gap_factor (2.0),
        gap_min_days (21), gap_min_intervals (2).
    Goals and tasks
        goal_agree_sessions (2), goal_agree_days (21; None = sessions only),
        goal_ratings_apart (3 points), goal_review_sessions (4),
        goal_flat_reviews (3), goal_flat_tolerance (0.5 points),
        task_in_a_row (2).
    """

    client: str = "client_id"
    session: str = "session"
    score: str = "alliance"
    therapist_score: str = "therapist_alliance"
    attended: str = "attended"
    date: str = "date"
    outcome: str = "wellbeing"

    rule: str = DEFAULT_RULE
    reference: str = "previous"
    window: int = 3
    pooled_sd: float | None = None
    sd: float | None = None
    reliability: float | None = None

    low_cutoff: float | None = None
    low_cutoff_inclusive: bool = False
    low_percentile: float = 10.0
    low_min_reference: int = 20

    scale: tuple[float, float] = (0.0, 10.0)
    therapist_scale: tuple[float, float] | None = None
    discrepancy_points: float = 20.0

    higher_is_better: bool = True
    not_on_track_in_a_row: int = PERSISTENCE

    missed_in_a_row: int = 2
    unanswered_in_a_row: int = 3
    gap_factor: float = 2.0
    gap_min_days: float = 21.0
    gap_min_intervals: int = 2

    goal_agree_sessions: int = 2
    goal_agree_days: float | None = 21.0
    goal_ratings_apart: float = 3.0
    goal_review_sessions: int = 4
    goal_flat_reviews: int = 3
    goal_flat_tolerance: float = 0.5
    task_in_a_row: int = 2

    def __post_init__(self):
        if self.rule not in RULES:
            raise InputError(f"unknown rupture rule {self.rule!r}; choose one of "
                             f"{', '.join(RULES)}")
        if self.reference not in REFERENCES:
            raise InputError(f"unknown reference {self.reference!r}; choose one of "
                             f"{', '.join(REFERENCES)}")
        if self.rule == "rci" and (self.sd is None or self.reliability is None):
            raise InputError("the rci rule needs the score's SD and reliability")
        whole = ("window", "low_min_reference", "missed_in_a_row", "unanswered_in_a_row",
                 "not_on_track_in_a_row",
                 "gap_min_intervals", "goal_agree_sessions", "goal_review_sessions",
                 "goal_flat_reviews", "task_in_a_row")
        for name in whole:
            value = getattr(self, name)
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise InputError(f"setting {name} must be a whole number ≥ 1, not {value!r}")
        positive = ("gap_factor", "discrepancy_points", "goal_ratings_apart")
        for name in positive:
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InputError(f"setting {name} must be a positive number, not {value!r}")
        if not 0 < self.low_percentile < 100:
            raise InputError(f"setting low_percentile must be between 0 and 100, not "
                             f"{self.low_percentile!r}")

    @property
    def m(self) -> int | None:
        """Multiplier of the client's SD for the sd rules (1 or 2); None for rci."""
        return RUPTURE_RULES[self.rule].multiplier

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def detect_signals(sessions: pd.DataFrame, settings: SignalSettings | None = None, *,
                   types: Iterable[str] | None = None, goals: pd.DataFrame | None = None,
                   goal_reviews: pd.DataFrame | None = None,
                   task_reports: pd.DataFrame | None = None, expected=None,
                   as_of=None) -> list[Signal]:
    """Every signal for the sessions of one case or a whole clinic.

    Parameters
    ----------
    sessions : DataFrame in the long format, one row per scheduled client session.
    settings : `SignalSettings` (defaults when None).
    types : signal types to look for (default: all of `SIGNAL_TYPES` that the
        data allow).
    goals, goal_reviews, task_reports : optional tables for the goal and task
        rules (shapes in `alliance.core.signals.goals`).
    expected : for "not on track": a fitted model with ``band(intake, session)``
        (see `expected_bands`), or a DataFrame aligned with ``sessions`` that has
        columns ``low`` and ``high`` (and optionally ``expected``).
    as_of : optional date ("today") for the open-gap part of disengagement.

    Returns
    -------
    list of Signal, ordered by client (as first seen), session, then type.

    Notes
    -----
    A detector runs only when its columns (or tables) are present. Every rule
    uses only data up to the session at which it fires; with an estimated pooled
    SD, that one clinic value is fixed for the run (give ``pooled_sd`` to make
    runs on different data comparable).
    """
    settings = settings or SignalSettings()
    wanted = set(SIGNAL_TYPES if types is None else types)
    unknown = wanted - set(SIGNAL_TYPES)
    if unknown:
        raise InputError(f"unknown signal type(s) {', '.join(sorted(unknown))}; choose from "
                         f"{', '.join(SIGNAL_TYPES)}")
    s = settings
    for column in (s.client, s.session):
        if column not in sessions.columns:
            raise InputError(f"the sessions table has no column {column!r}")
    has = set(sessions.columns)
    client, session = sessions[s.client].to_numpy(), sessions[s.session].to_numpy()
    score = _column(sessions, s.score)
    name = label(s.score)
    signals: list[Signal] = []

    if "rupture" in wanted and score is not None:
        result = detect_ruptures(client, session, score, rule=s.rule, reference=s.reference,
                                 window=s.window, pooled_sd=s.pooled_sd, sd=s.sd,
                                 reliability=s.reliability)
        signals += rupture_signals(result, score_label=name)
    dates = sessions[s.date].to_numpy() if s.date in has else None
    if "low_alliance" in wanted and score is not None:
        signals += low_alliance(client, session, score, date=dates, cutoff=s.low_cutoff,
                                cutoff_inclusive=s.low_cutoff_inclusive,
                                percentile=s.low_percentile, min_reference=s.low_min_reference,
                                score_label=name)
    therapist = _column(sessions, s.therapist_score)
    if "discrepancy" in wanted and score is not None and therapist is not None:
        signals += discrepancy(client, session, score, therapist, threshold=s.discrepancy_points,
                               client_scale=s.scale, therapist_scale=s.therapist_scale,
                               score_label=name.lower())
    outcome = _column(sessions, s.outcome)
    if "not_on_track" in wanted and expected is not None and outcome is not None:
        mid, low, high = _bands(expected, client, session, outcome)
        signals += not_on_track(client, session, outcome, low, high, expected=mid,
                                higher_is_better=s.higher_is_better,
                                persistence=s.not_on_track_in_a_row, score_label=label(s.outcome))
    attended = _column(sessions, s.attended)
    if "disengagement" in wanted and attended is not None:
        signals += disengagement(client, session, attended, score=score, date=dates,
                                 missed_in_a_row=s.missed_in_a_row,
                                 unanswered_in_a_row=s.unanswered_in_a_row,
                                 gap_factor=s.gap_factor, gap_min_days=s.gap_min_days,
                                 gap_min_intervals=s.gap_min_intervals, as_of=as_of)
    held = _held(sessions, s, attended) if goals is not None or goal_reviews is not None else None
    if goals is not None and "goal_not_agreed" in wanted:
        signals += goal_not_agreed(goals, held, after_sessions=s.goal_agree_sessions,
                                   after_days=s.goal_agree_days)
    if goal_reviews is not None:
        if "goal_ratings_apart" in wanted:
            signals += goal_ratings_apart(goal_reviews, threshold=s.goal_ratings_apart)
        if "goal_progress_flat" in wanted:
            signals += goal_progress_flat(goal_reviews, n_reviews=s.goal_flat_reviews,
                                          tolerance=s.goal_flat_tolerance)
        if goals is not None and "goal_review_overdue" in wanted:
            signals += goal_review_overdue(goals, goal_reviews, held,
                                           max_sessions=s.goal_review_sessions)
    if task_reports is not None and wanted & {"task_not_done", "task_unhelpful"}:
        signals += [x for x in task_signals(task_reports, in_a_row=s.task_in_a_row)
                    if x.type in wanted]
    return sort_signals(signals, pd.unique(client) if signals else ())


def _column(frame: pd.DataFrame, name: str) -> np.ndarray | None:
    if name not in frame.columns:
        return None
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(values) & frame[name].notna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"row {row + 1}: {frame[name].iloc[row]!r} is not a number", column=name)
    return values


def _bands(expected, client, session, outcome):
    if isinstance(expected, pd.DataFrame):
        if not {"low", "high"} <= set(expected.columns) or len(expected) != len(outcome):
            raise InputError("expected bands need columns 'low' and 'high', one row per session")
        mid = expected["expected"].to_numpy(dtype=float) if "expected" in expected else None
        return mid, expected["low"].to_numpy(dtype=float), expected["high"].to_numpy(dtype=float)
    if not hasattr(expected, "band"):
        raise InputError("expected must be a fitted model with a band() method or a table of bands")
    return expected_bands(expected, client, session, outcome)


def _held(sessions: pd.DataFrame, s: SignalSettings, attended: np.ndarray | None) -> pd.DataFrame:
    keep = np.ones(len(sessions), dtype=bool) if attended is None else attended == 1
    held = pd.DataFrame({"client_id": sessions[s.client].to_numpy()[keep],
                         "session": sessions[s.session].to_numpy()[keep]})
    if s.date in sessions.columns:
        held["date"] = sessions[s.date].to_numpy()[keep]
    return held

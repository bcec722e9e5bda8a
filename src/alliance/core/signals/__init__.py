"""Signals: what in a case needs attention, and why.

Every detector returns `Signal` records carrying their rule, parameters, the
data that fired them and a one-sentence explanation in plain language.
Detection at a session uses only data up to that session; later sessions only
change a rupture's repair state. See docs/signals.md.

Main entry points
-----------------
detect_ruptures : the vectorised rupture–repair engine (one case or a whole clinic).
detect_signals : every applicable detector on a sessions table, with `SignalSettings`.
"""

from .engagement import disengagement
from .engine import SignalSettings, detect_signals
from .goals import (Goal, GoalReview, TaskReport, goal_not_agreed, goal_progress_flat,
                    goal_ratings_apart, goal_review_overdue, goals_frame, reviews_frame,
                    task_signals, tasks_frame)
from .levels import clinic_percentiles, discrepancy, low_alliance, percentile_of_sorted
from .outcome import expected_bands, intake_scores, not_on_track
from .records import SIGNAL_TYPES, Signal, signals_frame
from .ruptures import (DEFAULT_RULE, RUPTURE_RULES, PooledSD, RuptureResult, RuptureRule,
                       detect_ruptures, pooled_within_sd, rupture_signals)

__all__ = [
    "DEFAULT_RULE", "RUPTURE_RULES", "RuptureRule", "SIGNAL_TYPES", "Goal", "GoalReview",
    "PooledSD", "RuptureResult", "Signal",
    "SignalSettings", "TaskReport", "clinic_percentiles", "detect_ruptures", "detect_signals",
    "discrepancy", "disengagement", "expected_bands", "goal_not_agreed", "goal_progress_flat",
    "goal_ratings_apart", "goal_review_overdue", "goals_frame", "intake_scores", "low_alliance",
    "not_on_track", "percentile_of_sorted", "pooled_within_sd", "reviews_frame",
    "rupture_signals", "signals_frame", "task_signals", "tasks_frame",
]

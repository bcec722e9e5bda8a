"""Recent trend of a score: is it rising, steady or falling over the last few sessions?

A one-word summary for a caseload ("alliance rising, wellbeing steady"), from the
least-squares line through the last few rated scores. It describes the recent
direction; it is not a test of change. Drops that need attention are found by the
rupture rules of `alliance.core.signals`, and reliable change by `alliance.core.change`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import InputError

RISING = "rising"
STEADY = "steady"
FALLING = "falling"
UNKNOWN = "unknown"

#: Rated sessions the line is fitted through: recent enough to describe "now", enough
#: points that one unusual session does not decide the direction.
DEFAULT_WINDOW = 5

#: Fewest rated sessions a direction is given for; with fewer the trend is "unknown".
MIN_SCORES = 3

#: Fitted change (points) over the window needed to call a trend rising or falling:
#: one point on a 0–10 check-in, a tenth of the scale.
DEFAULT_MIN_CHANGE = 1.0


@dataclass(frozen=True)
class Trend:
    """The recent direction of one score.

    Attributes
    ----------
    direction : "rising", "steady", "falling", or "unknown" (fewer than `min_scores`
        rated sessions).
    slope : least-squares slope, points per session (NaN when unknown).
    change : fitted change over the window, ``slope × (last_session − first_session)``
        (NaN when unknown).
    n_scores : rated sessions used.
    first_session, last_session : the window's first and last rated session (None when
        there is no score at all).
    min_change : the threshold the direction was judged with.
    """

    direction: str
    slope: float
    change: float
    n_scores: int
    first_session: float | None
    last_session: float | None
    min_change: float

    def to_dict(self) -> dict:
        def plain(value):
            return None if isinstance(value, float) and not math.isfinite(value) else value

        return {"direction": self.direction, "slope": plain(self.slope),
                "change": plain(self.change), "n_scores": self.n_scores,
                "first_session": self.first_session, "last_session": self.last_session,
                "min_change": self.min_change}


def recent_trend(sessions, scores, *, window: int = DEFAULT_WINDOW,
                 min_change: float = DEFAULT_MIN_CHANGE,
                 min_scores: int = MIN_SCORES) -> Trend:
    """Direction of a score over its last `window` rated sessions.

    Parameters
    ----------
    sessions : session numbers, one per score (any order; no number twice).
    scores : the scores; NaN or None marks a session without a score (not attended,
        check-in unanswered), which does not count.
    window : how many of the most recent rated sessions the line is fitted through.
    min_change : fitted change over the window (in score points) that counts as rising
        or falling; smaller changes are steady.
    min_scores : fewest rated sessions needed for a direction (at least 2).

    Returns
    -------
    Trend

    Raises
    ------
    InputError
        For sessions and scores of different lengths, a session number that is not
        finite or appears twice, or a window, threshold or minimum out of range.

    Notes
    -----
    With the last n = min(window, rated) rated sessions x₁ < … < xₙ and their scores
    y₁ … yₙ, the ordinary least-squares slope is

        b = Σ (xᵢ − x̄)(yᵢ − ȳ) / Σ (xᵢ − x̄)²,

    and the fitted change over the window is Δ = b · (xₙ − x₁). The trend is rising
    when Δ ≥ min_change, falling when Δ ≤ −min_change, and steady otherwise.
    Sessions are used by number, so a missed session stretches the line's run
    rather than being treated as adjacent.

    A description, not a test: with a within-client SD of about 0.6 points and five
    sessions, the fitted change has a standard error of about 0.8 points, so "rising"
    or "falling" on a steady client happens now and then. Signals that need action
    come from the rupture and not-on-track rules.

    Examples
    --------
    >>> recent_trend([1, 2, 3, 4, 5], [6, 6.5, 7, 7.5, 8]).direction
    'rising'
    >>> recent_trend([1, 2, 3], [7, 7, 7.5]).direction
    'steady'
    """
    if window < 2 or min_scores < 2 or min_scores > window:
        raise InputError(f"need 2 <= min_scores <= window, got min_scores={min_scores}, "
                         f"window={window}")
    if not (math.isfinite(min_change) and min_change > 0):
        raise InputError(f"min_change must be a positive number, got {min_change!r}")
    try:
        x = np.asarray(sessions, dtype=float).ravel()
        y = np.asarray([np.nan if v is None else v for v in np.ravel(scores)], dtype=float)
    except (TypeError, ValueError):
        raise InputError("sessions and scores must be numbers") from None
    if len(x) != len(y):
        raise InputError(f"{len(x)} session numbers but {len(y)} scores")
    if not np.isfinite(x).all():
        raise InputError("session numbers must be finite numbers")
    if len(np.unique(x)) != len(x):
        raise InputError("a session number appears twice")
    rated = np.isfinite(y)
    x, y = x[rated], y[rated]
    order = np.argsort(x, kind="stable")[-window:]
    x, y = x[order], y[order]
    n = len(x)
    first = float(x[0]) if n else None
    last = float(x[-1]) if n else None
    if n < min_scores:
        return Trend(UNKNOWN, math.nan, math.nan, n, first, last, float(min_change))
    dx = x - x.mean()
    slope = float(np.dot(dx, y - y.mean()) / np.dot(dx, dx))
    change = slope * (last - first)
    # A hair of tolerance so that a change of exactly min_change, computed in floating
    # point, is not called steady.
    eps = 1e-9 * max(1.0, abs(min_change))
    if change >= min_change - eps:
        direction = RISING
    elif change <= -min_change + eps:
        direction = FALLING
    else:
        direction = STEADY
    return Trend(direction, slope, change, n, first, last, float(min_change))

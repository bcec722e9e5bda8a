"""Recent trend of a score (alliance.core.trends).

Reference values: hand computations stated in each test, and
tests/reference/trends/trends_reference.csv, written by trends_reference.R (R's lm on the
last five rated sessions of each series in trends_data.csv). Tolerance 1e-12 against R
(the same closed-form least squares in double precision; R's CSV keeps 15 digits).
"""

import csv
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.core.errors import InputError
from alliance.core.trends import FALLING, RISING, STEADY, UNKNOWN, recent_trend

REFERENCE = Path(__file__).parents[1] / "reference" / "trends"


def _series():
    rows = {}
    with open(REFERENCE / "trends_data.csv", newline="") as f:
        for row in csv.DictReader(f):
            sessions, scores = rows.setdefault(row["series"], ([], []))
            sessions.append(int(row["session"]))
            scores.append(float(row["score"]) if row["score"] else None)
    return rows


def test_slopes_and_changes_match_r_lm_on_the_last_five_rated_sessions():
    with open(REFERENCE / "trends_reference.csv", newline="") as f:
        expected = {row["series"]: row for row in csv.DictReader(f)}
    for name, (sessions, scores) in _series().items():
        trend = recent_trend(sessions, scores)
        ref = expected[name]
        assert trend.n_scores == int(ref["n"])
        assert trend.first_session == float(ref["first"])
        assert trend.last_session == float(ref["last"])
        assert trend.slope == pytest.approx(float(ref["slope"]), abs=1e-12)
        assert trend.change == pytest.approx(float(ref["change"]), abs=1e-12)


def test_a_half_point_rise_per_session_over_five_sessions_is_rising():
    # By hand: x = 1..5, y = 6, 6.5, 7, 7.5, 8 lie on a line with slope 0.5; Δ = 0.5 · 4 = 2.
    trend = recent_trend([1, 2, 3, 4, 5], [6, 6.5, 7, 7.5, 8])
    assert trend.direction == RISING
    assert trend.slope == pytest.approx(0.5, abs=1e-12)
    assert trend.change == pytest.approx(2.0, abs=1e-12)


def test_a_fall_is_falling_and_small_wobbles_are_steady():
    assert recent_trend([1, 2, 3, 4], [8, 7.5, 7, 6]).direction == FALLING
    # By hand: y = 7, 7.5, 7, 7.5 on x = 1..4: b = (−1.5·−.25 − .5·.25 + .5·−.25 + 1.5·.25) / 5
    # = 0.5 / 5 = 0.1, Δ = 0.3 < 1.
    trend = recent_trend([1, 2, 3, 4], [7, 7.5, 7, 7.5])
    assert trend.direction == STEADY
    assert trend.slope == pytest.approx(0.1, abs=1e-12)


def test_a_change_of_exactly_the_threshold_counts():
    # Δ = 0.5 · 2 = 1.0 exactly: rising at min_change 1, steady at 1.01.
    assert recent_trend([1, 2, 3], [6, 6.5, 7]).direction == RISING
    assert recent_trend([1, 2, 3], [6, 6.5, 7], min_change=1.01).direction == STEADY
    assert recent_trend([1, 2, 3], [7, 6.5, 6]).direction == FALLING


def test_only_the_most_recent_window_counts():
    # An early fall, then a steady plateau: the last five sessions are steady.
    sessions = list(range(1, 9))
    scores = [9, 8, 7, 6, 6, 6, 6, 6]
    assert recent_trend(sessions, scores).direction == STEADY
    assert recent_trend(sessions, scores, window=8).direction == FALLING


def test_unrated_sessions_do_not_count_and_order_does_not_matter():
    trend = recent_trend([4, 1, 3, 2, 5], [7.5, 6, None, math.nan, 8])
    assert trend.n_scores == 3
    assert (trend.first_session, trend.last_session) == (1.0, 5.0)
    # By hand: x = 1, 4, 5; y = 6, 7.5, 8: x̄ = 10/3, ȳ = 43/6; Sxy = 78/18 = 13/3,
    # Sxx = 78/9 = 26/3; b = 1/2.
    assert trend.slope == pytest.approx(0.5, abs=1e-12)


def test_too_few_scores_give_an_unknown_trend():
    trend = recent_trend([1, 2, 3], [7, None, 8])
    assert trend.direction == UNKNOWN and trend.n_scores == 2
    assert math.isnan(trend.slope)
    assert trend.to_dict()["slope"] is None
    empty = recent_trend([], [])
    assert empty.direction == UNKNOWN and empty.first_session is None


def test_bad_input_is_refused():
    with pytest.raises(InputError, match="2 session numbers but 3 scores"):
        recent_trend([1, 2], [1, 2, 3])
    with pytest.raises(InputError, match="twice"):
        recent_trend([1, 1, 2], [5, 6, 7])
    with pytest.raises(InputError, match="finite"):
        recent_trend([1, math.nan, 2], [5, 6, 7])
    with pytest.raises(InputError, match="min_change"):
        recent_trend([1, 2, 3], [5, 6, 7], min_change=0)
    with pytest.raises(InputError, match="min_scores"):
        recent_trend([1, 2, 3], [5, 6, 7], window=2, min_scores=3)
    with pytest.raises(InputError, match="numbers"):
        recent_trend([1, 2, 3], ["a", 6, 7])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 10, allow_nan=False), min_size=3, max_size=12),
       st.floats(-3, 3, allow_nan=False))
def test_adding_a_constant_changes_nothing_and_reversing_time_flips_the_direction(scores, shift):
    sessions = list(range(1, len(scores) + 1))
    trend = recent_trend(sessions, scores)
    shifted = recent_trend(sessions, [s + shift for s in scores])
    assert shifted.slope == pytest.approx(trend.slope, abs=1e-9)
    mirrored = recent_trend([-s for s in sessions[-5:]], scores[-5:])
    flip = {RISING: FALLING, FALLING: RISING, STEADY: STEADY}
    if abs(abs(trend.change) - 1.0) > 1e-6:  # away from the threshold's floating-point edge
        assert mirrored.direction == flip[trend.direction]

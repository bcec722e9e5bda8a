"""Trend sentences read as plain English."""


from alliance.core.trends import FALLING, RISING, Trend
from alliance.web.dashboards.text import trend_sentence


def trend(direction, change):
    return Trend(direction=direction, slope=change / 3, change=change, n_scores=4,
                 first_session=1, last_session=4, min_change=1.0)


def test_a_change_of_one_point_is_singular_and_larger_changes_are_plural():
    assert trend_sentence(trend(FALLING, -1.0)) == "Falling over sessions 1–4 (down about 1.0 point)."
    assert trend_sentence(trend(RISING, 2.5)) == "Rising over sessions 1–4 (up about 2.5 points)."

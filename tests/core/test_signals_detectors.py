"""Low alliance, discrepancy, not on track, disengagement, goals and tasks: known answers.

Every expected value is computed by hand in the comment next to it (exact, or
to 1e-9 for floating-point rounding).
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance.core.errors import InputError
from alliance.core.signals import (Goal, GoalReview, TaskReport, clinic_percentiles, discrepancy,
                                   disengagement, expected_bands, goal_not_agreed,
                                   goal_progress_flat, goal_ratings_apart, goal_review_overdue,
                                   goals_frame, low_alliance, not_on_track, percentile_of_sorted,
                                   reviews_frame, task_signals, tasks_frame)
from alliance.core.signals.records import bound_text, number

TOL = 1e-9


# --- low alliance -------------------------------------------------------------------------

def test_the_percentile_is_numpys_linear_interpolation():
    values = np.sort(np.random.default_rng(1).normal(size=37))
    for p in (5, 10, 25, 50, 90):
        assert percentile_of_sorted(values, p) == pytest.approx(np.percentile(values, p), abs=TOL)


def test_low_alliance_below_the_clinic_10th_percentile_at_the_same_session():
    # Session 1 scores 1 … 25: h = 24 · 0.1 = 2.4, q = 3 + 0.4 · (4 − 3) = 3.4; scores 1, 2, 3 fire.
    # Session 2 has only 5 scores (< 20): no percentile, no signal.
    client = [f"c{i}" for i in range(25)] + [f"c{i}" for i in range(5)]
    session = [1] * 25 + [2] * 5
    score = list(range(1, 26)) + [0, 0, 0, 0, 0]
    found = low_alliance(client, session, score, percentile=10, min_reference=20)
    assert [(s.client_id, s.session) for s in found] == [("c0", 1), ("c1", 1), ("c2", 1)]
    assert found[0].data["threshold"] == pytest.approx(3.4, abs=TOL)
    assert found[0].data["n_reference"] == 25
    assert found[0].rule == "percentile"
    assert "lowest 10%" in found[0].explanation


def test_with_dates_the_percentile_uses_only_scores_dated_up_to_the_session():
    rng = np.random.default_rng(4)
    n = 120
    session = rng.integers(1, 4, n)
    score = np.round(rng.normal(6, 1.5, n), 1)
    score[rng.random(n) < 0.1] = np.nan
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 40, n), unit="D")
    threshold, n_ref = clinic_percentiles(session, score, date=dates, percentile=20,
                                          min_reference=5)
    for i in range(n):
        if np.isnan(score[i]):
            assert np.isnan(threshold[i])
            continue
        group = score[(session == session[i]) & (dates <= dates[i]) & ~np.isnan(score)]
        assert n_ref[i] == len(group)
        if len(group) >= 5:
            assert threshold[i] == pytest.approx(np.percentile(group, 20), abs=TOL)
        else:
            assert np.isnan(threshold[i])


def test_low_alliance_below_an_instrument_cutoff():
    found = low_alliance(["a", "a", "b"], [1, 2, 1], [4.9, 5.0, np.nan], cutoff=5.0)
    assert [(s.client_id, s.session) for s in found] == [("a", 1)]
    assert found[0].rule == "cutoff"
    assert found[0].explanation == ("Alliance was 4.9 at session 1, below this questionnaire's "
                                    "cutoff of 5.0.")


def test_an_at_or_below_cutoff_fires_at_the_cutoff_itself():
    # The SRS flags totals at or below 36 (Duncan et al. 2003): 36 fires, 36.5 does not.
    found = low_alliance(["a", "a", "a"], [1, 2, 3], [36.5, 36.0, 30.0], cutoff=36.0,
                         cutoff_inclusive=True, score_label="SRS total")
    assert [s.session for s in found] == [2, 3]
    assert found[0].parameters["at_or_below"] is True
    assert found[0].explanation == ("SRS total was 36.0 at session 2, at or below this "
                                    "questionnaire's cutoff of 36.0.")


# --- discrepancy --------------------------------------------------------------------------

def test_discrepancy_when_the_therapist_rates_more_than_20_pomp_points_higher():
    # 6 → 60, 8.5 → 85: 25 > 20 fires; 7 → 70, 9 → 90: 20 is not above 20; reversed gap ignored.
    found = discrepancy(["a", "a", "a"], [1, 2, 3], [6, 7, 9], [8.5, 9, 6])
    assert [s.session for s in found] == [1]
    assert found[0].data["difference"] == pytest.approx(25.0, abs=TOL)
    assert "25 points out of 100 higher" in found[0].explanation


def test_discrepancy_puts_forms_with_different_ranges_on_one_scale():
    # Client 3 on 1–5 → 50; therapist 8 on 0–10 → 80; difference 30.
    (found,) = discrepancy(["a"], [1], [3.0], [8.0], client_scale=(1, 5), therapist_scale=(0, 10))
    assert found.data["client_pomp"] == 50 and found.data["therapist_pomp"] == 80


# --- not on track -------------------------------------------------------------------------

def test_not_on_track_below_the_band_when_higher_is_better_and_above_it_otherwise():
    found = not_on_track(["a", "a", "b"], [2, 3, 2], [3.0, 5.0, np.nan], [4, 4, 4], [7, 7, 7],
                         persistence=1)
    assert [(s.client_id, s.session) for s in found] == [("a", 2)]
    assert "below the range of 4.0–7.0" in found[0].explanation
    worse = not_on_track(["a", "a"], [2, 3], [9.0, 5.0], [4, 4], [8, 8], higher_is_better=False,
                         persistence=1)
    assert [s.session for s in worse] == [2]


def test_not_on_track_waits_for_two_rated_sessions_below_the_band_in_a_row_by_default():
    # Client a: below at 2, back at 3, below at 4 and 6 (5 not rated, so still in a row), 7.
    # Client b: below once. Rows out of order: the run follows session numbers.
    client = ["a"] * 6 + ["b", "b"]
    session = [7, 2, 3, 4, 5, 6, 2, 3]
    observed = [1.0, 1.0, 5.0, 1.0, np.nan, 1.0, 1.0, 5.0]
    found = sorted(not_on_track(client, session, observed, [3.0] * 8, [9.0] * 8),
                   key=lambda s: s.session)
    assert [(s.client_id, s.session) for s in found] == [("a", 6), ("a", 7)]
    assert [s.data["sessions_in_a_row"] for s in found] == [2, 3]
    assert found[1].explanation.endswith("for 3 rated sessions in a row: progress is slower "
                                         "than usual.")
    assert found[0].parameters["persistence"] == 2
    three = not_on_track(client, session, observed, [3.0] * 8, [9.0] * 8, persistence=3)
    assert [(s.client_id, s.session) for s in three] == [("a", 7)]
    every = not_on_track(client, session, observed, [3.0] * 8, [9.0] * 8, persistence=1)
    assert len(every) == 5


def test_a_session_without_a_band_neither_breaks_nor_extends_a_run():
    found = not_on_track(["a"] * 3, [2, 3, 4], [1.0, 1.0, 1.0], [3.0, np.nan, 3.0], [9.0] * 3)
    assert [s.session for s in found] == [4]


@pytest.mark.parametrize("bad", [0, 1.5, True])
def test_not_on_track_persistence_is_a_whole_number_of_sessions(bad):
    with pytest.raises(InputError, match="persistence"):
        not_on_track(["a"], [2], [1.0], [3.0], [9.0], persistence=bad)


def test_expected_bands_ask_the_model_for_rows_after_the_intake():
    class Model:
        def band(self, intake, session):
            self.asked = (np.asarray(intake), np.asarray(session))
            return intake + session, intake + session - 1, intake + session + 1

    model = Model()
    # Client a: intake at session 1 (4.0), a missing score at 2, rated at 3.
    # Client b: first rated at session 2 (6.0) → intake 6, judged from session 3.
    expected, low, high = expected_bands(model, ["a", "a", "a", "b", "b", "b"],
                                         [1, 2, 3, 1, 2, 3], [4.0, np.nan, 5.0, np.nan, 6.0, 2.0])
    np.testing.assert_array_equal(model.asked[0], [4.0, 4.0, 6.0])
    np.testing.assert_array_equal(model.asked[1], [2, 3, 3])
    np.testing.assert_array_equal(expected, [np.nan, 6, 7, np.nan, np.nan, 9])
    np.testing.assert_array_equal(low, [np.nan, 5, 6, np.nan, np.nan, 8])


def test_expected_bands_accept_a_band_with_lower_and_upper():
    class Band:
        def __init__(self, n):
            self.expected = np.full(n, 5.0)
            self.lower, self.upper = np.full(n, 4.0), np.full(n, 6.0)

    class Model:
        def band(self, intake, session):
            return Band(len(np.atleast_1d(intake)))

    expected, low, high = expected_bands(Model(), ["a", "a"], [1, 2], [3.0, 3.5])
    np.testing.assert_array_equal(low, [np.nan, 4.0])
    np.testing.assert_array_equal(high, [np.nan, 6.0])


# --- disengagement ------------------------------------------------------------------------

def test_missed_sessions_fire_once_when_the_run_reaches_n():
    attended = [1, 0, 0, 0, 1, 0, 0]
    found = disengagement(["a"] * 7, range(1, 8), attended, missed_in_a_row=2)
    assert [(s.session, s.rule) for s in found] == [(3, "missed_in_a_row"), (7, "missed_in_a_row")]
    assert found[0].data == {"missed": 2, "from_session": 2, "to_session": 3}


def test_unanswered_check_ins_count_attended_sessions_only():
    # Attended sessions 1, 2, 4, 5, 6 with scores 7, –, –, –, 7: the third unanswered is session 5.
    attended = [1, 1, 0, 1, 1, 1]
    score = [7, np.nan, np.nan, np.nan, np.nan, 7]
    found = disengagement(["a"] * 6, range(1, 7), attended, score=score, missed_in_a_row=2,
                          unanswered_in_a_row=3)
    assert [(s.session, s.rule) for s in found] == [(5, "unanswered_in_a_row")]
    assert found[0].data["from_session"] == 2


def test_a_gap_far_longer_than_the_usual_interval_fires_at_the_return():
    day = pd.Timestamp("2024-03-04")
    weekly = [day + pd.Timedelta(days=d) for d in (0, 7, 14, 21, 60)]
    found = disengagement(["a"] * 5, range(1, 6), [1] * 5, date=weekly)
    assert [(s.session, s.rule) for s in found] == [(5, "long_gap")]
    assert found[0].data["gap_days"] == 39 and found[0].data["usual_days"] == 7
    assert found[0].explanation.startswith("39 days passed between sessions 4 and 5")
    # Fortnightly: a 28-day gap is not more than twice the usual 14 days.
    fortnightly = [day + pd.Timedelta(days=d) for d in (0, 14, 28, 42, 70)]
    assert disengagement(["a"] * 5, range(1, 6), [1] * 5, date=fortnightly) == []


def test_a_gap_needs_enough_earlier_intervals_and_more_than_21_days():
    day = pd.Timestamp("2024-03-04")
    early = [day + pd.Timedelta(days=d) for d in (0, 7, 40)]        # one earlier interval only
    assert disengagement(["a"] * 3, [1, 2, 3], [1] * 3, date=early) == []
    short = [day + pd.Timedelta(days=d) for d in (0, 3, 6, 9, 25)]  # 16 > 2·3 but not > 21
    assert disengagement(["a"] * 5, range(1, 6), [1] * 5, date=short) == []


def test_an_open_gap_is_judged_as_of_a_given_date():
    day = pd.Timestamp("2024-03-04")
    dates = [day + pd.Timedelta(days=d) for d in (0, 7, 14, 21)]
    found = disengagement(["a"] * 4, range(1, 5), [1] * 4, date=dates,
                          as_of=day + pd.Timedelta(days=60))
    assert [(s.session, s.rule, s.data["gap_days"]) for s in found] == [(None, "long_gap", 39)]
    assert found[0].data["open"] is True


def test_attended_must_be_one_or_zero():
    with pytest.raises(InputError, match="1 or 0"):
        disengagement(["a"], [1], [2])


# --- goals and tasks ----------------------------------------------------------------------

HELD = pd.DataFrame({"client_id": ["a"] * 10, "session": range(1, 11)})


def test_a_goal_not_agreed_two_sessions_after_its_proposal():
    goals = goals_frame([Goal("a", "g1", proposed_session=2),
                         Goal("a", "g2", proposed_session=2, agreed_session=3),
                         Goal("a", "g3", proposed_session=2, agreed_session=5, title="sleep")])
    found = goal_not_agreed(goals, HELD, after_sessions=2, after_days=None)
    assert [(s.session, s.data["goal_id"]) for s in found] == [(4, "g1"), (4, "g3")]
    assert found[1].explanation.startswith("The goal 'sleep' was proposed at session 2 and is not "
                                           "yet agreed 2 sessions later")


def test_a_goal_not_agreed_after_21_days_fires_at_the_first_session_after_them():
    held = HELD.assign(date=pd.Timestamp("2024-01-01") + pd.to_timedelta(
        [0, 0, 30, 37, 44, 51, 58, 65, 72, 79], unit="D"))
    goals = goals_frame([Goal("a", "g1", proposed_session=2, proposed_date="2024-01-01")])
    (found,) = goal_not_agreed(goals, held, after_sessions=3, after_days=21)
    assert found.session == 3 and found.data["sessions_since"] == 1


def test_goal_ratings_far_apart():
    reviews = reviews_frame([GoalReview("a", "g1", 3, client_rating=3, therapist_rating=7),
                             GoalReview("a", "g1", 5, client_rating=5, therapist_rating=7),
                             GoalReview("a", "g1", 7, client_rating=6, therapist_rating=None)])
    found = goal_ratings_apart(reviews, threshold=3)
    assert [s.session for s in found] == [3]
    assert found[0].data["difference"] == 4
    # Ratings on the whole-number 0–10 scale read as given: 3, not 3.0.
    assert found[0].explanation == ("At session 3 the client rated progress on goal 'g1' 3 and "
                                    "the therapist 7, so they may see it differently.")


def test_goal_review_overdue_after_more_than_four_sessions_without_one():
    # Agreed at 1, reviewed at 2; sessions 3 … 7 are five without a review → fires at 7, once.
    goals = goals_frame([Goal("a", "g1", proposed_session=1, agreed_session=1)])
    reviews = reviews_frame([GoalReview("a", "g1", 2, client_rating=4)])
    found = goal_review_overdue(goals, reviews, HELD, max_sessions=4)
    assert [(s.session, s.data["since_session"]) for s in found] == [(7, 2)]


def test_goal_review_overdue_counts_from_agreement_and_not_before():
    goals = goals_frame([Goal("a", "g1", proposed_session=1, agreed_session=4),
                         Goal("b", "g2", proposed_session=1)])
    found = goal_review_overdue(goals, reviews_frame([]), HELD.assign(client_id="a"),
                                max_sessions=4)
    assert [(s.client_id, s.session, s.data["since_session"]) for s in found] == [("a", 9, 4)]


def test_goal_progress_flat_over_the_last_three_reviews_fires_once_per_stretch():
    # Ratings 2, 3, 3, 3.4, 3.2, 5: windows end at 3 (range 1), 4 (0.4: fires),
    # 5 (0.4: same stretch), 6 (1.8).
    ratings = [2, 3, 3, 3.4, 3.2, 5]
    reviews = reviews_frame([GoalReview("a", "g1", s, client_rating=r)
                             for s, r in zip(range(1, 7), ratings)])
    found = goal_progress_flat(reviews, n_reviews=3, tolerance=0.5)
    assert [s.session for s in found] == [4]
    assert found[0].data["ratings"] == [3.0, 3.0, 3.4]
    assert "has stayed around 3.4 over the last 3 reviews" in found[0].explanation
    whole = goal_progress_flat(reviews_frame([GoalReview("a", "g1", s, client_rating=5)
                                              for s in (1, 2, 3)]))
    assert "has stayed around 5 over the last 3 reviews" in whole[0].explanation


def test_ratings_are_written_without_decimals_when_whole_and_scores_keep_one():
    from alliance.core.signals.records import number, rating_text

    assert [rating_text(v) for v in (8, 8.0, 0.0, 7.5, 3.25)] == ["8", "8", "0", "7.5", "3.3"]
    # Alliance scores (means of items) keep one decimal on purpose: 5.0, not 5.
    assert [number(v) for v in (5.0, 8.5, 3.25)] == ["5.0", "8.5", "3.3"]


def test_tasks_not_done_or_unhelpful_at_two_reports_in_a_row():
    done = [1, 0, 0, 0, 1, 0, 0]
    helpful = [1, 1, None, 0, None, 0, 1]
    reports = tasks_frame([TaskReport("a", "t1", s, done=bool(d), helpful=h)
                           for s, d, h in zip(range(1, 8), done, helpful)])
    found = task_signals(reports, in_a_row=2)
    assert [(s.type, s.session) for s in found] == [("task_not_done", 3), ("task_not_done", 7),
                                                    ("task_unhelpful", 6)]
    assert found[2].data["from_session"] == 4


def test_goal_tables_without_their_columns_are_clear_errors():
    with pytest.raises(InputError, match="goal_id"):
        goal_ratings_apart(pd.DataFrame({"client_id": ["a"], "session": [1]}))


def test_scores_are_written_with_one_decimal_and_halves_round_up():
    assert [number(v) for v in (8, 5.666, 5.65, 3.25, 0.04, -0.04)] == [
        "8.0", "5.7", "5.7", "3.3", "0.0", "0.0"]


def test_a_score_below_the_range_never_prints_at_or_above_its_end():
    # The sentence once read "Wellbeing was 6.0 … below the range of 6.00–9.74".
    [found] = not_on_track(["a"], [3], [5.98], [6.0], [9.74], score_label="Wellbeing",
                           persistence=1)
    assert found.explanation.startswith("Wellbeing was 6.0 at session 3, below the range of "
                                        "6.1–9.7 expected")


@given(st.floats(0, 10), st.floats(0, 10))
def test_a_bound_is_rounded_away_from_the_value(value, bound):
    shown_value, shown_bound = float(number(value)), float(bound_text(bound, value))
    if value < bound:
        assert shown_value < shown_bound
    elif value > bound:
        assert shown_value > shown_bound
    assert abs(shown_bound - bound) < 0.2

"""Expected treatment response: lme4 reference, known-curve recovery, band coverage, refusals.

Reference values: tests/reference/expected/lme4_reference.json, written by
lme4_reference.R (lme4 1.1.31, R 4.2.2) from data.csv, which make_data.py
simulated from the known curve in its TRUTH. "3 significant digits" means a
relative difference below 5 × 10⁻⁴.
"""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliance.core.errors import InputError, NotEnoughDataError
from alliance.core.expected import (COEFFICIENTS, MIN_CASES, ExpectedResponseModel,
                                    natural_spline_basis,
                                    fit_expected_response)
from alliance.core.tables import read_csv

REFERENCE = Path(__file__).parents[1] / "reference" / "expected"


def _generator():
    """The script that simulated the reference data (known curve in TRUTH)."""
    spec = importlib.util.spec_from_file_location("expected_reference_data",
                                                  REFERENCE / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_GENERATOR = _generator()
TRUTH, make = _GENERATOR.TRUTH, _GENERATOR.make

THREE_DIGITS = 5e-4


@pytest.fixture(scope="module")
def lme4():
    return json.loads((REFERENCE / "lme4_reference.json").read_text())


@pytest.fixture(scope="module")
def reference_model():
    frame = read_csv(REFERENCE / "data.csv", numeric=["session", "wellbeing"])
    return fit_expected_response(frame, "client_id", "session", "wellbeing")


@pytest.fixture(scope="module")
def large_model():
    # 200 cases of 3–12 sessions from the known curve (same generator, other seed).
    return fit_expected_response(make(seed=11, n_cases=200), "client_id", "session", "wellbeing")


def held_out(seed=12, n_cases=300):
    frame = make(seed=seed, n_cases=n_cases, missing=0.0)
    frame["intake"] = frame.groupby("client_id")["wellbeing"].transform("first")
    return frame[frame["session"] > 1]


def test_coefficients_and_standard_errors_match_lme4_to_3_significant_digits(reference_model,
                                                                             lme4):
    se = np.sqrt(np.diag(reference_model.cov_coefficients))
    for index, name in enumerate(COEFFICIENTS):
        expected = lme4["fixed_effects"][name]
        assert reference_model.coefficients[name] == pytest.approx(expected["estimate"],
                                                                   rel=THREE_DIGITS), name
        assert se[index] == pytest.approx(expected["se"], rel=THREE_DIGITS), name


def test_variance_components_match_lme4(reference_model, lme4):
    assert reference_model.random_slope and not lme4["singular"]
    G, expected = reference_model.cov_random, np.array(lme4["cov_random"])
    # Variances to 3 significant digits; the small intercept–slope covariance
    # (0.006, correlation 0.06) to 1e-5 absolute.
    np.testing.assert_allclose(np.diag(G), np.diag(expected), rtol=THREE_DIGITS)
    assert G[0, 1] == pytest.approx(expected[0, 1], abs=1e-5)
    assert reference_model.residual_variance == pytest.approx(lme4["residual_variance"],
                                                              rel=THREE_DIGITS)
    assert (reference_model.n_cases, reference_model.n_obs) == (lme4["n_cases"], lme4["n_obs"])


def test_the_known_curve_is_recovered_within_3_standard_errors(large_model):
    se = np.sqrt(np.diag(large_model.cov_coefficients))
    for index, name in enumerate(COEFFICIENTS):
        assert abs(large_model.coefficients[name] - TRUTH[name]) < 3 * se[index], name


def test_about_the_nominal_share_of_new_cases_scores_fall_inside_the_band(large_model):
    # 300 new cases from the same curve, about 2,000 scores: 80 % ± 4 points inside,
    # 10 % ± 3 points below (the side that flags a case as not on track).
    new = held_out()
    band = large_model.band(new["intake"], new["session"])
    score = new["wellbeing"].to_numpy()
    inside = np.mean((score >= band.lower) & (score <= band.upper))
    below = np.mean(score < band.lower)
    assert inside == pytest.approx(0.80, abs=0.04)
    assert below == pytest.approx(0.10, abs=0.03)
    flagged = large_model.not_on_track(new["intake"], new["session"], score)
    assert flagged.mean() == pytest.approx(below)


def test_band_broadcasts_over_intake_and_session(reference_model):
    band = reference_model.band(np.array([[3.0], [5.0]]), np.array([2, 4, 8]))
    assert band.expected.shape == band.lower.shape == band.upper.shape == (2, 3)
    assert np.all(band.lower < band.expected) and np.all(band.expected < band.upper)
    c = reference_model.coefficients
    by_hand = (c["intercept"] + c["intake"] * 5 + (c["log_session"]
               + c["intake_log_session"] * 5) * np.log(8))
    assert band.expected[1, 2] == pytest.approx(by_hand)
    single = reference_model.band(5.0, 8)
    assert single.expected == pytest.approx(by_hand)


def test_the_band_is_symmetric_and_widens_with_coverage(reference_model):
    narrow = reference_model.band(4.0, 6)
    wide_model = ExpectedResponseModel.from_dict({**reference_model.to_dict(), "coverage": 0.95})
    wide = wide_model.band(4.0, 6)
    assert wide.expected == pytest.approx(narrow.expected)
    half_80, half_95 = narrow.upper - narrow.expected, wide.upper - wide.expected
    assert narrow.expected - narrow.lower == pytest.approx(half_80)
    assert half_95 / half_80 == pytest.approx(1.959964 / 1.281552, rel=1e-5)


def test_not_on_track_looks_at_the_side_that_is_worse(reference_model):
    band = reference_model.band([4.0, 4.0, 4.0, 4.0], [6, 6, 6, 6])
    observed = [band.lower[0] - 0.01, band.upper[0] + 0.01, band.expected[0], np.nan]
    higher = reference_model.not_on_track([4.0] * 4, [6] * 4, observed)
    lower = reference_model.not_on_track([4.0] * 4, [6] * 4, observed, higher_is_better=False)
    assert list(higher) == [True, False, False, False]
    assert list(lower) == [False, True, False, False]


def test_the_model_survives_a_round_trip_through_a_dict(reference_model):
    stored = json.loads(json.dumps(reference_model.to_dict()))
    again = ExpectedResponseModel.from_dict(stored)
    np.testing.assert_allclose(again.band([2.0, 6.0], [3, 10]).upper,
                               reference_model.band([2.0, 6.0], [3, 10]).upper)
    assert stored["n_cases"] == 80 and stored["method"] == "REML"


def test_fewer_cases_than_the_minimum_is_refused_with_both_numbers():
    frame = make(seed=1, n_cases=MIN_CASES - 1)
    with pytest.raises(NotEnoughDataError,
                       match=f"at least {MIN_CASES} completed cases.*have {MIN_CASES - 1}"):
        fit_expected_response(frame, "client_id", "session", "wellbeing")


def test_cases_with_fewer_than_three_scores_do_not_count_as_completed():
    frame = make(seed=1, n_cases=40, sessions=(2, 2), missing=0.0)  # intake + 1 score each
    with pytest.raises(NotEnoughDataError, match="have 0"):
        fit_expected_response(frame, "client_id", "session", "wellbeing", min_cases=10)


def test_a_lower_minimum_can_be_chosen():
    model = fit_expected_response(make(seed=1, n_cases=12), "client_id", "session", "wellbeing",
                                  min_cases=10)
    assert model.n_cases == 12


def test_a_missing_column_is_named():
    with pytest.raises(InputError, match="missing column 'score'") as info:
        fit_expected_response(make(n_cases=5), "client_id", "session", "score")
    assert info.value.column == "score"


def test_text_in_the_session_column_is_an_error():
    frame = make(n_cases=5).astype({"session": object})
    frame.loc[3, "session"] = "third"
    with pytest.raises(InputError, match="'third' .* is not a number"):
        fit_expected_response(frame, "client_id", "session", "wellbeing")


def test_session_numbers_below_one_and_repeated_sessions_are_refused():
    frame = make(n_cases=5)
    with pytest.raises(InputError, match="start at 1"):
        fit_expected_response(frame.assign(session=frame["session"] - 1), "client_id", "session",
                              "wellbeing")
    with pytest.raises(InputError, match="more than once"):
        fit_expected_response(frame.assign(session=1), "client_id", "session", "wellbeing")


def test_an_impossible_coverage_is_refused():
    with pytest.raises(InputError, match="coverage"):
        fit_expected_response(make(n_cases=5), "client_id", "session", "wellbeing", coverage=1.2)


# ------------------------------------------------------- curves and held-out coverage
def sigmoid_clinic(seed=1, n_cases=80):
    """A clinic whose course is not logarithmic: little change until about session 6, a
    rise around session 9, then a plateau (as in a treatment with a slow start)."""
    rng = np.random.default_rng(seed)
    rows = []
    for case in range(n_cases):
        intake, u0 = rng.normal(4, 1.5), rng.normal(0, 0.6)
        rows.append((f"c{case:03d}", 1, intake))
        for session in range(2, int(rng.integers(6, 17)) + 1):
            gain = 4.0 / (1 + np.exp(-(session - 9) / 1.2))
            rows.append((f"c{case:03d}", session,
                         round(1 + 0.75 * intake + gain + u0 + rng.normal(0, 0.6), 2)))
    return pd.DataFrame(rows, columns=["client_id", "session", "wellbeing"])


@pytest.fixture(scope="module")
def auto_model():
    return fit_expected_response(sigmoid_clinic(), "client_id", "session", "wellbeing",
                                 curve="auto")


def test_auto_keeps_the_curve_whose_held_out_coverage_strays_least_by_session(auto_model):
    assert set(auto_model.held_out) == {"log", "spline"}
    assert auto_model.curve == "spline"

    def worst(curve):
        groups = auto_model.held_out[curve]["by_session"].values()
        return max(abs(group["coverage"] - 0.8) for group in groups)

    assert worst("spline") < worst("log")
    check = auto_model.held_out["spline"]
    assert check["n"] == auto_model.n_obs
    assert list(check["by_session"]) == ["2–4", "5–7", "8–12", "13+"]
    assert sum(group["n"] for group in check["by_session"].values()) == check["n"]
    assert 0.75 < check["overall"] < 0.85


def test_a_spline_model_survives_a_round_trip_through_a_dict(auto_model):
    stored = ExpectedResponseModel.from_dict(json.loads(json.dumps(auto_model.to_dict())))
    assert stored.curve == "spline" and stored.knots == auto_model.knots
    here, there = auto_model.band(4.0, [2, 9, 20]), stored.band(4.0, [2, 9, 20])
    assert np.allclose(here.lower, there.lower) and np.allclose(here.upper, there.upper)
    # A model stored before curves existed is a log curve.
    old = {k: v for k, v in auto_model.to_dict().items() if k not in ("curve", "knots")}
    with pytest.raises(InputError, match="not a stored expected-response model"):
        ExpectedResponseModel.from_dict(old)  # spline coefficients under a log curve


def test_the_natural_spline_is_linear_beyond_its_outer_knots():
    knots = (2.0, 5.0, 9.0, 16.0)
    x = np.array([16.0, 20.0, 24.0, 28.0, -2.0, 0.0, 2.0])
    basis = natural_spline_basis(x, knots)
    assert basis.shape == (7, 3)
    assert np.allclose(np.diff(basis[:4], 2, axis=0), 0)
    assert np.allclose(np.diff(basis[4:], 2, axis=0), 0)


def test_an_unknown_curve_is_refused():
    with pytest.raises(InputError, match="curve must be one of log, spline or auto"):
        fit_expected_response(sigmoid_clinic(n_cases=5), "client_id", "session", "wellbeing",
                              curve="cubic")

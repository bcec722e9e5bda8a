"""Reliability statistics reproduce R's psych package on stored reference data.

Reference: tests/reference/psychometrics/psych_reference.json, written by
psych_reference.R (R 4.2.2, psych 2.2.9) from the CSV files next to it with
psych::alpha(x, keys = ..., check.keys = FALSE) and
psych::omega(reverse.code(keys, x, mini, maxi), nfactors = 1, plot = FALSE).
The requirement is agreement to 3 decimals; the closed-form statistics are
checked to 1e-6 and the iteratively fitted omega to 1e-5 (R's optimiser stops
earlier than ours), loadings to 1e-4.
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliance.core.errors import InputError, NotEnoughDataError, ScoringError
from alliance.core.psychometrics import (
    alpha_confidence_interval,
    cronbach_alpha_from_covariance,
    one_factor_minres,
    reliability,
    reliability_by_group,
)
from alliance.core.tables import read_csv

REFERENCE = Path(__file__).parents[1] / "reference" / "psychometrics"
R = json.loads((REFERENCE / "psych_reference.json").read_text())
SETS = ["alliance6", "waisr12", "messy"]

CLOSED_FORM = 1e-6
OMEGA = 1e-5
LOADING = 1e-4


def analyse(name):
    ref = R[name]
    frame = read_csv(REFERENCE / ref["file"], numeric=ref["items"])
    return reliability(frame, ref["items"], reverse=ref["reverse"], min=ref["min"], max=ref["max"])


@pytest.mark.parametrize("name", SETS)
def test_alpha_and_its_feldt_interval_match_psych_alpha(name):
    result, ref = analyse(name), R[name]
    assert result.alpha == pytest.approx(ref["alpha"], abs=CLOSED_FORM)
    assert result.alpha_ci[0] == pytest.approx(ref["alpha_ci"][0], abs=CLOSED_FORM)
    assert result.alpha_ci[1] == pytest.approx(ref["alpha_ci"][1], abs=CLOSED_FORM)
    assert result.alpha_ci_method == "feldt"


@pytest.mark.parametrize("name", SETS)
def test_omega_total_matches_psych_omega_with_one_factor(name):
    result, ref = analyse(name), R[name]
    assert result.omega_total == pytest.approx(ref["omega_total"], abs=OMEGA)
    loadings = [item.loading for item in result.items]
    assert loadings == pytest.approx(ref["loadings"], abs=LOADING)


@pytest.mark.parametrize("name", SETS)
def test_item_statistics_match_psych_r_drop_and_alpha_drop(name):
    result, ref = analyse(name), R[name]
    assert [item.item for item in result.items] == ref["items"]
    assert [item.r_drop for item in result.items] == pytest.approx(ref["r_drop"], abs=CLOSED_FORM)
    assert [item.alpha_if_deleted for item in result.items] == pytest.approx(
        ref["alpha_if_deleted"], abs=CLOSED_FORM)


@pytest.mark.parametrize("name", SETS)
def test_rows_with_a_missing_item_are_dropped_and_counted_like_na_omit(name):
    result, ref = analyse(name), R[name]
    assert (result.n, result.n_dropped, result.k) == (ref["n"], ref["n_dropped"], ref["k"])


def test_the_messy_set_drops_six_incomplete_rows_and_keeps_34():
    result = analyse("messy")
    assert (result.n, result.n_dropped) == (34, 6)
    assert result.item("q3").reversed
    assert result.notes == ()


def test_alpha_of_four_items_with_unit_variances_and_covariances_of_half_is_0_8():
    # Hand computation: sum C = 4 + 12 * 0.5 = 10, trace 4, alpha = 4/3 * (1 - 4/10) = 0.8.
    covariance = np.full((4, 4), 0.5) + np.eye(4) * 0.5
    assert cronbach_alpha_from_covariance(covariance) == pytest.approx(0.8, abs=1e-12)


def test_feldt_interval_contains_alpha_and_narrows_with_more_respondents():
    small = alpha_confidence_interval(0.8, 50, 6)
    large = alpha_confidence_interval(0.8, 500, 6)
    assert small[0] < large[0] < 0.8 < large[1] < small[1]


def test_minres_recovers_an_exact_one_factor_structure_and_omega_by_hand():
    # R = λλ' + diag(1 − λ²) has zero off-diagonal residual at λ. Omega by hand:
    # (Σλ)² / ((Σλ)² + Σ(1 − λ²)) = 2.6² / (6.76 + 2.26) = 0.749445676...
    loadings = np.array([0.8, 0.7, 0.6, 0.5])
    correlation = np.outer(loadings, loadings)
    np.fill_diagonal(correlation, 1.0)
    model = one_factor_minres(correlation)
    assert model.loadings == pytest.approx(loadings, abs=1e-6)
    assert not model.at_bound

    rng = np.random.default_rng(3)
    factor = rng.standard_normal((4000, 1))
    data = factor * loadings + rng.standard_normal((4000, 4)) * np.sqrt(1 - loadings ** 2)
    result = reliability(data)
    assert result.omega_total == pytest.approx(6.76 / 9.02, abs=0.02)  # sampling error at n = 4000


def _correlations(count, seed):
    """Sample correlation matrices of one-factor data, a third with an item that the
    factor explains almost entirely (Heywood cases) and a fifth with two near-copies."""
    rng = np.random.default_rng(seed)
    for trial in range(count):
        k, n = int(rng.integers(3, 13)), int(rng.integers(20, 300))
        loadings = rng.uniform(-0.3, 0.99, k)
        if trial % 3 == 0:
            loadings[rng.integers(k)] = rng.uniform(0.95, 1.0)
        data = (rng.standard_normal((n, 1)) * loadings
                + rng.standard_normal((n, k)) * np.sqrt(np.clip(1 - loadings ** 2, 0.001, None)))
        if trial % 5 == 0:
            data[:, 1] = data[:, 0] + 0.05 * rng.standard_normal(n)
        yield np.corrcoef(data.T)


def test_minres_reaches_the_minimum_of_bounded_l_bfgs_b_as_psych_fa_runs_it():
    # The fit psych::fa runs (and this module ran before): optim(method = "L-BFGS-B")
    # over the uniquenesses in [0.005, 1] from 1 − SMC, here with scipy's L-BFGS-B.
    from scipy import optimize

    heywood = 0
    for correlation in _correlations(15, seed=11):
        k = len(correlation)

        def objective(psi):
            values, vectors = np.linalg.eigh(correlation - np.diag(psi))
            loading = vectors[:, -1] * np.sqrt(max(values[-1], 0.0))
            residual = correlation - np.diag(psi) - np.outer(loading, loading)
            return float((residual ** 2).sum()), 2.0 * (loading ** 2 + psi - 1.0)

        start = np.clip(np.diag(np.linalg.pinv(correlation)) ** -1.0, 0.005, 1.0)
        fit = optimize.minimize(objective, start, jac=True, method="L-BFGS-B",
                                bounds=[(0.005, 1.0)] * k,
                                options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000})
        values, vectors = np.linalg.eigh(correlation - np.diag(fit.x))
        expected = vectors[:, -1] * np.sqrt(max(values[-1], 0.0))
        expected *= np.sign(expected.sum())
        model = one_factor_minres(correlation)
        assert model.loadings == pytest.approx(expected, abs=1e-6)
        assert model.at_bound == bool(np.any(fit.x <= 0.005 + 1e-8))
        heywood += model.at_bound
    assert heywood >= 3


def test_a_heywood_case_holds_the_uniqueness_at_its_bound_with_zero_gradient_elsewhere():
    # Items 1 and 2 nearly copies of each other: item 1's uniqueness wants to go below 0.
    correlation = np.array([[1.0, 0.97, 0.5, 0.45], [0.97, 1.0, 0.45, 0.4],
                            [0.5, 0.45, 1.0, 0.3], [0.45, 0.4, 0.3, 1.0]])
    model = one_factor_minres(correlation)
    assert model.at_bound
    # At the minimum (Karush–Kuhn–Tucker): the gradient λ² + ψ − 1 vanishes for each
    # free uniqueness and points out of the box for the one at its bound 0.005.
    psi = np.maximum(model.uniquenesses, 0.005)
    bound = np.isclose(psi, 0.005)
    values, vectors = np.linalg.eigh(correlation - np.diag(np.where(bound, 0.005, psi)))
    loading = vectors[:, -1] * np.sqrt(values[-1])
    gradient = loading ** 2 + np.where(bound, 0.005, psi) - 1.0
    assert bound.sum() == 1
    assert np.abs(gradient[~bound]).max() < 1e-10
    assert gradient[bound][0] > 0


def test_reverse_keying_equals_reversing_by_hand_and_does_not_depend_on_the_range_used():
    frame = pd.read_csv(REFERENCE / "waisr12.csv")
    items = [f"wai{i:02d}" for i in range(1, 13)]
    keyed = reliability(frame, items, reverse=["wai07"], min=1, max=5)
    by_hand = frame.copy()
    by_hand["wai07"] = 6 - by_hand["wai07"]
    plain = reliability(by_hand, items)
    assert keyed.alpha == pytest.approx(plain.alpha, abs=1e-12)
    assert keyed.omega_total == pytest.approx(plain.omega_total, abs=1e-9)
    assert keyed.item("wai07").r_drop == pytest.approx(plain.item("wai07").r_drop, abs=1e-12)


def test_an_unreversed_negative_item_is_flagged_in_the_notes():
    frame = pd.read_csv(REFERENCE / "waisr12.csv")
    result = reliability(frame, [f"wai{i:02d}" for i in range(1, 13)])
    assert result.item("wai07").r_drop < 0
    assert any("'wai07' correlates negatively" in note for note in result.notes)


def test_arrays_are_accepted_and_items_are_named_item1_to_itemk():
    data = np.array([[1, 2, 2], [2, 3, 3], [3, 3, 4], [4, 5, 4], [5, 4, 5]])
    result = reliability(data)
    assert [item.item for item in result.items] == ["item1", "item2", "item3"]
    assert result.n == 5


def test_two_items_give_alpha_but_no_omega_and_say_why():
    data = np.array([[1, 2], [2, 2], [3, 4], [4, 5], [5, 4]])
    result = reliability(data)
    assert result.alpha == pytest.approx(cronbach_alpha_from_covariance(np.cov(data.T)))
    assert math.isnan(result.omega_total)
    assert all(math.isnan(item.alpha_if_deleted) for item in result.items)
    assert any("at least 3 items" in note for note in result.notes)


def test_result_converts_to_the_documented_json_keys():
    result = analyse("alliance6").to_dict()
    assert {"n", "alpha", "alpha_ci", "omega_total", "items", "n_dropped", "k"} <= set(result)
    assert len(result["alpha_ci"]) == 2
    assert {"item", "r_drop", "alpha_if_deleted"} <= set(result["items"][0])
    json.dumps(result)


def test_fewer_than_two_items_is_an_error():
    with pytest.raises(InputError, match="at least 2 items, got 1"):
        reliability(pd.DataFrame({"a": [1, 2, 3]}))


def test_fewer_than_three_complete_rows_is_an_error_that_counts_them():
    frame = pd.DataFrame({"a": [1, 2, None, 4], "b": [2, None, 3, 3]})
    with pytest.raises(NotEnoughDataError, match="2 of 4 rows"):
        reliability(frame)


def test_an_item_without_variance_is_named():
    frame = pd.DataFrame({"a": [1, 2, 3, 4], "b": [3, 3, 3, 3], "c": [2, 2, 4, 5]})
    with pytest.raises(InputError, match="item 'b' has the same answer \\(3\\) in every complete row"):
        reliability(frame)


def test_text_in_an_item_column_is_named_with_its_row():
    frame = pd.DataFrame({"a": ["1", "2", "x"], "b": [1, 2, 3]})
    with pytest.raises(InputError, match="column 'a': 'x' \\(data row 3\\) is not a number"):
        reliability(frame)


def test_unknown_items_and_bad_reverse_requests_are_clear_errors():
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [1, 3, 2]})
    with pytest.raises(InputError, match="no item column 'c' \\(the data has: a, b\\)"):
        reliability(frame, ["a", "c"])
    with pytest.raises(InputError, match="needs the scale's minimum and maximum"):
        reliability(frame, reverse=["a"])
    with pytest.raises(InputError, match="not among the selected items"):
        reliability(frame, ["a", "b"], reverse=["z"], min=1, max=3)
    with pytest.raises(InputError, match="listed twice: a"):
        reliability(frame, ["a", "a"])


def test_an_answer_outside_the_declared_range_names_item_and_value():
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [1, 7, 2]})
    with pytest.raises(ScoringError, match="item 'b' \\(value 7\\): outside the scale range 1–5"):
        reliability(frame, min=1, max=5)


# ---------------------------------------------------------------- missing answers
# tests/reference/psychometrics/psych_pairwise.json (psych_pairwise.R): waisr12 with about
# 8 % of the answers removed at random and two rows without any answer, analysed with
# psych's defaults (use = "pairwise") and on na.omit(x).
PAIRWISE = json.loads((REFERENCE / "psych_pairwise.json").read_text())


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_missing_answers_pairwise_and_listwise_match_psych(missing):
    ref, expected = PAIRWISE, PAIRWISE[missing]
    frame = read_csv(REFERENCE / ref["file"], numeric=ref["items"])
    result = reliability(frame, ref["items"], reverse=ref["reverse"], min=ref["min"],
                         max=ref["max"], missing=missing)
    assert result.missing == missing
    # The Feldt interval's n: every row of the file pairwise (as psych::alpha's nrow(x)).
    assert result.n == expected["n"]
    assert result.alpha == pytest.approx(expected["alpha"], abs=CLOSED_FORM)
    assert result.alpha_ci == pytest.approx(expected["alpha_ci"], abs=CLOSED_FORM)
    assert [i.r_drop for i in result.items] == pytest.approx(expected["r_drop"], abs=CLOSED_FORM)
    assert [i.alpha_if_deleted for i in result.items] == pytest.approx(
        expected["alpha_if_deleted"], abs=CLOSED_FORM)
    assert result.omega_total == pytest.approx(expected["omega_total"], abs=OMEGA)
    assert [i.loading for i in result.items] == pytest.approx(expected["loadings"], abs=LOADING)
    assert result.n_complete == PAIRWISE["listwise"]["n"]
    if missing == "pairwise":
        assert result.n_dropped == 0
        assert any("2 rows answer no item" in note for note in result.notes)
        assert result.to_dict()["missing"] == "pairwise"
    else:
        assert result.n_dropped == ref["rows_in_file"] - expected["n"]


def test_pairwise_without_missing_answers_equals_listwise():
    ref = R["waisr12"]
    frame = read_csv(REFERENCE / ref["file"], numeric=ref["items"])
    both = [reliability(frame, ref["items"], missing=m) for m in ("listwise", "pairwise")]
    assert both[0].alpha == pytest.approx(both[1].alpha, abs=1e-12)
    assert both[0].alpha_ci == pytest.approx(both[1].alpha_ci, abs=1e-12)
    assert both[0].omega_total == pytest.approx(both[1].omega_total, abs=1e-9)


def test_pairwise_needs_every_pair_of_items_answered_together_three_times():
    frame = pd.DataFrame({"a": [1, 2, 3, 4, 5, None, None, None],
                          "b": [2, 1, None, None, None, 3, 4, 5],
                          "c": [1, 3, 2, 4, 5, 2, 3, 4]})
    with pytest.raises(NotEnoughDataError, match="items 'a' and 'b' are answered together in 2"):
        reliability(frame, missing="pairwise")
    with pytest.raises(InputError, match="missing must be one of listwise, pairwise"):
        reliability(frame, missing="available")


def _with_language(frame: pd.DataFrame) -> pd.DataFrame:
    """WAI-SR rows split into two languages, a two-row third one and two blanks."""
    frame = frame.copy()
    language = np.where(np.arange(len(frame)) % 2 == 0, "en", "de").astype(object)
    language[:2] = "fr"
    language[2:4] = None
    frame["language"] = language
    return frame


def test_each_group_is_the_plain_computation_on_its_rows():
    frame = _with_language(read_csv(REFERENCE / "waisr12.csv"))
    items = [f"wai{j:02d}" for j in range(1, 13)]
    for missing in ("listwise", "pairwise"):
        result = reliability_by_group(frame, "language", items, reverse=["wai07"],
                                      min=1, max=5, missing=missing)
        assert result.overall == reliability(frame, items, reverse=["wai07"], min=1, max=5,
                                             missing=missing)
        assert [g.group for g in result.groups] == ["de", "en", "fr"]
        assert result.rows_without_group == 2
        for g in result.groups[:2]:
            subset = frame[frame["language"] == g.group]
            assert g.rows == len(subset)
            assert g.result == reliability(subset, items, reverse=["wai07"], min=1, max=5,
                                           missing=missing)
            assert g.result.alpha != pytest.approx(result.overall.alpha, abs=1e-9)
        too_small = result.groups[2]
        assert too_small.result is None and too_small.rows == 2
        assert "too little data in this group" in too_small.note
        assert "at least 3" in too_small.note


def test_numeric_group_values_are_labels_and_an_unknown_group_column_is_an_input_error():
    frame = pd.DataFrame({"a": [1, 2, 3, 4, 5, 1, 2, 3], "b": [2, 2, 3, 5, 4, 1, 3, 3],
                          "c": [1, 3, 3, 4, 5, 2, 2, 4], "site": [1.0, 1, 1, 1, 2, 2, 2, 2]})
    result = reliability_by_group(frame, "site", ["a", "b", "c"])
    assert [g.group for g in result.groups] == ["1", "2"]
    with pytest.raises(InputError, match="no group column 'lang'"):
        reliability_by_group(frame, "lang", ["a", "b", "c"])
    with pytest.raises(InputError, match="both an item and the group column"):
        reliability_by_group(frame, "a", ["a", "b", "c"])

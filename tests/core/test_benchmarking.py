"""Therapist effects (BLUPs with conditional-variance intervals) checked against R's lme4.

Reference: tests/reference/benchmarking (data from make_data.py, lme4 1.1 output from
lme4_reference.R: lmer(change ~ intake_c + (1 | therapist), REML = TRUE) and
ranef(condVar = TRUE)). Tolerances: 1e-4 absolute on estimates and variances (both
optimise the same REML criterion to about 1e-8).
"""

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from alliance.core.benchmarking import therapist_effects
from alliance.core.errors import InputError, NotEnoughDataError

HERE = Path(__file__).parent.parent / "reference" / "benchmarking"
REFERENCE = json.loads((HERE / "lme4_reference.json").read_text())["models"]
TOL = 1e-4


def fit(name):
    data = pd.read_csv(HERE / f"{name}.csv", dtype={"therapist": str})
    return therapist_effects(data, outcome="change", covariate="intake")


def test_fixed_effects_and_variances_match_lme4():
    result, ref = fit("data"), REFERENCE["data"]
    assert result.n_cases == ref["n"] and result.n_therapists == 7
    assert result.covariate_mean == pytest.approx(ref["intake_mean"], abs=1e-12)
    assert result.intercept == pytest.approx(ref["fixef"]["(Intercept)"], abs=TOL)
    assert result.slope == pytest.approx(ref["fixef"]["intake_c"], abs=TOL)
    assert result.intercept_se == pytest.approx(ref["se"]["(Intercept)"], abs=TOL)
    assert result.slope_se == pytest.approx(ref["se"]["intake_c"], abs=TOL)
    assert result.therapist_variance == pytest.approx(ref["therapist_variance"], abs=TOL)
    assert result.residual_variance == pytest.approx(ref["residual_variance"], abs=TOL)
    assert not result.singular and result.converged


def test_each_therapists_blup_and_conditional_variance_match_lme4():
    result, ref = fit("data"), REFERENCE["data"]
    expected = {t["therapist"]: t for t in ref["therapists"]}
    assert [t.therapist for t in result.therapists] == sorted(expected)
    for effect in result.therapists:
        want = expected[effect.therapist]
        assert effect.n_cases == want["n"]
        assert effect.effect == pytest.approx(want["blup"], abs=TOL)
        assert effect.se ** 2 == pytest.approx(want["cond_var"], abs=TOL)


def test_intervals_are_the_blup_plus_and_minus_z_times_its_conditional_sd():
    result = fit("data")
    for effect in result.therapists:
        assert effect.upper - effect.effect == pytest.approx(1.959964 * effect.se, rel=1e-6)
        assert effect.adjusted == pytest.approx(result.intercept + effect.effect)
        assert effect.adjusted_lower == pytest.approx(result.intercept + effect.lower)
    narrower = therapist_effects(pd.read_csv(HERE / "data.csv"), outcome="change",
                                 covariate="intake", level=0.5)
    assert narrower.therapists[0].upper - narrower.therapists[0].lower < \
        result.therapists[0].upper - result.therapists[0].lower


def test_a_therapist_with_few_cases_is_shrunk_more_toward_the_clinic_mean():
    result = fit("data")
    data = pd.read_csv(HERE / "data.csv")
    residual = data["change"] - result.intercept - result.slope * (data["intake"]
                                                                   - result.covariate_mean)
    factors = {}
    for t in result.therapists:
        mean_residual = residual[data["therapist"] == t.therapist].mean()
        factors[t.therapist] = t.effect / mean_residual
        assert 0 < factors[t.therapist] < 1
    assert factors["T2"] < factors["T5"] < factors["T1"] < factors["T3"]   # 3, 5, 12, 16 cases
    by_name = {t.therapist: t for t in result.therapists}
    assert by_name["T2"].se > by_name["T3"].se


def test_no_difference_between_therapists_gives_a_singular_fit_with_zero_effects():
    result, ref = fit("flat"), REFERENCE["flat"]
    assert ref["singular"] and result.singular
    assert result.therapist_variance == pytest.approx(0, abs=TOL)
    assert result.residual_variance == pytest.approx(ref["residual_variance"], abs=TOL)
    assert all(t.effect == pytest.approx(0, abs=TOL) and not t.differs
               for t in result.therapists)
    assert result.icc == pytest.approx(0, abs=TOL)


def test_the_result_is_a_plain_dictionary_for_json():
    result = fit("data")
    data = json.loads(json.dumps(result.to_dict()))
    assert data["n_therapists"] == 7 and len(data["therapists"]) == 7
    assert math.isclose(data["therapists"][0]["effect"], result.therapists[0].effect)


def test_rows_missing_the_outcome_or_the_covariate_are_left_out():
    data = pd.read_csv(HERE / "data.csv")
    data.loc[0, "change"] = None
    data.loc[1, "intake"] = None
    assert therapist_effects(data, outcome="change", covariate="intake").n_cases == 60


def test_too_few_therapists_or_cases_is_a_clear_error():
    one = pd.DataFrame({"therapist": ["A"] * 6, "intake": range(6), "change": range(6)})
    with pytest.raises(NotEnoughDataError, match="at least 2 therapists"):
        therapist_effects(one, outcome="change", covariate="intake")


def test_a_missing_column_or_text_in_a_number_column_is_a_clear_error():
    data = pd.read_csv(HERE / "data.csv")
    with pytest.raises(InputError, match="'outcome'"):
        therapist_effects(data, outcome="outcome", covariate="intake")
    data["intake"] = data["intake"].astype(object)
    data.loc[3, "intake"] = "high"
    with pytest.raises(InputError, match="'high'"):
        therapist_effects(data, outcome="change", covariate="intake")
    with pytest.raises(InputError, match="level"):
        therapist_effects(data, outcome="change", covariate="change", level=1.5)

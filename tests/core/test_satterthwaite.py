"""Satterthwaite t tests of the fixed effects reproduce lmerTest.

Reference: tests/reference/multilevel/lmertest_reference.json, written by
lmertest_reference.R (lmerTest 3.1-3, lme4 1.1-31, R 4.2.2) from data.csv: the five
models of lme4_reference.R and "small", the session model on the first 12 clients.
The degrees of freedom come from numerical derivatives (as lmerTest's do); they
agree to 1e-5 (relative), t to 1e-6 and p to 1e-4 (relative).
"""

import json
from pathlib import Path

import numpy as np
import pytest

from alliance.core.analysis import within_between
from alliance.core.errors import InputError
from alliance.core.mixed import fit_reml
from alliance.core.tables import read_csv

REFERENCE = Path(__file__).parents[1] / "reference" / "multilevel"
LMERTEST = json.loads((REFERENCE / "lmertest_reference.json").read_text())
MODELS = {
    "basic": {},
    "therapist": {"therapist": "therapist_id"},
    "session": {"session": "session"},
    "lag": {"lag": True},
    "lag_therapist_session": {"lag": True, "therapist": "therapist_id", "session": "session"},
    "small": {"session": "session"},
}


@pytest.fixture(scope="module")
def sessions():
    return read_csv(REFERENCE / "data.csv", numeric=["session", "alliance", "wellbeing"])


@pytest.mark.parametrize("model", MODELS)
def test_df_t_and_p_of_every_fixed_effect_match_lmertest(model, sessions):
    reference = LMERTEST[model]
    frame = sessions
    if reference["clients"] != "all":
        frame = sessions[sessions["client_id"].isin(reference["clients"])]
    result = within_between(frame, "wellbeing", "alliance", "client_id", df="satterthwaite",
                            **MODELS[model])
    assert result.df_method == "satterthwaite"
    assert result.n_obs == reference["n_obs"]
    assert result.reml_criterion == pytest.approx(reference["reml_criterion"], abs=1e-6)
    assert list(result.fixed_effects) == list(reference["fixed_effects"])
    for term, expected in reference["fixed_effects"].items():
        effect = result.fixed_effects[term]
        assert effect.df == pytest.approx(expected["df"], rel=1e-5), term
        assert effect.z == pytest.approx(expected["t"], rel=1e-6), term
        assert effect.p == pytest.approx(expected["p"], rel=1e-4), term
        assert effect.to_dict()["df"] == effect.df


def test_with_few_clients_the_t_test_is_wider_than_wald(sessions):
    small = sessions[sessions["client_id"].isin(LMERTEST["small"]["clients"])]
    wald = within_between(small, "wellbeing", "alliance", "client_id", session="session")
    satterthwaite = within_between(small, "wellbeing", "alliance", "client_id",
                                   session="session", df="satterthwaite")
    between = (wald.fixed_effects["between"], satterthwaite.fixed_effects["between"])
    assert between[0].df is None and between[1].df == pytest.approx(10.04, abs=0.01)
    assert between[1].estimate == between[0].estimate and between[1].z == between[0].z
    assert between[1].p > between[0].p
    assert between[1].ci_high - between[1].ci_low > between[0].ci_high - between[0].ci_low


def test_balanced_random_intercept_model_has_the_textbook_df():
    # One between-unit covariate, balanced: its df is (units − 2) exactly, the
    # within-unit covariate's (n − units − 1) (as in a split-plot ANOVA).
    rng = np.random.default_rng(3)
    units = np.repeat(np.arange(8), 6)
    between = rng.normal(size=8)[units]
    within = rng.normal(size=48)
    within -= np.bincount(units, within)[units] / 6
    y = 1 + between + within + rng.normal(size=8)[units] + rng.normal(size=48)
    X = np.column_stack([np.ones(48), between, within])
    fit = fit_reml(y, X, ["intercept", "between", "within"], units, np.ones(48),
                   df="satterthwaite")
    assert fit.df[1] == pytest.approx(6, rel=1e-6)
    assert fit.df[2] == pytest.approx(48 - 8 - 1, rel=1e-6)


def test_an_unknown_df_method_is_an_input_error(sessions):
    with pytest.raises(InputError, match="df must be one of wald, satterthwaite, kenward-roger"):
        within_between(sessions, "wellbeing", "alliance", "client_id", df="containment")


# ------------------------------------------------------------ expected response
# tests/reference/expected/lmertest_reference.json (lmertest_reference.R): the
# expected-response model on all completed cases and on the first 30.
EXPECTED = Path(__file__).parents[1] / "reference" / "expected"
EXPECTED_LMERTEST = json.loads((EXPECTED / "lmertest_reference.json").read_text())


@pytest.mark.parametrize("subset", ["all", "small"])
def test_expected_response_coefficients_df_t_and_p_match_lmertest(subset):
    from alliance.core.expected import fit_expected_response

    frame = read_csv(EXPECTED / "data.csv", numeric=["session", "wellbeing"])
    reference = EXPECTED_LMERTEST[subset]
    if subset == "small":
        frame = frame[frame["client_id"].isin(reference["cases"])]
    model = fit_expected_response(frame, "client_id", "session", "wellbeing",
                                  df="satterthwaite")
    assert model.random_slope and not reference["singular"]
    assert (model.n_cases, model.n_obs) == (reference["n_cases"], reference["n_obs"])
    assert model.df_method == "satterthwaite"
    for term, expected in reference["fixed_effects"].items():
        test = model.tests[term]
        assert test["estimate"] == pytest.approx(expected["estimate"], rel=1e-5), term
        # The random-slope optimum is flat: lme4 and this fit stop within 5e-6 of each
        # other in df.
        assert test["df"] == pytest.approx(expected["df"], rel=1e-5), term
        assert test["t"] == pytest.approx(expected["t"], rel=1e-5), term
        assert test["p"] == pytest.approx(expected["p"], rel=1e-4), term
    wald = fit_expected_response(frame, "client_id", "session", "wellbeing")
    assert wald.tests["intake"]["df"] is None and wald.df_method == "wald"

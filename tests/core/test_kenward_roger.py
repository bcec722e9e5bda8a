"""Kenward–Roger t tests of the fixed effects reproduce lmerTest with pbkrtest.

Reference: tests/reference/multilevel/kenward_roger_reference.json, written by
kenward_roger_reference.R (summary(fit, ddf = "Kenward-Roger"): the standard errors
from pbkrtest's adjusted covariance, its df, t and p) from data.csv, for the models
of test_satterthwaite.py. Nothing here is a numerical derivative, so df, se, t and p
agree to 1e-6 (relative) and better.
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
PBKRTEST = json.loads((REFERENCE / "kenward_roger_reference.json").read_text())
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
def test_se_df_t_and_p_of_every_fixed_effect_match_pbkrtest(model, sessions):
    reference = PBKRTEST[model]
    frame = sessions
    if reference["clients"] != "all":
        frame = sessions[sessions["client_id"].isin(reference["clients"])]
    result = within_between(frame, "wellbeing", "alliance", "client_id", df="kenward-roger",
                            **MODELS[model])
    assert result.df_method == "kenward-roger"
    assert result.n_obs == reference["n_obs"]
    assert result.reml_criterion == pytest.approx(reference["reml_criterion"], abs=1e-6)
    assert list(result.fixed_effects) == list(reference["fixed_effects"])
    for term, expected in reference["fixed_effects"].items():
        effect = result.fixed_effects[term]
        assert effect.estimate == pytest.approx(expected["estimate"], rel=1e-6), term
        assert effect.se == pytest.approx(expected["se"], rel=1e-6), term
        assert effect.df == pytest.approx(expected["df"], rel=1e-6), term
        assert effect.z == pytest.approx(expected["t"], rel=1e-6), term
        assert effect.p == pytest.approx(expected["p"], rel=1e-5), term


def test_the_adjusted_standard_error_is_never_smaller(sessions):
    small = sessions[sessions["client_id"].isin(PBKRTEST["small"]["clients"])]
    plain = within_between(small, "wellbeing", "alliance", "client_id", session="session",
                           df="satterthwaite")
    adjusted = within_between(small, "wellbeing", "alliance", "client_id", session="session",
                              df="kenward-roger")
    for term, effect in adjusted.fixed_effects.items():
        assert effect.estimate == plain.fixed_effects[term].estimate
        assert effect.se >= plain.fixed_effects[term].se


def test_balanced_random_intercept_model_has_the_textbook_df():
    # Balanced, one between-unit and one within-unit covariate: Kenward–Roger gives
    # the exact F-test df, (units − 2) and (n − units − 1), and no adjustment of the
    # between-unit effect's variance beyond rounding.
    rng = np.random.default_rng(3)
    units = np.repeat(np.arange(8), 6)
    between = rng.normal(size=8)[units]
    within = rng.normal(size=48)
    within -= np.bincount(units, within)[units] / 6
    y = 1 + between + within + rng.normal(size=8)[units] + rng.normal(size=48)
    X = np.column_stack([np.ones(48), between, within])
    fit = fit_reml(y, X, ["intercept", "between", "within"], units, np.ones(48),
                   df="kenward-roger")
    assert fit.df[1] == pytest.approx(6, rel=1e-6)
    assert fit.df[2] == pytest.approx(48 - 8 - 1, rel=1e-6)


def test_the_expected_response_model_refuses_kenward_roger():
    from alliance.core.expected import fit_expected_response

    frame = read_csv(REFERENCE.parent / "expected" / "data.csv", numeric=["session", "wellbeing"])
    with pytest.raises(InputError, match="df must be wald or satterthwaite here"):
        fit_expected_response(frame, "client_id", "session", "wellbeing", df="kenward-roger")

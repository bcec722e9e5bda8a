"""The within/between multilevel model: lme4 reference values, data rules and errors.

Reference values: tests/reference/multilevel/lme4_reference.json, written by
lme4_reference.R (lme4 1.1.31, R 4.2.2) from data.csv. "3 significant digits"
means a relative difference below 5 × 10⁻⁴.
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliance.core.analysis import (MIN_CLIENTS, MIN_THERAPISTS, WithinBetweenResult,
                                    within_between, within_between_data)
from alliance.core.errors import InputError, NotEnoughDataError
from alliance.core.tables import read_csv

REFERENCE = Path(__file__).parents[1] / "reference" / "multilevel"

# The five models of lme4_reference.R, as keyword arguments of within_between.
MODELS = {
    "basic": {},
    "therapist": {"therapist": "therapist_id"},
    "session": {"session": "session"},
    "lag": {"lag": True},
    "lag_therapist_session": {"lag": True, "therapist": "therapist_id", "session": "session"},
}
THREE_DIGITS = 5e-4


@pytest.fixture(scope="module")
def sessions():
    return read_csv(REFERENCE / "data.csv", numeric=["session", "alliance", "wellbeing"])


@pytest.fixture(scope="module")
def lme4():
    return json.loads((REFERENCE / "lme4_reference.json").read_text())


@pytest.fixture(scope="module")
def fits(sessions):
    return {name: within_between(sessions, "wellbeing", "alliance", "client_id", **kwargs)
            for name, kwargs in MODELS.items()}


@pytest.mark.parametrize("model", MODELS)
def test_fixed_effects_and_standard_errors_match_lme4_to_3_significant_digits(model, fits, lme4):
    result, reference = fits[model], lme4[model]["fixed_effects"]
    assert list(result.fixed_effects) == list(reference)
    for term, expected in reference.items():
        assert result.fixed_effects[term].estimate == pytest.approx(expected["estimate"],
                                                                    rel=THREE_DIGITS), term
        assert result.fixed_effects[term].se == pytest.approx(expected["se"], rel=THREE_DIGITS), term
        assert result.fixed_effects[term].z == pytest.approx(expected["t"], rel=THREE_DIGITS), term


@pytest.mark.parametrize("model", MODELS)
def test_variance_components_match_lme4_to_3_significant_digits(model, fits, lme4):
    result, reference = fits[model], lme4[model]["variance_components"]
    assert set(result.variance_components) == set(reference)
    for component, expected in reference.items():
        assert result.variance_components[component] == pytest.approx(expected, rel=THREE_DIGITS)


@pytest.mark.parametrize("model", MODELS)
def test_the_reml_criterion_equals_lme4s_at_its_best_optimum(model, fits, lme4):
    # Same criterion, same optimum: agreement to 1e-6 on a value of about 1,200.
    assert fits[model].reml_criterion == pytest.approx(lme4[model]["reml_criterion"], abs=1e-6)
    assert fits[model].converged
    assert fits[model].singular == lme4[model]["singular"]


@pytest.mark.parametrize("model", MODELS)
def test_counts_match_the_rows_lme4_used(model, fits, lme4):
    assert fits[model].n_obs == lme4[model]["n_obs"]
    assert fits[model].n_clients == lme4[model]["n_clients"]
    assert fits[model].method == "REML"


def test_the_lag_model_finds_the_optimum_that_lme4s_default_optimiser_misses(fits, lme4):
    # The REML criterion of the lag model has a local minimum at zero client
    # variance; lme4's default optimiser (nloptwrap) stops there.
    criteria = lme4["lag"]["reml_criterion_by_optimizer"]
    assert criteria["nloptwrap"] > fits["lag"].reml_criterion + 0.5
    assert fits["lag"].variance_components["client"] > 0.2


def test_statsmodels_mixedlm_agrees_on_the_random_intercept_model(sessions, fits):
    # A third implementation: statsmodels' MixedLM (REML) on the same variables.
    from statsmodels.regression.mixed_linear_model import MixedLM

    data = within_between_data(sessions, "wellbeing", "alliance", "client_id").data
    X = np.column_stack([np.ones(len(data)), data["within"], data["between"]])
    fit = MixedLM(data["outcome"].to_numpy(), X, groups=data["client"].to_numpy()).fit(
        reml=True, method=["lbfgs"])
    ours = fits["basic"]
    np.testing.assert_allclose([fe.estimate for fe in ours.fixed_effects.values()],
                               fit.fe_params, rtol=1e-4)
    assert ours.variance_components["client"] == pytest.approx(float(np.asarray(fit.cov_re)[0, 0]),
                                                               rel=1e-3)
    assert ours.variance_components["residual"] == pytest.approx(fit.scale, rel=1e-4)


def test_rows_with_a_missing_outcome_or_predictor_are_dropped_and_counted(sessions, fits):
    incomplete = sessions["alliance"].isna() | sessions["wellbeing"].isna()
    assert fits["basic"].n_dropped == int(incomplete.sum())
    assert fits["basic"].n_obs == len(sessions) - int(incomplete.sum())
    assert fits["basic"].n_rows == len(sessions)


def test_within_is_person_mean_centred_and_between_is_the_centred_person_mean(sessions):
    prepared = within_between_data(sessions, "wellbeing", "alliance", "client_id")
    data = prepared.data
    by_client = data.groupby("client")
    np.testing.assert_allclose(by_client["within"].sum(), 0, atol=1e-9)
    np.testing.assert_allclose(by_client["between"].std().fillna(0), 0, atol=1e-12)
    np.testing.assert_allclose(by_client["between"].first().mean(), 0, atol=1e-12)
    np.testing.assert_allclose(data["within"] + data["person_mean"], data["predictor"])
    assert prepared.grand_mean == pytest.approx(by_client["predictor"].mean().mean())


def example(rows):
    return pd.DataFrame(rows, columns=["client_id", "session", "alliance", "wellbeing"])


def test_lag_pairs_each_complete_row_with_the_clients_next_complete_row_by_session():
    frame = example([
        ("a", 3, 7.0, np.nan),   # missing outcome: skipped
        ("a", 1, 5.0, 2.0),
        ("a", 4, 8.0, 4.0),
        ("a", 2, 6.0, 3.0),
        ("b", 2, 4.0, 6.0),
        ("b", 1, np.nan, 5.0),  # missing alliance: skipped
        ("b", 5, 3.0, 7.0),
    ])
    data = within_between_data(frame, "wellbeing", "alliance", "client_id",
                               session="session", lag=True).data
    pairs = [(r.client, r.session, r.predictor, r.outcome_lag, r.outcome)
             for r in data.itertuples()]
    assert pairs == [("a", 1, 5.0, 2.0, 3.0), ("a", 2, 6.0, 3.0, 4.0), ("b", 2, 4.0, 6.0, 7.0)]
    # The person mean is over the predictor values of the pairs (a: 5 and 6).
    assert list(data["person_mean"]) == [5.5, 5.5, 4.0]
    assert list(data["within"]) == [-0.5, 0.5, 0.0]


def test_lag_without_a_session_column_keeps_the_tables_order():
    frame = example([("a", 2, 6.0, 3.0), ("b", 1, 1.0, 1.0), ("a", 1, 5.0, 2.0)])
    data = within_between_data(frame, "wellbeing", "alliance", "client_id", lag=True).data
    assert list(zip(data["predictor"], data["outcome"])) == [(6.0, 2.0)]


def test_lag_refuses_a_client_with_the_same_session_twice():
    frame = example([("a", 1, 5.0, 2.0), ("a", 1, 6.0, 3.0), ("a", 2, 6.0, 3.0)])
    with pytest.raises(InputError, match="session 1 more than once"):
        within_between_data(frame, "wellbeing", "alliance", "client_id", session="session",
                            lag=True)


def simulated(n_clients=40, n_sessions=8, within=0.3, between=0.6, seed=3):
    rng = np.random.default_rng(seed)
    client = np.repeat([f"c{i}" for i in range(n_clients)], n_sessions)
    mean = np.repeat(rng.normal(6, 1, n_clients), n_sessions)
    alliance = mean + rng.normal(0, 1, len(client))
    wellbeing = (5 + between * (mean - 6) + within * (alliance - mean)
                 + np.repeat(rng.normal(0, 0.7, n_clients), n_sessions)
                 + rng.normal(0, 0.6, len(client)))
    return pd.DataFrame({"client_id": client, "session": np.tile(np.arange(1, n_sessions + 1),
                                                                  n_clients),
                         "alliance": alliance, "wellbeing": wellbeing})


def test_known_within_and_between_effects_are_recovered():
    # Truth 0.3 within and 0.6 between; each must lie within 3 standard errors.
    result = within_between(simulated(), "wellbeing", "alliance", "client_id")
    for term, truth in (("within", 0.3), ("between", 0.6)):
        effect = result.fixed_effects[term]
        assert abs(effect.estimate - truth) < 3 * effect.se, term
    assert result.fixed_effects["within"].ci_low > 0


def test_a_zero_client_variance_is_reported_as_a_singular_fit():
    rng = np.random.default_rng(1)
    frame = simulated(between=0.0, within=0.0, seed=1)
    frame["wellbeing"] = rng.normal(5, 1, len(frame))  # no client effect at all
    result = within_between(frame, "wellbeing", "alliance", "client_id")
    assert result.singular
    assert result.variance_components["client"] == pytest.approx(0, abs=1e-6)
    assert any("zero" in note for note in result.notes)


def test_the_result_is_json_ready_and_says_what_it_found(fits):
    result: WithinBetweenResult = fits["lag_therapist_session"]
    data = result.to_dict()
    json.dumps(data)
    assert set(data["fixed_effects"]) == {"intercept", "within", "between", "outcome_lag",
                                          "session"}
    assert set(data["fixed_effects"]["within"]) >= {"estimate", "se", "z", "p", "ci"}
    assert data["n_therapists"] == 6 and data["method"] == "REML"
    assert "Within clients" in result.summary and "Between clients" in result.summary
    assert "next session" in result.summary
    effect = result.fixed_effects["between"]
    assert effect.ci_low == pytest.approx(effect.estimate - 1.959964 * effect.se)
    assert effect.p == pytest.approx(math.erfc(abs(effect.z) / math.sqrt(2)))


def test_a_missing_column_is_named():
    frame = simulated()
    with pytest.raises(InputError) as info:
        within_between(frame, "outcome", "alliance", "client_id")
    assert info.value.column == "outcome"
    assert "missing column 'outcome'" in str(info.value)


def test_text_in_a_numeric_column_is_an_error_naming_the_value():
    frame = simulated().astype({"alliance": object})
    frame.loc[5, "alliance"] = "high"
    with pytest.raises(InputError, match="'high' .* is not a number") as info:
        within_between(frame, "wellbeing", "alliance", "client_id")
    assert info.value.column == "alliance"


def test_the_same_column_cannot_be_outcome_and_predictor():
    with pytest.raises(InputError, match="more than one role"):
        within_between(simulated(), "alliance", "alliance", "client_id")


def test_too_few_clients_is_refused_with_the_numbers():
    frame = simulated(n_clients=MIN_CLIENTS - 1)
    with pytest.raises(NotEnoughDataError, match=f"at least {MIN_CLIENTS} clients.*have "
                                                 f"{MIN_CLIENTS - 1}"):
        within_between(frame, "wellbeing", "alliance", "client_id")


def test_too_few_therapists_is_refused():
    frame = simulated().assign(therapist_id=lambda f: np.where(f["client_id"] < "c2", "T1", "T2"))
    with pytest.raises(NotEnoughDataError, match=f"at least {MIN_THERAPISTS} therapists"):
        within_between(frame, "wellbeing", "alliance", "client_id", therapist="therapist_id")


def test_a_constant_predictor_is_refused():
    frame = simulated().assign(alliance=7.0)
    with pytest.raises(InputError, match="same value") as info:
        within_between(frame, "wellbeing", "alliance", "client_id")
    assert info.value.column == "alliance"


def test_a_predictor_that_never_changes_within_a_client_is_refused():
    frame = simulated()
    frame["alliance"] = frame.groupby("client_id")["alliance"].transform("mean")
    with pytest.raises(InputError, match="within-client part cannot be estimated"):
        within_between(frame, "wellbeing", "alliance", "client_id")

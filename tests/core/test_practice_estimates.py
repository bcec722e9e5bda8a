"""Therapist practice figures (alliance.core.practice) checked against R.

Reference: tests/reference/practice (data from make_data.py; output of lme4_reference.R:
lme4's lmer(..., REML = TRUE) with ranef(condVar = TRUE) for the conditional modes and
variances, and metafor's rma(method = "DL") with blup() for the agreement of ratings).
Tolerances: 1e-4 absolute on estimates and variances of the REML fits (both optimise the
same criterion to about 1e-8; on the 0–100 scale of these data 1e-3 for the larger
variances), 1e-9 on the closed-form correlation pooling.
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alliance.core import practice
from alliance.core.errors import InputError

HERE = Path(__file__).parent.parent / "reference" / "practice"
REFERENCE = json.loads((HERE / "lme4_reference.json").read_text())
TOL = 1e-4


@pytest.fixture(scope="module")
def sessions():
    data = pd.read_csv(HERE / "sessions.csv", dtype={"therapist": str, "client": str})
    data["difference"] = data["therapist_alliance"] - data["alliance"]
    return data


@pytest.fixture(scope="module")
def ruptures():
    return pd.read_csv(HERE / "ruptures.csv", dtype={"therapist": str, "client": str})


def variance(ref, group):
    return next(v["vcov"] for v in ref["variances"].values() if v["grp"] == group)


def close(a, b, scale=1.0):
    return a == pytest.approx(b, abs=TOL * max(1.0, scale))


@pytest.mark.parametrize("model, value, table", [
    ("level", "alliance", "sessions"), ("discrepancy", "difference", "sessions"),
    ("outcome", "residual", "sessions"), ("repaired", "repaired", "ruptures"),
    ("duration", "sessions_to_repair", "ruptures")])
def test_nested_models_and_each_therapists_conditional_mode_match_lme4(
        model, value, table, request):
    ref = REFERENCE[model]
    modes = practice.fit_modes(request.getfixturevalue(table), value=value)
    assert modes.n_total == ref["n"]
    assert close(modes.fe[0], ref["fixef"]["(Intercept)"], abs(modes.fe[0]))
    assert close(modes.fe_se[0], ref["se"]["(Intercept)"])
    scale = variance(ref, "Residual")
    assert close(modes.residual_variance, scale, scale)
    assert close(modes.cov_therapist[0, 0], variance(ref, "therapist"), scale)
    assert close(modes.client_variance, variance(ref, "therapist:client"), scale)
    assert sorted(modes.modes) == sorted(ref["therapists"])
    for name, want in ref["therapists"].items():
        assert close(modes.modes[name][0], want["mode"], scale), name
        assert close(modes.cond_var[name][0, 0], want["cond_var"], scale), name


def test_the_within_client_trend_model_matches_lme4(sessions):
    ref = REFERENCE["trend"]
    data = sessions.dropna(subset=["alliance"]).copy()
    data = data[data.groupby("client")["alliance"].transform("size") >= 2]
    data["alliance_c"] = data["alliance"] - data.groupby("client")["alliance"].transform("mean")
    data["session_c"] = data["session"] - data.groupby("client")["session"].transform("mean")
    modes = practice.fit_modes(data, value="alliance_c", client=None, slope="session_c")
    assert modes.n_total == ref["n"]
    assert close(modes.fe[0], ref["fixef"]["session_c"])
    assert close(modes.fe_se[0], ref["se"]["session_c"])
    assert close(modes.cov_therapist[0, 0], variance(ref, "therapist"))
    for name, want in ref["therapists"].items():
        assert close(modes.modes[name][0], want["mode"]), name
        assert close(modes.cond_var[name][0, 0], want["cond_var"]), name
    # The figure is the same model, with the centring done for the caller.
    figure = practice.trend_figure(sessions, "T3", value="alliance", session="session")
    want = ref["therapists"]["T3"]
    assert figure.estimate == pytest.approx(ref["fixef"]["session_c"] + want["mode"], abs=TOL)
    assert figure.se ** 2 == pytest.approx(want["cond_var"], abs=TOL)


def test_a_level_figure_is_the_clinic_mean_plus_the_mode_with_its_interval(sessions):
    ref = REFERENCE["level"]
    figure = practice.level_figure(sessions, "T1", value="alliance", name="alliance level")
    want = ref["therapists"]["T1"]
    centre = ref["fixef"]["(Intercept)"]
    assert figure.available
    assert figure.estimate == pytest.approx(centre + want["mode"], abs=1e-3)
    assert figure.upper - figure.estimate == pytest.approx(
        1.959964 * math.sqrt(want["cond_var"]), abs=1e-3)
    tau = math.sqrt(variance(ref, "therapist"))
    assert figure.spread_upper - figure.clinic_mean == pytest.approx(1.281552 * tau, abs=1e-3)
    assert figure.clinic_upper - figure.clinic_mean == pytest.approx(
        1.959964 * ref["se"]["(Intercept)"], abs=1e-3)
    assert (figure.n_clients, figure.n_therapists) == (9, 8)
    # Shrinkage: the estimate lies between the therapist's own mean and the clinic's.
    assert min(figure.raw, centre) <= figure.estimate <= max(figure.raw, centre)


def test_too_few_clients_gives_a_reason_instead_of_a_figure(sessions):
    figure = practice.level_figure(sessions, "T8", value="alliance", name="alliance level")
    assert not figure.available and math.isnan(figure.estimate)
    assert "at least 5 clients" in figure.reason and "there are 3" in figure.reason
    nobody = practice.level_figure(sessions, "T99", value="alliance", name="alliance level")
    assert "there are 0" in nobody.reason
    empty = practice.level_figure(sessions.iloc[:0], "T1", value="alliance", name="x")
    assert not empty.available


def test_too_few_therapists_gives_a_reason(sessions):
    two = sessions[sessions["therapist"].isin(["T1", "T2"])]
    figure = practice.level_figure(two, "T1", value="alliance", name="alliance level")
    assert "at least 3 therapists" in figure.reason
    spread = practice.clinic_spread(two, value="alliance", name="alliance level")
    assert not spread.available and "at least 3 therapists" in spread.reason


def test_the_clinic_spread_is_the_level_models_intercept_and_therapist_sd(sessions):
    ref = REFERENCE["level"]
    spread = practice.clinic_spread(sessions, value="alliance", name="alliance level")
    assert spread.clinic_mean == pytest.approx(ref["fixef"]["(Intercept)"], abs=1e-3)
    assert spread.se == pytest.approx(ref["se"]["(Intercept)"], abs=TOL)
    assert spread.therapist_sd == pytest.approx(math.sqrt(variance(ref, "therapist")), abs=1e-3)
    total = sum(v["vcov"] for v in ref["variances"].values())
    assert spread.icc == pytest.approx(variance(ref, "therapist") / total, abs=1e-4)
    assert not hasattr(spread, "therapists")     # aggregates only


def test_agreement_of_ratings_matches_metafor(sessions):
    ref = REFERENCE["agreement"]
    for name, want in ref["therapists"].items():
        rows = sessions[sessions["therapist"] == name].dropna(
            subset=["alliance", "therapist_alliance"])
        found = practice.within_client_correlation(rows["therapist_alliance"],
                                                   rows["alliance"], rows["client"])
        assert found.r == pytest.approx(want["r"], abs=1e-12)
        assert found.variance == pytest.approx(want["v"], abs=1e-15)
        assert (found.n, found.clients) == (want["n"], want["k"])
        figure = practice.agreement_figure(sessions, name, client_rating="alliance",
                                           therapist_rating="therapist_alliance")
        if name == "T8":     # three clients: below the minimum
            assert not figure.available
            continue
        assert math.atanh(figure.correlation) == pytest.approx(want["blup"], abs=1e-9)
        assert math.atanh(figure.upper) == pytest.approx(
            want["blup"] + 1.959964 * want["blup_se"], abs=1e-5)
        assert figure.tau2 == pytest.approx(ref["tau2"], abs=1e-9)
        assert math.atanh(figure.clinic_correlation) == pytest.approx(ref["mean"], abs=1e-9)
    pooled = practice.random_effects_pool(
        [t["z"] for t in ref["therapists"].values()], [t["v"] for t in ref["therapists"].values()])
    assert pooled.q == pytest.approx(ref["q"], abs=1e-9)
    assert pooled.se == pytest.approx(ref["se"], abs=1e-9)


def test_before_and_after_a_focus_matches_lme4(sessions):
    ref = REFERENCE["focus"]
    own = sessions[sessions["therapist"] == "T1"]
    result = practice.before_after(own, value="alliance", after="after")
    assert result.available
    assert result.before == pytest.approx(ref["fixef"]["(Intercept)"], abs=1e-3)
    assert result.difference == pytest.approx(ref["fixef"]["after"], abs=1e-3)
    assert result.se == pytest.approx(ref["se"]["after"], abs=TOL)
    assert result.upper - result.difference == pytest.approx(1.959964 * result.se, rel=1e-6)
    assert (result.n_before, result.n_after) == (int((own["after"] == 0).sum()),
                                                 int((own["after"] == 1).sum()))


def test_before_and_after_says_when_a_side_has_too_little_data(sessions):
    own = sessions[sessions["therapist"] == "T1"].copy()
    own["after"] = (own["time"] >= 0.9).astype(int)
    result = practice.before_after(own, value="alliance", after="after")
    assert not result.available
    assert "at least 10 observations from 3 clients on each side" in result.reason


def test_therapists_with_identical_data_are_all_the_clinic():
    # Every therapist has the same clients' values: no spread between therapists (τ̂ = 0,
    # a singular fit), every conditional mode 0 and the figure says so.
    rng = np.random.default_rng(1)
    values = 50 + rng.normal(0, 5, size=(6, 4)) + rng.normal(0, 5, size=(6, 1))
    rows = [(f"T{t}", f"T{t}C{c}", values[c, k]) for t in range(4) for c in range(6)
            for k in range(4)]
    data = pd.DataFrame(rows, columns=["therapist", "client", "value"])
    modes = practice.fit_modes(data, value="value")
    assert modes.singular and modes.cov_therapist[0, 0] < 1e-6
    assert all(abs(m[0]) < 1e-6 for m in modes.modes.values())
    figure = practice.level_figure(data, "T2", value="value", name="level")
    assert figure.singular and figure.estimate == pytest.approx(figure.clinic_mean, abs=1e-6)


def test_bad_input_is_a_clear_error(sessions):
    with pytest.raises(InputError, match="nothing"):
        practice.level_figure(sessions, "T1", value="nothing", name="x")
    with pytest.raises(InputError, match="between 0 and 1"):
        practice.level_figure(sessions, "T1", value="alliance", name="x", level=1.5)
    bad = sessions.assign(alliance=sessions["alliance"].astype(object))
    bad.loc[3, "alliance"] = "high"
    with pytest.raises(InputError, match="not a number"):
        practice.fit_modes(bad, value="alliance")

"""The second generator: its noise model, and the truth it returns."""

import numpy as np
import pandas as pd
import pytest

from alliance.core.errors import InputError
from alliance.core.simulator import RUPTURE_COLUMNS, SESSION_COLUMNS, summarize_clinic, write_clinic
from alliance.core.simulator_drift import CLIENT_COLUMNS, simulate_drift_clinic


@pytest.fixture(scope="module")
def clinic():
    return simulate_drift_clinic(1500, 20, 3)


def at(sessions, keys, offset=0):
    indexed = sessions.set_index(["client_id", "session"])["alliance"]
    index = pd.MultiIndex.from_arrays([keys["client_id"], keys["session"] + offset])
    return indexed.reindex(index).to_numpy()


def quiet_clients(clinic):
    """Rated sessions of clients without a planted rupture."""
    s = clinic.sessions
    calm = set(clinic.truth.loc[clinic.truth["n_ruptures"] == 0, "client_id"])
    return s[s["client_id"].isin(calm) & s["alliance"].notna()]


def test_the_same_seed_gives_the_same_clinic_and_the_tables_have_their_columns(clinic):
    again = simulate_drift_clinic(1500, 20, 3)
    pd.testing.assert_frame_equal(clinic.sessions, again.sessions)
    pd.testing.assert_frame_equal(clinic.ruptures, again.ruptures)
    assert tuple(clinic.sessions.columns) == SESSION_COLUMNS
    assert tuple(clinic.ruptures.columns) == RUPTURE_COLUMNS
    assert tuple(clinic.truth.columns) == CLIENT_COLUMNS
    assert not simulate_drift_clinic(1500, 20, 4).sessions["alliance"].equals(
        clinic.sessions["alliance"])


def test_answers_are_half_points_on_0_to_10_with_many_at_the_ceiling(clinic):
    a = clinic.sessions["alliance"].dropna()
    assert ((a * 2) == np.round(a * 2)).all() and a.between(0, 10).all()
    assert (a == 10).mean() > 0.1                      # the ceiling bites
    assert clinic.sessions[["bond", "goals", "tasks", "therapist_alliance"]].isna().all().all()


def test_within_client_sds_differ_and_the_data_follow_them(clinic):
    truth = clinic.truth.set_index("client_id")
    assert truth["within_sd"].quantile(0.9) > 1.8 * truth["within_sd"].quantile(0.1)
    calm = quiet_clients(clinic)
    observed = calm.groupby("client_id")["alliance"].std().dropna()
    below_ceiling = truth["alliance_level"].reindex(observed.index) < 8
    r = np.corrcoef(observed[below_ceiling],
                    truth["within_sd"].reindex(observed.index)[below_ceiling])[0, 1]
    assert r > 0.5


def test_the_noise_is_autocorrelated_and_clients_drift(clinic):
    calm = quiet_clients(clinic).sort_values(["client_id", "session"])
    # Detrend each client by their true drift, then look at lag-1 correlation.
    drift = clinic.truth.set_index("client_id")["drift"]
    detrended = calm["alliance"] - drift.reindex(calm["client_id"]).to_numpy() * calm["session"]
    deviation = detrended - detrended.groupby(calm["client_id"]).transform("mean")
    previous = deviation.groupby(calm["client_id"]).shift()
    ok = previous.notna()
    assert np.corrcoef(deviation[ok], previous[ok])[0, 1] > 0.2
    slopes = calm.groupby("client_id").apply(
        lambda g: np.polyfit(g["session"], g["alliance"], 1)[0] if len(g) > 5 else np.nan,
        include_groups=False).dropna()
    assert np.corrcoef(slopes, drift.reindex(slopes.index))[0, 1] > 0.4


def test_the_truth_gives_onset_and_repair_from_the_generators_parameters(clinic):
    r, truth = clinic.ruptures, clinic.truth.set_index("client_id")
    assert 0.3 < (clinic.truth["n_ruptures"] > 0).mean() < 0.45
    assert (r["session"] >= 3).all()
    assert (r["session"] + 3 <= truth["last_attended_session"].reindex(r["client_id"]).to_numpy()
            ).all()
    assert r["depth"].min() >= 1.5 - 0.011
    assert 0.5 < r["repaired"].mean() < 0.7
    lag = (r["repaired_session"] - r["session"])[r["repaired"]]
    assert set(lag) == {1, 2, 3}
    assert r.loc[~r["repaired"], "repaired_session"].isna().all()
    assert (r["subscale"] == "alliance").all()
    # The onset and the session before it are always rated.
    assert not np.isnan(at(clinic.sessions, r)).any()
    assert not np.isnan(at(clinic.sessions, r, -1)).any()


def test_the_data_show_the_planted_drop_up_to_the_noise(clinic):
    r = clinic.ruptures
    observed = at(clinic.sessions, r, -1) - at(clinic.sessions, r)
    error = observed - r["depth"].to_numpy()
    assert abs(np.mean(error)) < 0.25
    assert 0.3 < np.std(error) < 1.5


def test_summary_and_files_work_for_this_generator_too(tmp_path):
    small = simulate_drift_clinic(40, 12, 1)
    summary = summarize_clinic(small)
    assert summary.clients == 40 and summary.ruptures == len(small.ruptures)
    paths = write_clinic(small, tmp_path)
    back = pd.read_csv(paths["ruptures"])
    assert set(back["repaired"]) <= {0, 1}


@pytest.mark.parametrize("sessions", [1, 2, 5])
def test_short_treatments_have_no_room_for_a_rupture(sessions):
    small = simulate_drift_clinic(30, sessions, 2)
    assert small.sessions["session"].max() == sessions and len(small.ruptures) == 0


@pytest.mark.parametrize("args, kwargs, message", [
    ((0, 10, 1), {}, "n_clients"),
    ((10, 0, 1), {}, "n_sessions"),
    ((10, 10, -1), {}, "seed"),
    ((10, 10, 1), {"n_therapists": 11}, "n_therapists"),
    ((10, 10, 1), {"repair_share": 2}, "repair_share"),
    ((10, 10, 1), {"start_date": "2024-02-30"}, "YYYY-MM-DD"),
])
def test_bad_arguments_are_refused_in_one_line(args, kwargs, message):
    with pytest.raises(InputError, match=message):
        simulate_drift_clinic(*args, **kwargs)

"""The synthetic clinic: shape, missing-data patterns, calibration and ground truth."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.core.errors import InputError
from alliance.core.simulator import (
    CLIENT_COLUMNS,
    RUPTURE_COLUMNS,
    SESSION_COLUMNS,
    alliance_outcome_correlation,
    simulate_clinic,
    summarize_clinic,
    write_clinic,
)

SCORES = ["alliance", "bond", "goals", "tasks", "therapist_alliance", "wellbeing"]
CLIENT_SCORES = ["alliance", "bond", "goals", "tasks", "wellbeing"]


@pytest.fixture(scope="module")
def clinic():
    return simulate_clinic(2000, 20, 11)


@pytest.fixture(scope="module")
def quiet_clinic():
    return simulate_clinic(2000, 20, 11, noise=0.0)


def rated(sessions, column="alliance"):
    """Rated sessions of every client, with the previous rated score next to each."""
    frame = sessions[sessions[column].notna()].copy()
    frame["previous"] = frame.groupby("client_id")[column].shift()
    return frame


def scores_at(sessions, keys, column="alliance"):
    """The score of `column` at each (client_id, session) of `keys`, NaN when not rated."""
    indexed = sessions.set_index(["client_id", "session"])[column]
    return indexed.reindex(pd.MultiIndex.from_frame(keys[["client_id", "session"]])).to_numpy()


# --- reproducibility and shape ------------------------------------------------------

def test_the_same_seed_gives_identical_tables_and_another_seed_does_not():
    first, again, other = (simulate_clinic(300, 12, s) for s in (5, 5, 6))
    pd.testing.assert_frame_equal(first.sessions, again.sessions)
    pd.testing.assert_frame_equal(first.ruptures, again.ruptures)
    pd.testing.assert_frame_equal(first.truth, again.truth)
    assert not first.sessions["alliance"].equals(other.sessions["alliance"])


def test_the_tables_have_the_shared_columns_in_order(clinic):
    assert tuple(clinic.sessions.columns) == SESSION_COLUMNS
    assert tuple(clinic.ruptures.columns) == RUPTURE_COLUMNS
    assert tuple(clinic.truth.columns) == CLIENT_COLUMNS
    assert len(clinic.truth) == 2000
    assert clinic.truth["client_id"].is_unique


def test_sessions_are_numbered_from_one_without_gaps_and_dates_move_forward(clinic):
    s = clinic.sessions
    grouped = s.groupby("client_id")
    assert (grouped["session"].min() == 1).all()
    assert (grouped["session"].max() == grouped.size()).all()
    assert (grouped["session"].diff().dropna() == 1).all()
    gaps = grouped["date"].diff().dropna().dt.days
    assert gaps.min() >= 5
    assert gaps.median() == 7                    # roughly weekly ...
    assert (gaps >= 21).mean() > 0.01            # ... with some long breaks


def test_each_client_stays_with_one_therapist_and_every_therapist_has_clients(clinic):
    s = clinic.sessions
    assert (s.groupby("client_id")["therapist_id"].nunique() == 1).all()
    assert s["therapist_id"].nunique() == clinic.parameters["n_therapists"] == 100


def test_scores_lie_on_the_0_to_10_scale_and_the_steps_of_the_bundled_check_ins(clinic):
    s = clinic.sessions
    for column in SCORES:
        values = s[column].dropna()
        assert values.between(0, 10).all(), column

    def on_grid(column, steps_per_point, tolerance=1e-9):
        values = s[column].dropna() * steps_per_point
        return np.abs(values - np.round(values)).max() <= tolerance

    # Subscale: mean of two whole-number sliders; wellbeing: of four; totals: of six
    # (stored to 2 decimals, so within 0.005 of a sixth).
    assert all(on_grid(column, 2) for column in ("bond", "goals", "tasks"))
    assert on_grid("wellbeing", 4) and not on_grid("wellbeing", 2)
    assert on_grid("therapist_alliance", 6, 0.005 * 6 + 1e-9)
    assert not on_grid("therapist_alliance", 2)
    assert set(s["attended"].unique()) == {0, 1}


def test_a_finer_resolution_puts_scores_on_that_grid():
    s = simulate_clinic(200, 10, 1, resolution=0.1).sessions
    bond = s["bond"].dropna()
    assert np.allclose(bond * 10, np.round(bond * 10))
    assert not np.allclose(bond * 2, np.round(bond * 2))


def test_the_total_is_the_mean_of_the_three_subscales(clinic):
    s = clinic.sessions.dropna(subset=["alliance"])
    mean = s[["bond", "goals", "tasks"]].mean(axis=1)
    # Stored to 2 decimals.
    assert np.abs(s["alliance"] - mean).max() <= 0.005 + 1e-9


# --- missing data -----------------------------------------------------------------

def test_a_session_not_attended_has_no_scores_at_all(clinic):
    s = clinic.sessions
    missed = s[s["attended"] == 0]
    assert len(missed) > 0
    assert missed[SCORES].isna().all().all()


def test_an_unanswered_check_in_empties_every_client_score_but_keeps_the_therapists(clinic):
    s = clinic.sessions
    attended = s[s["attended"] == 1]
    empty = attended["alliance"].isna()
    assert 0.02 < empty.mean() < 0.08             # unanswered_rate 0.05, intake always answered
    assert (attended[CLIENT_SCORES].isna().eq(empty, axis=0)).all().all()
    assert attended.loc[empty, "therapist_alliance"].notna().mean() > 0.9


def test_no_shows_are_occasional_and_intake_is_always_attended_and_answered(clinic):
    s = clinic.sessions
    assert 0.04 < (s["attended"] == 0).mean() < 0.12
    intake = s[s["session"] == 1]
    assert (intake["attended"] == 1).all() and intake["alliance"].notna().all()


# --- dropouts ----------------------------------------------------------------------

def test_dropouts_end_with_a_run_of_missed_sessions_and_completers_attend_the_last(clinic):
    s, truth = clinic.sessions, clinic.truth.set_index("client_id")
    last_row = s.groupby("client_id").tail(1).set_index("client_id")
    attended = s[s["attended"] == 1].groupby("client_id")["session"].max()
    dropouts = truth[truth["dropout"]]
    completers = truth[~truth["dropout"]]
    assert 0.16 < truth["dropout"].mean() < 0.24          # dropout_share 0.20
    assert (attended[dropouts.index] == dropouts["last_attended_session"]).all()
    assert (dropouts["dropout_session"] == dropouts["last_attended_session"] + 1).all()
    run = last_row.loc[dropouts.index, "session"] - dropouts["last_attended_session"]
    assert run.between(1, 3).all() and set(run) == {1, 2, 3}
    assert (last_row.loc[dropouts.index, "attended"] == 0).all()
    assert (last_row.loc[completers.index, "session"] == 20).all()
    assert (last_row.loc[completers.index, "attended"] == 1).all()
    assert completers["dropout_session"].isna().all()
    assert (truth["n_scheduled"] == s.groupby("client_id").size()).all()


def test_clients_with_a_weaker_alliance_drop_out_more_often(clinic):
    truth = clinic.truth
    assert (truth.loc[truth["dropout"], "alliance_level"].mean()
            < truth.loc[~truth["dropout"], "alliance_level"].mean() - 0.3)


# --- the generative model -------------------------------------------------------------

def test_the_alliance_grows_over_the_early_sessions(clinic):
    by_session = clinic.sessions.groupby("session")["alliance"].mean()
    assert by_session[5] - by_session[1] > 0.3
    assert (clinic.truth["alliance_growth"] >= 0).all()


def test_therapists_differ_in_the_alliance_their_clients_report(clinic):
    mean_alliance = clinic.sessions.groupby("client_id")["alliance"].mean()
    effect = clinic.truth.set_index("client_id")["therapist_effect"]
    assert (clinic.truth.groupby("therapist_id")["therapist_effect"].nunique() == 1).all()
    assert np.corrcoef(mean_alliance[effect.index], effect)[0, 1] > 0.2


def test_clients_rate_a_little_higher_on_average_but_some_therapists_see_much_more(clinic):
    # Clients rate the alliance somewhat more favourably than therapists on average
    # (Tryon, Blackwell & Hammel 2007); for a minority the therapist sees a far better
    # alliance than the client feels, which is what the discrepancy signal looks for.
    s = clinic.sessions.dropna(subset=["alliance", "therapist_alliance"])
    gap = s["therapist_alliance"] - s["alliance"]
    assert -0.6 < gap.mean() < 0.0
    per_client = gap.groupby(s["client_id"]).mean()
    assert (per_client > 2).mean() > 0.05
    # The two views agree only moderately (r = .36 across clients; Tryon et al. 2007).
    means = s.groupby("client_id")[["alliance", "therapist_alliance"]].mean()
    assert 0.25 < means.corr().iloc[0, 1] < 0.55


def test_wellbeing_starts_low_and_improves(clinic):
    by_session = clinic.sessions.groupby("session")["wellbeing"].mean()
    assert 3.5 < by_session[1] < 4.5
    assert by_session[20] - by_session[1] > 1.2


# --- calibration ---------------------------------------------------------------------

def test_mean_alliance_correlates_with_outcome_change_near_the_meta_analytic_r():
    # Flückiger et al. (2018): r = .278. On 20,000 clients the sampling SD of r is
    # about .007; tolerance ±.02.
    r = alliance_outcome_correlation(simulate_clinic(20_000, 20, 2018).sessions)
    assert abs(r - 0.278) < 0.02


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_at_2000_clients_the_alliance_outcome_r_is_within_005_of_278(seed):
    r = alliance_outcome_correlation(simulate_clinic(2000, 20, seed).sessions)
    assert abs(r - 0.278) < 0.05


def test_between_40_and_50_percent_of_cases_contain_a_rupture(clinic):
    share = (clinic.truth["n_ruptures"] > 0).mean()
    assert 0.43 < share <= 0.45               # rupture_share 0.45, a few do not fit
    assert share == summarize_clinic(clinic).rupture_share
    assert clinic.truth["n_ruptures"].sum() == len(clinic.ruptures)
    assert (clinic.truth["n_ruptures"] == 2).mean() > 0.05


def test_the_outcome_correlation_ignores_clients_with_a_single_outcome():
    sessions = pd.DataFrame({
        "client_id": ["a", "a", "b", "b", "c", "c", "d"],
        "session": [1, 2, 1, 2, 1, 2, 1],
        "alliance": [5.0, 7.0, 8.0, 8.0, 3.0, 3.0, 10.0],
        "wellbeing": [4.0, 6.0, 3.0, 7.0, 5.0, 5.0, 1.0],
    })
    # Means 6, 8, 3 against changes 2, 4, 0.
    assert alliance_outcome_correlation(sessions) == pytest.approx(
        np.corrcoef([6, 8, 3], [2, 4, 0])[0, 1])


# --- rupture ground truth ----------------------------------------------------------------

def test_the_truth_is_the_planted_drop_of_the_true_course(clinic):
    r = clinic.ruptures
    np.testing.assert_allclose(r["reference"] - r["score"], r["depth"], atol=0.011)
    drops = r[["bond_drop", "goals_drop", "tasks_drop"]].to_numpy()
    np.testing.assert_allclose(drops.mean(axis=1), r["depth"], atol=0.011)


def test_the_data_show_the_planted_drop_plus_noise(clinic):
    # The truth is defined on the true course, so the observed drop scatters around it.
    s, r = clinic.sessions, clinic.ruptures
    observed = scores_at(s, r.assign(session=r["session"] - 1)) - scores_at(s, r)
    error = observed - r["depth"].to_numpy()
    assert abs(error.mean()) < 0.15
    assert 0.3 < error.std() < 1.0


def test_without_noise_the_data_show_each_planted_drop_up_to_the_scale_steps(quiet_clinic):
    s, r = quiet_clinic.sessions, quiet_clinic.ruptures
    observed = scores_at(s, r.assign(session=r["session"] - 1)) - scores_at(s, r)
    assert np.abs(observed - r["depth"].to_numpy()).max() <= 0.5 + 1e-9


def test_ruptures_are_deep_and_mostly_in_the_subscale_named(clinic):
    r = clinic.ruptures
    # At least 1.4 points: about twice the pooled within-client SD of the total (≈ 0.7).
    assert r["depth"].min() >= 1.4 - 0.011
    drops = r[["bond_drop", "goals_drop", "tasks_drop"]].to_numpy()
    named = r["subscale"].map({"bond": 0, "goals": 1, "tasks": 2}).to_numpy()
    assert (drops[np.arange(len(r)), named] == drops.max(axis=1)).all()
    assert (drops[np.arange(len(r)), named] >= 2 * np.median(drops, axis=1)).mean() > 0.9
    assert set(r["subscale"]) == {"bond", "goals", "tasks"}


def test_the_depth_is_at_least_twice_the_pooled_within_client_sd(clinic):
    s = clinic.sessions
    deviation = s["alliance"] - s.groupby("client_id")["alliance"].transform("mean")
    pooled_sd = np.sqrt(np.nanmean(deviation ** 2))
    assert (clinic.ruptures["depth"] >= 2 * pooled_sd).mean() > 0.95


def test_repairs_come_one_to_three_sessions_after_the_rupture(clinic):
    r = clinic.ruptures
    assert 0.45 < r["repaired"].mean() < 0.65          # repair_share 0.6, less for dropouts
    lag = r.loc[r["repaired"], "repaired_session"] - r.loc[r["repaired"], "session"]
    assert set(lag) == {1, 2, 3}
    assert r.loc[~r["repaired"], "repaired_session"].isna().all()


def test_without_noise_a_repaired_rupture_is_back_at_its_repair_session_and_below_before(
        quiet_clinic):
    s, r = quiet_clinic.sessions, quiet_clinic.ruptures
    repaired = r[r["repaired"]]
    reference = scores_at(s, repaired.assign(session=repaired["session"] - 1))
    at_repair = repaired.assign(session=repaired["repaired_session"].astype(int))
    assert (scores_at(s, at_repair) >= reference).all()
    lag = (repaired["repaired_session"] - repaired["session"]).to_numpy()
    for k in (1, 2):                                   # still below before the repair
        between = repaired[lag > k]
        below = scores_at(s, between.assign(session=between["session"] + k))
        assert (below < reference[lag > k]).mean() > 0.95   # the last third of a V can round away


def test_without_noise_an_unrepaired_rupture_stays_below_for_three_sessions(quiet_clinic):
    s, r = quiet_clinic.sessions, quiet_clinic.ruptures
    open_ = r[~r["repaired"]]
    reference = scores_at(s, open_.assign(session=open_["session"] - 1))
    for k in (1, 2, 3):
        later = scores_at(s, open_.assign(session=open_["session"] + k))
        assert not np.isnan(later).any()
        # Almost always: early in therapy the client's growth can lift a small lasting dip.
        assert (later < reference).mean() > 0.98


def test_the_sessions_around_a_rupture_are_all_rated(clinic):
    s, r = clinic.sessions, clinic.ruptures
    for k in (-1, 0, 1, 2, 3):
        assert not np.isnan(scores_at(s, r.assign(session=r["session"] + k))).any()


def engine_repairs(sessions):
    """The repair rule of the signals engine at every drop: the session of the first of
    the next 3 rated sessions back at the previous (pre-drop) score, or None."""
    frame = rated(sessions)
    dropped = set(frame.loc[frame["alliance"] < frame["previous"], "client_id"])
    states = {}
    for client, group in frame[frame["client_id"].isin(dropped)].groupby("client_id"):
        scores, numbers = group["alliance"].to_numpy(), group["session"].to_numpy()
        for i in np.flatnonzero(scores[1:] < scores[:-1]) + 1:
            later = np.flatnonzero(scores[i + 1:i + 4] >= scores[i - 1])
            states[(client, numbers[i])] = (numbers[i + 1 + later[0]] if len(later) else None)
    return states


def truth_repairs(clinic):
    return {(row.client_id, row.session): (row.repaired_session if row.repaired else None)
            for row in clinic.ruptures.itertuples()}


def test_without_noise_the_planted_ruptures_are_the_only_drops(quiet_clinic):
    s, r = quiet_clinic.sessions, quiet_clinic.ruptures
    for column in ("alliance", "bond", "goals", "tasks"):
        frame = rated(s, column)
        drops = frame[frame[column] < frame["previous"]][["client_id", "session"]]
        found = set(map(tuple, drops.to_numpy()))
        if column == "alliance":
            assert found == set(map(tuple, r[["client_id", "session"]].to_numpy()))
        else:
            assert found <= set(map(tuple, r[["client_id", "session"]].to_numpy()))


def test_without_noise_the_engines_repair_rule_recovers_almost_every_repair_state(quiet_clinic):
    found, truth = engine_repairs(quiet_clinic.sessions), truth_repairs(quiet_clinic)
    assert set(found) == set(truth)
    # Not all: the truth is the generator's, and early growth can outgrow a lasting dip.
    assert 0.98 < np.mean([found[key] == truth[key] for key in truth]) < 1.0


def test_with_noise_the_truth_does_not_come_from_the_engines_repair_rule(clinic):
    # The planted repair is a fact of the generator; noise can hide it or fake it.
    found, truth = engine_repairs(clinic.sessions), truth_repairs(clinic)
    same = [(found[key] is None) == (state is None) for key, state in truth.items()
            if key in found]
    assert len(same) > 0.9 * len(truth)
    assert 0.6 < np.mean(same) < 0.95


def test_turning_noise_off_keeps_the_same_ruptures_and_dropouts(clinic, quiet_clinic):
    pd.testing.assert_frame_equal(clinic.ruptures, quiet_clinic.ruptures)
    pd.testing.assert_series_equal(clinic.truth["dropout"], quiet_clinic.truth["dropout"])
    assert (clinic.sessions["attended"].to_numpy()
            == quiet_clinic.sessions["attended"].to_numpy()).all()


def test_repaired_ruptures_go_with_better_outcomes_than_unrepaired_ones(clinic):
    truth = clinic.truth
    gain = truth["wellbeing_gain"]
    repaired = truth["n_ruptures"].gt(0) & truth["n_repaired"].eq(truth["n_ruptures"])
    unrepaired = truth["n_ruptures"].gt(0) & truth["n_repaired"].eq(0)
    assert gain[repaired].mean() > gain[unrepaired].mean()


# --- small clinics and properties ----------------------------------------------------

@pytest.mark.parametrize("sessions", [1, 2, 5])
def test_short_treatments_work_but_have_no_room_for_a_rupture(sessions):
    clinic = simulate_clinic(50, sessions, 3)
    assert clinic.sessions["session"].max() == sessions
    assert len(clinic.ruptures) == 0
    assert (clinic.truth["n_ruptures"] == 0).all()


@settings(max_examples=25, deadline=None)
@given(n_clients=st.integers(1, 40), n_sessions=st.integers(1, 25), seed=st.integers(0, 10**6),
       noise=st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_every_clinic_keeps_its_missing_data_and_ground_truth_consistent(n_clients, n_sessions,
                                                                          seed, noise):
    clinic = simulate_clinic(n_clients, n_sessions, seed, noise=noise)
    s, r = clinic.sessions, clinic.ruptures
    assert s[s["attended"] == 0][SCORES].isna().all().all()
    assert s[CLIENT_SCORES].isna().eq(s["alliance"].isna(), axis=0).all().all()
    assert ((s[SCORES] >= 0) & (s[SCORES] <= 10) | s[SCORES].isna()).all().all()
    assert s.groupby("client_id").size().sum() == len(s)
    if len(r):
        for k in (-1, 0, 1, 2, 3):
            assert not np.isnan(scores_at(s, r.assign(session=r["session"] + k))).any()
        assert (r["depth"] >= 1.4 - 0.011).all()
        assert (r["session"] >= 3).all()
        assert (r["session"] + 3 <= n_sessions).all()


# --- validation ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, kwargs, message", [
    ((0, 10, 1), {}, "n_clients must be at least 1"),
    ((10, 0, 1), {}, "n_sessions must be at least 1"),
    ((10, 10, -1), {}, "seed"),
    ((10.5, 10, 1), {}, "whole number"),
    ((10, 10, 1), {"n_therapists": 11}, "n_therapists"),
    ((10, 10, 1), {"rupture_share": 1.5}, "rupture_share must be between 0 and 1"),
    ((10, 10, 1), {"dropout_share": 1.0}, "dropout_share must be below 1"),
    ((10, 10, 1), {"noise": -1.0}, "noise"),
    ((10, 10, 1), {"resolution": 0.3}, "resolution"),
    ((10, 10, 1), {"resolution": 0.0}, "resolution"),
    ((10, 10, 1), {"start_date": "2024-13-01"}, "YYYY-MM-DD"),
    ((10_000_000, 10, 1), {}, "simulate several smaller clinics"),
])
def test_bad_arguments_raise_an_input_error_that_says_what_is_wrong(args, kwargs, message):
    with pytest.raises(InputError, match=message):
        simulate_clinic(*args, **kwargs)


def test_the_files_hold_the_tables_with_flags_as_1_and_0(tmp_path):
    clinic = simulate_clinic(30, 12, 4)
    paths = write_clinic(clinic, tmp_path / "out")
    sessions = pd.read_csv(paths["sessions"], dtype={"client_id": str})
    assert list(sessions.columns) == list(SESSION_COLUMNS)
    assert sessions["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    ruptures = pd.read_csv(paths["ruptures"])
    assert set(ruptures["repaired"]) <= {0, 1}
    assert ruptures.loc[ruptures["repaired"] == 0, "repaired_session"].isna().all()
    clients = pd.read_csv(paths["clients"])
    assert set(clients["dropout"]) <= {0, 1}
    with pytest.raises(InputError, match="not a folder"):
        write_clinic(clinic, paths["sessions"])

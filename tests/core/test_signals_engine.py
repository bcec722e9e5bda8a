"""detect_signals: settings, which detectors run, ordering, explanations; and no look-ahead.

The no-look-ahead property: cutting a clinic's data at any date (or any
session number) and running the detectors again gives exactly the signals that
the full data gave at the sessions kept; only a rupture's repair state may
still be open (pending) in the cut data. The pooled SD is given explicitly,
because an estimated one is a property of the whole data set.
"""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance.core.errors import InputError
from alliance.core.signals import (SIGNAL_TYPES, Goal, GoalReview, SignalSettings, TaskReport,
                                   detect_signals, goals_frame, reviews_frame, signals_frame,
                                   tasks_frame)

DAY0 = pd.Timestamp("2024-01-01")


def small_clinic():
    rows = []
    for c, scores in enumerate([[8, 8.5, 5.0, 8.5, 8], [6, 6.5, 7, 6, 6.5], [7, 7, 7.5, 3, 4]]):
        for s, a in enumerate(scores, start=1):
            rows.append({"client_id": f"c{c}", "session": s,
                         "date": DAY0 + pd.Timedelta(days=7 * s), "attended": 1,
                         "alliance": a, "therapist_alliance": min(a + 2.5, 10),
                         "wellbeing": 5.0})
    return pd.DataFrame(rows)


def test_settings_have_documented_defaults_and_reject_bad_values():
    s = SignalSettings()
    assert (s.rule, s.m, s.reference, s.window, s.pooled_sd) == ("sd2", 2, "previous", 3, None)
    assert (s.low_percentile, s.discrepancy_points, s.missed_in_a_row) == (10.0, 20.0, 2)
    assert SignalSettings(rule="sd1").m == 1 and SignalSettings(rule="rci", sd=1,
                                                                reliability=.8).m is None
    with pytest.raises(InputError, match="SD and reliability"):
        SignalSettings(rule="rci")
    with pytest.raises(InputError, match="window"):
        SignalSettings(window=0)
    with pytest.raises(InputError, match="low_percentile"):
        SignalSettings(low_percentile=100)


def test_detect_signals_runs_the_detectors_the_columns_allow():
    frame = small_clinic()
    found = detect_signals(frame, SignalSettings(pooled_sd=1.0, low_min_reference=3,
                                                 low_percentile=30))
    kinds = {s.type for s in found}
    assert {"rupture", "discrepancy", "low_alliance"} <= kinds
    # Without a therapist column there is no discrepancy; without attended no disengagement.
    fewer = detect_signals(frame.drop(columns=["therapist_alliance", "attended"]),
                           SignalSettings(pooled_sd=1.0))
    assert not {"discrepancy", "disengagement"} & {s.type for s in fewer}


def test_signals_are_ordered_by_client_session_and_type():
    found = detect_signals(small_clinic(), SignalSettings(pooled_sd=1.0, low_min_reference=3,
                                                          low_percentile=30))
    rank = {t: i for i, t in enumerate(SIGNAL_TYPES)}
    keys = [(int(s.client_id[1:]), s.session, rank[s.type]) for s in found]
    assert keys == sorted(keys)
    frame = signals_frame(found)
    assert list(frame.columns) == ["type", "client_id", "session", "rule", "parameters", "data",
                                   "explanation"]


def test_only_the_requested_types_are_looked_for():
    found = detect_signals(small_clinic(), SignalSettings(pooled_sd=1.0), types=["rupture"])
    assert {s.type for s in found} == {"rupture"}
    with pytest.raises(InputError, match="unknown signal type"):
        detect_signals(small_clinic(), types=["bad_vibes"])


def test_not_on_track_uses_bands_given_by_the_caller():
    frame = small_clinic()
    bands = pd.DataFrame({"low": np.where(frame["session"] == 3, 6.0, 0.0), "high": 10.0})
    found = detect_signals(frame, SignalSettings(pooled_sd=1.0, not_on_track_in_a_row=1),
                           types=["not_on_track"], expected=bands)
    assert [(s.client_id, s.session) for s in found] == [("c0", 3), ("c1", 3), ("c2", 3)]
    # By default one session below the band is not yet an alert.
    assert detect_signals(frame, SignalSettings(pooled_sd=1.0), types=["not_on_track"],
                          expected=bands) == []


def test_goal_and_task_tables_add_their_signals():
    frame = small_clinic()
    goals = goals_frame([Goal("c0", "g1", proposed_session=1)])
    reviews = reviews_frame([GoalReview("c0", "g1", 2, client_rating=2, therapist_rating=8)])
    tasks = tasks_frame([TaskReport("c1", "t1", s, done=False) for s in (2, 3)])
    found = detect_signals(frame, SignalSettings(pooled_sd=1.0), goals=goals,
                           goal_reviews=reviews, task_reports=tasks,
                           types=["goal_not_agreed", "goal_ratings_apart", "task_not_done"])
    assert [(s.type, s.client_id, s.session) for s in found] == [
        ("goal_ratings_apart", "c0", 2), ("goal_not_agreed", "c0", 3), ("task_not_done", "c1", 3)]


def test_every_explanation_is_one_plain_sentence_on_a_simulated_clinic():
    simulator = pytest.importorskip("alliance.core.simulator")
    clinic = simulator.simulate_clinic(120, 14, seed=2)
    found = detect_signals(clinic.sessions, as_of=clinic.sessions["date"].max() + pd.Timedelta(
        days=60))
    assert {"rupture", "low_alliance", "discrepancy", "disengagement"} <= {s.type for s in found}
    for s in found:
        text = s.explanation
        assert text.endswith(".") and "\n" not in text
        assert ". " not in text.rstrip(".")       # one sentence (decimals have no space)
        assert not any(word in text.lower() for word in ("fail", "non-complian", "resist", "poor"))
        json.dumps(s.to_dict())                    # JSON-ready


# --- no look-ahead ------------------------------------------------------------------------

GRID = [x / 2 for x in range(21)]


@st.composite
def clinics(draw):
    rows = []
    for c in range(draw(st.integers(1, 4))):
        day = draw(st.integers(0, 30))
        for s in range(1, draw(st.integers(1, 10)) + 1):
            day += draw(st.sampled_from([3, 7, 7, 7, 14, 30, 45]))
            attended = draw(st.sampled_from([1, 1, 1, 1, 0]))
            score = draw(st.sampled_from(GRID)) if attended and draw(st.booleans()) or \
                attended and s <= 2 else np.nan
            therapist = draw(st.sampled_from(GRID)) if attended else np.nan
            rows.append({"client_id": f"c{c}", "session": s, "date": DAY0 + pd.Timedelta(days=day),
                         "attended": attended, "alliance": score,
                         "therapist_alliance": therapist})
    return pd.DataFrame(rows)


def canonical(signals):
    """Signals as comparable keys; a rupture's repair state is kept apart."""
    keys, repair = set(), {}
    for s in signals:
        d = s.to_dict()
        data = {k: v for k, v in d["data"].items() if k not in ("state", "repaired_session")}
        key = (d["type"], d["client_id"], d["session"], d["rule"], json.dumps(data, sort_keys=True))
        keys.add(key)
        if d["type"] == "rupture":
            repair[key] = (d["data"]["state"], d["data"]["repaired_session"])
    return keys, repair


SETTINGS = dict(pooled_sd=1.0, low_min_reference=3, low_percentile=30, gap_min_days=10,
                missed_in_a_row=2, unanswered_in_a_row=2)


def assert_same_up_to_the_cut(full, cut, kept_rows, options):
    kept = set(zip(kept_rows["client_id"], kept_rows["session"]))
    full_keys, full_repair = canonical(detect_signals(full, SignalSettings(**options)))
    cut_keys, cut_repair = canonical(detect_signals(cut, SignalSettings(**options)))
    assert {k for k in full_keys if (k[1], k[2]) in kept} == cut_keys
    for key, (state, session) in cut_repair.items():
        if state != "pending":                     # settled states never change later
            assert full_repair[key] == (state, session)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clinic=clinics(), cut=st.integers(0, 400), rule=st.sampled_from(["sd1", "sd2", "rci"]),
       reference=st.sampled_from(["previous", "mean3"]))
def test_cutting_the_data_at_any_date_leaves_earlier_signals_unchanged(clinic, cut, rule,
                                                                        reference):
    options = dict(SETTINGS, rule=rule, reference=reference)
    if rule == "rci":
        options.update(sd=1.5, reliability=0.8)
    cut_rows = clinic[clinic["date"] <= DAY0 + pd.Timedelta(days=cut)]
    if cut_rows.empty:
        return
    assert_same_up_to_the_cut(clinic, cut_rows, cut_rows, options)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clinic=clinics(), cut=st.integers(1, 10), with_dates=st.booleans())
def test_cutting_the_data_at_any_session_number_leaves_earlier_signals_unchanged(clinic, cut,
                                                                              with_dates):
    # Without dates the percentile's reference group is every score at that session
    # number, which later session numbers never enter.
    if not with_dates:
        clinic = clinic.drop(columns=["date"])
    cut_rows = clinic[clinic["session"] <= cut]
    assert_same_up_to_the_cut(clinic, cut_rows, cut_rows, dict(SETTINGS))

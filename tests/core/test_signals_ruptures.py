"""The rupture–repair engine: hand-computed series, exact recovery, and the loop reference.

Hand-computed values follow docs/signals.md; they are compared with a
tolerance of 1e-9 (floating-point rounding only).
"""

import math

import numpy as np
import pandas as pd
import pytest
from signals_loop import loop_ruptures

from alliance.core.errors import InputError, NotEnoughDataError
from alliance.core.signals import detect_ruptures, pooled_within_sd, rupture_signals

TOL = 1e-9


def one_client(scores, sessions=None, **options):
    sessions = sessions or list(range(1, len(scores) + 1))
    return detect_ruptures(["A"] * len(scores), sessions, scores, **options).ruptures


def test_sd2_fires_on_a_hand_computed_drop_and_repairs_at_the_next_session():
    # Rated sessions 1, 2, 3, 5, 6, 7 (session 4 has no score); p = 1 given.
    # At session 5: ref = 7, prior 6, 8, 7 → v = 1, df = 2, s² = (2·1 + 3·1)/5 = 1,
    # threshold = 7 − 2·1 = 5, score 4 fires; session 6 (7.5 ≥ 7) repairs it.
    found = one_client([6, 8, 7, np.nan, 4, 7.5, 7], rule="sd2", pooled_sd=1.0)
    assert list(found["session"]) == [5]
    row = found.iloc[0]
    assert row["reference"] == 7 and row["score"] == 4
    assert row["s_t"] == pytest.approx(1.0, abs=TOL)
    assert row["threshold"] == pytest.approx(5.0, abs=TOL)
    assert row["drop"] == pytest.approx(3.0, abs=TOL)
    assert row["state"] == "repaired" and row["repaired_session"] == 6


def test_sd1_uses_the_shrunken_sd_at_every_session():
    # Session 3: ref 8, prior 6, 8 → v = 2, df = 1, s² = (2 + 3)/4 = 1.25,
    # threshold 8 − 1.1180340 = 6.8819660; score 7 does not fire.
    # Session 7: ref 7.5, prior 6, 8, 7, 4, 7.5 → SS = 10, df = 4, s² = 13/7,
    # threshold 7.5 − 1.3627703 = 6.1372297; score 7 does not fire.
    found = one_client([6, 8, 7, np.nan, 4, 7.5, 7], rule="sd1", pooled_sd=1.0)
    assert list(found["session"]) == [5]
    assert found["threshold"].iloc[0] == pytest.approx(6.0, abs=TOL)
    assert found["s_t"].iloc[0] == pytest.approx(1.0, abs=TOL)


def test_at_the_second_rated_session_the_sd_is_the_pooled_sd():
    # t = 2: df = 0, so s_2² = 3p²/3 = p². With p = 1.5 and m = 2 the threshold is 7 − 3 = 4.
    found = one_client([7, 4], rule="sd2", pooled_sd=1.5)
    assert found["s_t"].iloc[0] == pytest.approx(1.5, abs=TOL)
    assert found["threshold"].iloc[0] == pytest.approx(4.0, abs=TOL)
    assert found["state"].iloc[0] == "pending"


def test_a_score_exactly_on_the_threshold_fires():
    found = one_client([7, 5], rule="sd2", pooled_sd=1.0)   # threshold 7 − 2·1 = 5
    assert list(found["session"]) == [2]
    assert one_client([7, 5.01], rule="sd2", pooled_sd=1.0).empty


def test_mean3_reference_averages_up_to_three_previous_scores():
    # Scores 8, 6, 7, 9, 5; sd1, p = 1.
    # t = 2: ref 8, s = 1, threshold 7: 6 fires, repaired at t = 4 (9 ≥ 8).
    # t = 5: ref = (6 + 7 + 9)/3 = 7.3333333 (not the mean of all four, 7.5);
    # prior SS = 5, df = 3, s² = (5 + 3)/6 = 4/3, s = 1.1547005,
    # threshold = 7.3333333 − 1.1547005 = 6.1786328: 5 fires.
    found = one_client([8, 6, 7, 9, 5], rule="sd1", reference="mean3", pooled_sd=1.0)
    assert list(found["session"]) == [2, 5]
    last = found.iloc[1]
    assert last["reference"] == pytest.approx(22 / 3, abs=TOL)
    assert last["s_t"] == pytest.approx(math.sqrt(4 / 3), abs=TOL)
    assert last["threshold"] == pytest.approx(22 / 3 - math.sqrt(4 / 3), abs=TOL)
    assert found["state"].iloc[0] == "repaired" and found["repaired_session"].iloc[0] == 4


def test_mean3_at_the_third_session_averages_two_scores():
    # t = 3: ref = (8 + 6)/2 = 7; prior v = 2, df = 1, s² = (2 + 3)/4 = 1.25.
    found = one_client([8, 6, 4.5], rule="sd2", reference="mean3", pooled_sd=1.0)
    third = found[found["session"] == 3].iloc[0]
    assert third["reference"] == pytest.approx(7.0, abs=TOL)
    assert third["threshold"] == pytest.approx(7 - 2 * math.sqrt(1.25), abs=TOL)


def test_rci_fires_when_the_drop_exceeds_1_96_s_diff():
    # SD 2, r = .75: S_diff = 2·√2·√.25 = √2 = 1.4142136, 1.96·S_diff = 2.7718586.
    # Drops: 2.7 (no), 0.1 (no), 3.2 (yes); threshold 5.2 − 2.7718586 = 2.4281414.
    found = one_client([8, 5.3, 5.2, 2], rule="rci", sd=2.0, reliability=0.75)
    assert list(found["session"]) == [4]
    assert found["s_diff"].iloc[0] == pytest.approx(math.sqrt(2), abs=TOL)
    assert found["threshold"].iloc[0] == pytest.approx(5.2 - 1.96 * math.sqrt(2), abs=TOL)
    assert "s_t" not in found.columns


def test_repair_states_at_the_window_edge():
    sessions = pd.DataFrame({
        "client": ["unresolved"] * 5 + ["pending"] * 4 + ["edge"] * 5 + ["late"] * 6,
        "score": [8, 5, 6, 6, 6] + [8, 5, 6, 6] + [8, 5, 6, 6, 8] + [8, 5, 6, 6, 6, 9]})
    sessions["session"] = sessions.groupby("client").cumcount() + 1
    found = detect_ruptures(sessions["client"], sessions["session"], sessions["score"],
                            rule="sd2", pooled_sd=1.0, window=3).ruptures
    states = dict(zip(found["client_id"], found["state"]))
    assert states == {"unresolved": "unresolved", "pending": "pending", "edge": "repaired",
                      "late": "unresolved"}
    # Back exactly at the reference (8) at t + 3 = session 5 counts as repaired.
    assert found.set_index("client_id").loc["edge", "repaired_session"] == 5


def test_a_continuing_fall_fires_at_each_step_with_its_own_reference():
    # 9, 7, 5, 3 with sd1 and p = 1: thresholds 8, 5.8819660, 3.5167962.
    found = one_client([9, 7, 5, 3], rule="sd1", pooled_sd=1.0)
    assert list(found["session"]) == [2, 3, 4]
    assert list(found["reference"]) == [9, 7, 5]
    np.testing.assert_allclose(found["threshold"],
                               [8, 7 - math.sqrt(1.25), 5 - math.sqrt(2.2)], atol=TOL)
    assert list(found["state"]) == ["pending"] * 3


def test_the_pooled_sd_is_the_root_mean_squared_deviation_from_each_clients_mean():
    # A: 6, 8 (mean 7, deviations ±1); B: 5, 5, 8 (mean 6: 1, 1, 4); C: 9 (0).
    # p = √((1 + 1 + 1 + 1 + 4 + 0)/6) = √(8/6).
    pooled = pooled_within_sd(list("AABBBCA"), [6, 8, 5, 5, 8, 9, np.nan])
    assert pooled.value == pytest.approx(math.sqrt(8 / 6), abs=TOL)
    assert (pooled.n_rated, pooled.n_clients) == (6, 3)


def test_an_estimated_pooled_sd_is_reported_as_such():
    result = detect_ruptures(list("AAABBB"), [1, 2, 3, 1, 2, 3], [6, 8, 7, 5, 5, 8])
    assert result.parameters["pooled_sd_source"] == "estimated"
    assert result.parameters["pooled_sd"] == pytest.approx(
        math.sqrt((1 + 1 + 0 + 1 + 1 + 4) / 6), abs=TOL)


def test_input_order_does_not_matter():
    rng = np.random.default_rng(3)
    client = np.repeat(np.arange(30), 10)
    session = np.tile(np.arange(1, 11), 30)
    score = np.round(rng.normal(7, 1.3, 300) * 2) / 2
    order = rng.permutation(300)
    a = detect_ruptures(client, session, score).ruptures
    b = detect_ruptures(client[order], session[order], score[order]).ruptures
    key = ["client_id", "session"]
    pd.testing.assert_frame_equal(a.sort_values(key).reset_index(drop=True),
                                  b.sort_values(key).reset_index(drop=True))


@pytest.mark.parametrize("rule", ["sd1", "sd2", "rci"])
@pytest.mark.parametrize("reference", ["previous", "mean3"])
def test_the_engine_equals_a_per_client_loop_on_random_data(rule, reference):
    rng = np.random.default_rng(abs(hash((rule, reference))) % 2**32)
    n_clients = 150
    lengths = rng.integers(1, 25, n_clients)
    client = np.repeat([f"c{i:03d}" for i in range(n_clients)], lengths)
    session = np.concatenate([rng.permutation(np.arange(1, n + 1) * 2) for n in lengths])
    score = rng.normal(6.5, 1.5, len(client))
    score[rng.random(len(client)) < 0.15] = np.nan
    options = dict(rule=rule, reference=reference, window=int(rng.integers(1, 5)))
    if rule == "rci":
        options.update(sd=1.4, reliability=0.8)
    result = detect_ruptures(client, session, score, **options)
    expected, p = loop_ruptures(client, session, score, **options)
    got = result.ruptures
    assert len(got) == len(expected) > 20
    assert list(got["client_id"]) == [r["client_id"] for r in expected]
    assert list(got["session"]) == [r["session"] for r in expected]
    assert list(got["state"]) == [r["state"] for r in expected]
    assert [None if pd.isna(x) else x for x in got["repaired_session"]] == \
        [r["repaired_session"] for r in expected]
    spread = "s_diff" if rule == "rci" else "s_t"
    for column, key in (("reference", "reference"), ("score", "score"),
                        ("threshold", "threshold"), (spread, "spread")):
        np.testing.assert_allclose(got[column], [r[key] for r in expected], rtol=0, atol=1e-9)
    if rule != "rci":
        assert result.parameters["pooled_sd"] == pytest.approx(p, abs=1e-12)


def test_a_case_alone_gives_bit_for_bit_the_same_ruptures_as_within_a_clinic():
    rng = np.random.default_rng(8)
    client = np.repeat(np.arange(200), 15)
    session = np.tile(np.arange(1, 16), 200)
    score = rng.normal(7, 1.2, len(client))
    clinic = detect_ruptures(client, session, score, pooled_sd=0.9).ruptures
    alone = detect_ruptures(client[client == 77], session[client == 77], score[client == 77],
                            pooled_sd=0.9).ruptures
    within = clinic[clinic["client_id"] == 77].reset_index(drop=True)
    assert len(alone) > 0
    pd.testing.assert_frame_equal(alone, within, check_exact=True)


def test_planted_v_shaped_ruptures_are_recovered_exactly_without_noise():
    # A tiny generator: flat or slowly rising courses with V-shaped dips of 2 points.
    rng = np.random.default_rng(11)
    rows, planted = [], {}
    for c in range(60):
        level = rng.uniform(5, 7.5)
        course = level + np.minimum(np.arange(12), 4) * 0.1
        at = int(rng.integers(3, 9)) if c % 2 else None
        if at is not None:
            back = int(rng.integers(1, 5))          # 4 = not back within 3 sessions
            course[at - 1] -= 2.0
            for k in range(1, back):
                if at - 1 + k < 12:
                    course[at - 1 + k] -= 1.0
            planted[(c, at)] = (at + back) if back <= 3 else None
        rows += [(c, s + 1, course[s]) for s in range(12)]
    frame = pd.DataFrame(rows, columns=["client", "session", "score"])
    for rule in ("sd1", "sd2"):
        found = detect_ruptures(frame["client"], frame["session"], frame["score"], rule=rule,
                                pooled_sd=0.3).ruptures
        recovered = {(c, s): (None if pd.isna(r) else r)
                     for c, s, r in zip(found["client_id"], found["session"],
                                        found["repaired_session"])}
        assert recovered == planted


def test_planted_ruptures_of_the_simulator_are_recovered_exactly_without_noise():
    simulator = pytest.importorskip("alliance.core.simulator")
    clinic = simulator.simulate_clinic(150, 16, seed=5, noise=0)
    truth = clinic.ruptures
    assert len(truth) > 30
    s = clinic.sessions
    planted = set(zip(truth["client_id"], truth["session"]))
    for options in (dict(rule="sd1"), dict(rule="rci", sd=1, reliability=0.9)):
        found = detect_ruptures(s["client_id"], s["session"], s["alliance"], **options).ruptures
        assert set(zip(found["client_id"], found["session"])) == planted
        merged = truth.merge(found, on=["client_id", "session"], suffixes=("_true", ""))
        assert (merged["state"] == np.where(merged["repaired"], "repaired", "unresolved")).all()
        assert (merged["repaired_session"].fillna(-1) ==
                merged["repaired_session_true"].fillna(-1)).all()
    # sd2 is stricter: a shallow second rupture after a deep unresolved one can stay
    # within twice the client's (now larger) SD. It never fires without a planted drop.
    strict = detect_ruptures(s["client_id"], s["session"], s["alliance"], rule="sd2").ruptures
    found = set(zip(strict["client_id"], strict["session"]))
    assert found <= planted and len(found) >= 0.9 * len(planted)


def test_ruptures_become_signals_with_a_kind_plain_explanation():
    result = detect_ruptures(["A", "A"], [1, 2], [8.5, 5.0], rule="sd2", pooled_sd=1.0)
    (signal,) = rupture_signals(result, score_label="Bond")
    assert signal.type == "rupture" and signal.rule == "sd2" and signal.session == 2
    assert signal.explanation == ("Bond fell from 8.5 to 5.0 at session 2, at least twice "
                                  "this client's usual ups and downs.")
    assert signal.parameters["pooled_sd"] == 1.0
    assert signal.data["threshold"] == pytest.approx(6.5)
    assert signal.to_dict()["data"]["repaired_session"] is None


def test_no_scores_or_single_sessions_give_no_ruptures():
    assert detect_ruptures(["A", "B"], [1, 1], [7.0, np.nan]).ruptures.empty
    assert detect_ruptures([], [], []).ruptures.empty


def test_bad_options_and_bad_data_are_clear_errors():
    with pytest.raises(InputError, match="rule"):
        detect_ruptures(["A"], [1], [5], rule="sd3")
    with pytest.raises(InputError, match="SD and reliability"):
        detect_ruptures(["A"], [1], [5], rule="rci")
    with pytest.raises(InputError, match="window"):
        detect_ruptures(["A"], [1], [5], window=0)
    with pytest.raises(InputError, match="pooled SD"):
        detect_ruptures(["A", "A"], [1, 2], [5, 4], pooled_sd=0)
    with pytest.raises(InputError, match="more than one row for session 2"):
        detect_ruptures(["A", "A", "A"], [1, 2, 2], [5, 4, 3])
    with pytest.raises(NotEnoughDataError, match="constant"):
        detect_ruptures(["A", "A", "B", "B"], [1, 2, 1, 2], [5, 5, 6, 6])

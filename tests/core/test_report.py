"""The signal report: rates per 100 attended sessions and how ruptures turned out.

Reference values are computed by hand from the small clinic below (exact fractions;
floating-point tolerance 1e-12):

- attended sessions N = 9 (client A: 10 scheduled, 1 missed) + 16 (client B) = 25;
- ruptures: #1 A s3 repaired at s5 (d = 2, two actions), #2 A s7 unresolved (action),
  #3 B s4 repaired at s5 (d = 1), #4 B s9 repaired at s13 (d = 4, action), #5 B s14 pending;
- low alliance #6 (action), discrepancy #7, disengagement #8; an action naming signal 99,
  which is not in the table, is ignored.

Rates: ruptures 100·5/25 = 20 (with an action 100·3/25 = 12, without 100·2/25 = 8); one
signal is 100·1/25 = 4 per 100 sessions. Repair, all: R = 3, U = 1, P = 1, share 3/4,
median of (2, 1, 4) = 2; with an action: R = 2 (#1, #4), U = 1, share 2/3, median of
(2, 4) = 3; without: R = 1 (#3), U = 0, P = 1, share 1, median 1.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from alliance.core.errors import InputError
from alliance.core.report import signal_report
from alliance.core.signals import SIGNAL_TYPES


def sessions():
    rows = [{"client_id": "A", "session": n, "attended": 0 if n == 6 else 1}
            for n in range(1, 11)]
    rows += [{"client_id": "B", "session": n, "attended": 1} for n in range(1, 17)]
    return pd.DataFrame(rows)


def signals():
    return pd.DataFrame([
        {"signal_id": 1, "client_id": "A", "type": "rupture", "session": 3,
         "repair_state": "repaired", "repaired_session": 5},
        {"signal_id": 2, "client_id": "A", "type": "rupture", "session": 7,
         "repair_state": "unresolved", "repaired_session": None},
        {"signal_id": 3, "client_id": "B", "type": "rupture", "session": 4,
         "repair_state": "repaired", "repaired_session": 5},
        {"signal_id": 4, "client_id": "B", "type": "rupture", "session": 9,
         "repair_state": "repaired", "repaired_session": 13},
        {"signal_id": 5, "client_id": "B", "type": "rupture", "session": 14,
         "repair_state": "pending", "repaired_session": None},
        {"signal_id": 6, "client_id": "B", "type": "low_alliance", "session": 9,
         "repair_state": "", "repaired_session": None},
        {"signal_id": 7, "client_id": "A", "type": "discrepancy", "session": 2,
         "repair_state": "", "repaired_session": None},
        {"signal_id": 8, "client_id": "A", "type": "disengagement", "session": None,
         "repair_state": "", "repaired_session": None},
    ])


ACTIONS = pd.DataFrame({"signal_id": [1, 1, 2, 4, 6, 99]})


def test_rates_per_100_attended_sessions_match_the_hand_computed_values():
    report = signal_report(signals(), sessions(), ACTIONS)
    assert report.attended_sessions == 25 and report.cases == 2
    rupture = report.rate("rupture")
    assert (rupture.count, rupture.with_action, rupture.without_action) == (5, 3, 2)
    assert rupture.per_100_sessions == pytest.approx(20.0, abs=1e-12)
    assert rupture.with_action_per_100 == pytest.approx(12.0, abs=1e-12)
    assert rupture.without_action_per_100 == pytest.approx(8.0, abs=1e-12)
    low = report.rate("low_alliance")
    assert (low.count, low.with_action, low.per_100_sessions) == (1, 1, pytest.approx(4.0))
    assert report.rate("disengagement").per_100_sessions == pytest.approx(4.0, abs=1e-12)
    assert report.rate("not_on_track").count == 0
    assert report.rate("not_on_track").per_100_sessions == 0.0


def test_every_core_signal_type_has_a_row_in_the_core_order_by_default():
    report = signal_report(signals(), sessions(), ACTIONS)
    assert [r.type for r in report.rates] == list(SIGNAL_TYPES)


def test_the_share_repaired_counts_only_decided_ruptures_and_the_median_sessions_to_repair():
    report = signal_report(signals(), sessions(), ACTIONS)
    everyone = report.repair_group("all")
    assert (everyone.ruptures, everyone.repaired, everyone.unresolved, everyone.pending) == \
        (5, 3, 1, 1)
    assert everyone.decided == 4
    assert everyone.share_repaired == pytest.approx(0.75, abs=1e-12)
    assert everyone.median_sessions_to_repair == 2.0


def test_ruptures_with_and_without_a_recorded_repair_action_are_summarised_apart():
    report = signal_report(signals(), sessions(), ACTIONS)
    acted = report.repair_group("with_action")
    assert (acted.ruptures, acted.repaired, acted.unresolved, acted.pending) == (3, 2, 1, 0)
    assert acted.share_repaired == pytest.approx(2 / 3, abs=1e-12)
    assert acted.median_sessions_to_repair == 3.0  # (2 + 4) / 2
    not_acted = report.repair_group("without_action")
    assert (not_acted.ruptures, not_acted.repaired, not_acted.unresolved,
            not_acted.pending) == (2, 1, 0, 1)
    assert not_acted.share_repaired == 1.0 and not_acted.median_sessions_to_repair == 1.0


def test_plain_records_give_the_same_report_as_data_frames():
    from_frames = signal_report(signals(), sessions(), ACTIONS)
    from_records = signal_report(signals().to_dict("records"), sessions().to_dict("records"),
                                 [{"signal_id": i} for i in ACTIONS["signal_id"]])
    assert from_records.to_dict() == from_frames.to_dict()


def test_the_report_as_json_ready_values_gives_none_for_what_cannot_be_computed():
    report = signal_report([], [{"client_id": "A", "attended": 0}], None)
    data = report.to_dict()
    assert data["attended_sessions"] == 0 and data["cases"] == 1
    assert data["rates"][0] == {"type": "rupture", "count": 0, "with_action": 0,
                                "without_action": 0, "per_100_sessions": None,
                                "with_action_per_100": None, "without_action_per_100": None}
    assert data["repair"][0] == {"group": "all", "ruptures": 0, "repaired": 0,
                                 "unresolved": 0, "pending": 0, "decided": 0,
                                 "share_repaired": None, "median_sessions_to_repair": None}
    assert math.isnan(report.rate("rupture").per_100_sessions)


def test_a_clinic_with_only_pending_ruptures_has_no_share_yet():
    report = signal_report(
        [{"signal_id": 1, "type": "rupture", "session": 4, "repair_state": "pending"}],
        [{"attended": 1}] * 4)
    summary = report.repair_group("all")
    assert summary.pending == 1 and summary.decided == 0
    assert math.isnan(summary.share_repaired) and math.isnan(summary.median_sessions_to_repair)
    assert report.rate("rupture").per_100_sessions == 25.0


def test_types_chooses_and_orders_the_rows():
    report = signal_report(signals(), sessions(), ACTIONS,
                           types=["disengagement", "rupture", "client_feedback"])
    assert [r.type for r in report.rates] == ["disengagement", "rupture", "client_feedback"]
    assert report.rate("client_feedback").count == 0


@pytest.mark.parametrize("change, message", [
    (lambda s: s.drop(columns=["type"]), "column(s) type"),
    (lambda s: pd.concat([s, s.iloc[[0]]]), "appears more than once"),
    (lambda s: s.assign(repair_state=s["repair_state"].replace("pending", "waiting")),
     "unknown repair state 'waiting'"),
    (lambda s: s.assign(repaired_session=s["repaired_session"].where(s["signal_id"] != 1)),
     "repaired_session after its own session"),
    (lambda s: s.assign(repaired_session=s["repaired_session"].where(s["signal_id"] != 3, 4)),
     "repaired_session after its own session"),
    (lambda s: s.assign(session=s["session"].where(s["signal_id"] != 2)),
     "every rupture needs a session number"),
])
def test_malformed_signals_are_an_input_error_that_says_what_is_wrong(change, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        signal_report(change(signals()), sessions(), ACTIONS)


def test_attended_must_be_one_or_zero():
    with pytest.raises(InputError, match="attended must be 1 or 0"):
        signal_report(signals(), sessions().assign(attended=2), ACTIONS)

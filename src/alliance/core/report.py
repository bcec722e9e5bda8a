"""How often signals fire, and how ruptures turn out: a clinic's signal report.

`signal_report` summarises stored signals over the sessions they were computed on: how
often each type of signal fires per 100 attended sessions, the share of ruptures repaired
(of those whose repair window has closed) and the median number of sessions to a repair,
each overall and split by whether a repair action was recorded. A clinic uses it to keep
its alert load reasonable (tuning the rules and thresholds in docs/signals.md) and to see
whether its repair work goes with more repairs.

The comparison with and without a recorded repair action describes the clinic's own
cases; it is not a controlled comparison (therapists may record actions for the harder
ruptures, or only once a repair is under way).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .signals.records import SIGNAL_TYPES

REPAIRED = "repaired"
UNRESOLVED = "unresolved"
PENDING = "pending"
REPAIR_STATES = (REPAIRED, UNRESOLVED, PENDING)

#: The groups of the repair summary, in the order reports list them.
GROUPS = ("all", "with_action", "without_action")


def _number(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass(frozen=True)
class SignalRate:
    """How often one type of signal fired.

    Attributes
    ----------
    type : the signal type.
    count : signals of this type.
    with_action, without_action : of those, with at least one recorded repair action, and
        without one (``with_action + without_action = count``).
    per_100_sessions : ``100 · count / N``, N the attended sessions (NaN when N = 0).
    with_action_per_100, without_action_per_100 : the same for each part.
    """

    type: str
    count: int
    with_action: int
    without_action: int
    per_100_sessions: float
    with_action_per_100: float
    without_action_per_100: float

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "count": self.count, "with_action": self.with_action,
                "without_action": self.without_action,
                "per_100_sessions": _number(self.per_100_sessions),
                "with_action_per_100": _number(self.with_action_per_100),
                "without_action_per_100": _number(self.without_action_per_100)}


@dataclass(frozen=True)
class RepairSummary:
    """How the ruptures of one group turned out.

    Attributes
    ----------
    group : "all", "with_action" (at least one repair action recorded) or
        "without_action".
    ruptures : ruptures in the group.
    repaired, unresolved, pending : by repair state (see docs/signals.md, "Repair").
    decided : ``repaired + unresolved``, the ruptures whose outcome is known.
    share_repaired : ``repaired / decided`` (NaN when nothing is decided yet).
    median_sessions_to_repair : median of ``repaired_session − session`` over the
        repaired ruptures (NaN when none is repaired).
    """

    group: str
    ruptures: int
    repaired: int
    unresolved: int
    pending: int
    share_repaired: float
    median_sessions_to_repair: float

    @property
    def decided(self) -> int:
        return self.repaired + self.unresolved

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "ruptures": self.ruptures, "repaired": self.repaired,
                "unresolved": self.unresolved, "pending": self.pending,
                "decided": self.decided, "share_repaired": _number(self.share_repaired),
                "median_sessions_to_repair": _number(self.median_sessions_to_repair)}


@dataclass(frozen=True)
class SignalReport:
    """A clinic's signal report (see `signal_report`).

    Attributes
    ----------
    attended_sessions : N, the attended sessions the rates are per.
    cases : distinct clients (cases) in the sessions table.
    rates : one `SignalRate` per signal type, in the order of `types`.
    repair : the `RepairSummary` of all ruptures, those with a recorded repair action and
        those without, in the order of `GROUPS`.
    """

    attended_sessions: int
    cases: int
    rates: tuple[SignalRate, ...]
    repair: tuple[RepairSummary, ...]

    def rate(self, signal_type: str) -> SignalRate:
        for row in self.rates:
            if row.type == signal_type:
                return row
        raise KeyError(signal_type)

    def repair_group(self, group: str) -> RepairSummary:
        for row in self.repair:
            if row.group == group:
                return row
        raise KeyError(group)

    def to_dict(self) -> dict[str, Any]:
        return {"attended_sessions": self.attended_sessions, "cases": self.cases,
                "rates": [r.to_dict() for r in self.rates],
                "repair": [r.to_dict() for r in self.repair]}


def _frame(data, name: str, required: tuple[str, ...]) -> pd.DataFrame:
    if data is None:
        data = []
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, Mapping):
        frame = pd.DataFrame(data)
    else:
        frame = pd.DataFrame(list(data))
    missing = [c for c in required if c not in frame.columns]
    if missing and len(frame):
        raise InputError(f"{name} need the column(s) {', '.join(missing)}")
    if missing:  # an empty table: give it the columns, so that counting works
        frame = frame.reindex(columns=[*frame.columns, *missing])
    return frame


def _session_numbers(values: pd.Series, what: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    if np.isnan(numbers).any():
        raise InputError(f"every {what} needs a session number")
    return numbers


def signal_report(signals: pd.DataFrame | Iterable[Mapping],
                  sessions: pd.DataFrame | Iterable[Mapping],
                  actions: pd.DataFrame | Iterable[Mapping] | None = None, *,
                  types: Iterable[str] | None = None,
                  rupture_type: str = "rupture") -> SignalReport:
    """How often signals fire and how ruptures turn out, with and without repair actions.

    Parameters
    ----------
    signals : one row per signal, with columns ``signal_id`` and ``type``; ruptures also
        need ``session`` (the session number it fired at), ``repair_state``
        ("repaired", "unresolved" or "pending") and, when repaired,
        ``repaired_session`` (the session number of the repair).
    sessions : one row per scheduled session of the same cases, with ``attended``
        (1 or 0) and optionally ``client_id`` (to count the cases).
    actions : recorded repair actions, with ``signal_id``; a signal has a repair action
        when at least one row names it. Rows naming no signal in `signals` are ignored.
    types : the signal types to report, in order (default: the types of
        `alliance.core.signals.SIGNAL_TYPES` plus any other type present, in order of
        first appearance). A type without signals gets a row of zeros.
    rupture_type : the type whose repair states are summarised.

    Returns
    -------
    SignalReport

    Raises
    ------
    InputError
        A required column is missing, a signal id is repeated, ``attended`` is not 1 or 0,
        a rupture has no session number or an unknown repair state, or a repaired rupture
        has no repair session after its own session.

    Notes
    -----
    With N the attended sessions, n_k the signals of type k, and n_k⁺, n_k⁻ those with
    and without a recorded repair action:

        rate_k = 100 · n_k / N,   rate_k⁺ = 100 · n_k⁺ / N,   rate_k⁻ = 100 · n_k⁻ / N

    For the ruptures of a group (all, with, without a recorded action), with R repaired,
    U unresolved and P pending (their repair window still open):

        share repaired = R / (R + U)

    pending ruptures counted separately, since their outcome is not known yet. For each
    repaired rupture, with t its session and r the session of the repair,
    d = r − t sessions (a difference of session numbers, so a missed session in between
    counts); the median of d over the repaired ruptures (the mean of the two middle values
    when their number is even) is the median sessions to repair. A rate is NaN when
    N = 0, a share when R + U = 0 and a median when R = 0.

    References
    ----------
    Eubanks, C. F., Muran, J. C., & Safran, J. D. (2018). Alliance rupture repair: A
    meta-analysis. *Psychotherapy, 55*(4), 508–519.

    Examples
    --------
    >>> report = signal_report(
    ...     [{"signal_id": 1, "type": "rupture", "session": 3, "repair_state": "repaired",
    ...       "repaired_session": 5},
    ...      {"signal_id": 2, "type": "low_alliance"}],
    ...     [{"client_id": "A", "attended": 1}] * 8 + [{"client_id": "A", "attended": 0}],
    ...     [{"signal_id": 1}])
    >>> report.rate("rupture").per_100_sessions
    12.5
    >>> report.repair_group("with_action").median_sessions_to_repair
    2.0
    """
    signals = _frame(signals, "signals", ("signal_id", "type"))
    sessions = _frame(sessions, "sessions", ("attended",))
    actions = _frame(actions, "repair actions", ("signal_id",))

    ids = signals["signal_id"]
    if ids.isna().any():
        raise InputError("every signal needs a signal_id")
    if ids.duplicated().any():
        raise InputError(f"signal_id {ids[ids.duplicated()].iloc[0]!r} appears more than once")
    attended = pd.to_numeric(sessions["attended"], errors="coerce")
    if not attended.isin([0, 1]).all():
        raise InputError("attended must be 1 or 0 in every session row")
    n_sessions = int((attended == 1).sum())
    n_cases = int(sessions["client_id"].nunique()) if "client_id" in sessions.columns else 0

    acted = ids.isin(set(actions["signal_id"].dropna()))
    kinds = signals["type"].astype(str)
    if types is None:
        present = list(dict.fromkeys(kinds))
        order = [*SIGNAL_TYPES, *(k for k in present if k not in SIGNAL_TYPES)]
    else:
        order = list(dict.fromkeys(types))

    def per_100(count: int) -> float:
        return 100.0 * count / n_sessions if n_sessions else math.nan

    rates = []
    for kind in order:
        mine = kinds == kind
        count, with_action = int(mine.sum()), int((mine & acted).sum())
        rates.append(SignalRate(kind, count, with_action, count - with_action, per_100(count),
                                per_100(with_action), per_100(count - with_action)))

    ruptures = signals[kinds == rupture_type]
    rupture_acted = acted[kinds == rupture_type].to_numpy(dtype=bool)
    if len(ruptures):
        for column in ("session", "repair_state"):
            if column not in ruptures.columns:
                raise InputError(f"ruptures need the column {column}")
        states = ruptures["repair_state"].astype(str).to_numpy()
        unknown = sorted(set(states) - set(REPAIR_STATES))
        if unknown:
            raise InputError(f"unknown repair state {unknown[0]!r}: use repaired, unresolved "
                             f"or pending")
        started = _session_numbers(ruptures["session"], "rupture")
        repaired = states == REPAIRED
        if repaired.any():
            if "repaired_session" not in ruptures.columns:
                raise InputError("repaired ruptures need the column repaired_session")
            back = pd.to_numeric(ruptures["repaired_session"], errors="coerce"
                                 ).to_numpy(dtype=float)
            if np.isnan(back[repaired]).any() or (back[repaired] <= started[repaired]).any():
                raise InputError("a repaired rupture needs a repaired_session after its own "
                                 "session")
            to_repair = back - started
        else:
            to_repair = np.full(len(states), np.nan)
    else:
        states = np.array([], dtype=str)
        to_repair = np.array([], dtype=float)

    summaries = []
    for group in GROUPS:
        if group == "all":
            keep = np.ones(len(states), dtype=bool)
        elif group == "with_action":
            keep = rupture_acted
        else:
            keep = ~rupture_acted
        s = states[keep]
        n_repaired = int((s == REPAIRED).sum())
        n_unresolved = int((s == UNRESOLVED).sum())
        decided = n_repaired + n_unresolved
        gaps = to_repair[keep][s == REPAIRED]
        summaries.append(RepairSummary(
            group=group, ruptures=int(keep.sum()), repaired=n_repaired,
            unresolved=n_unresolved, pending=int((s == PENDING).sum()),
            share_repaired=n_repaired / decided if decided else math.nan,
            median_sessions_to_repair=float(np.median(gaps)) if len(gaps) else math.nan))
    return SignalReport(attended_sessions=n_sessions, cases=n_cases, rates=tuple(rates),
                        repair=tuple(summaries))

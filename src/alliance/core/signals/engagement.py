"""Disengagement: sessions that did not take place, unanswered check-ins, long gaps.

Withdrawal often shows here before it shows in the ratings.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pandas as pd

from ..errors import InputError
from ._groups import Groups, client_codes, group_rows, run_lengths, session_numbers
from .records import Signal, plain, session_value


def disengagement(client, session, attended, *, score=None, date=None,
                  missed_in_a_row: int = 2, unanswered_in_a_row: int = 3,
                  gap_factor: float = 2.0, gap_min_days: float = 21.0,
                  gap_min_intervals: int = 2, as_of=None) -> list[Signal]:
    """Signs that a client may be drifting away from therapy.

    Parameters
    ----------
    client, session : array-likes, one element per scheduled session.
    attended : 1 when the session took place, 0 when it was cancelled or missed.
    score : the client's check-in score per row (NaN = unanswered); enables the
        unanswered check-ins rule.
    date : dates of the sessions; enables the long gap rule.
    missed_in_a_row : N for rule "missed_in_a_row" (default 2).
    unanswered_in_a_row : N for rule "unanswered_in_a_row" (default 3).
    gap_factor, gap_min_days, gap_min_intervals : rule "long_gap" (defaults 2, 21
        days, 2 earlier intervals).
    as_of : optional date ("today"); also flags a gap that is still open then.

    Notes
    -----
    - missed_in_a_row: the N-th consecutive scheduled session with attended = 0
      (fires once per run, at the session that completes N).
    - unanswered_in_a_row: the N-th consecutive attended session whose check-in
      is unanswered (sessions that did not take place are skipped).
    - long_gap: between consecutive attended sessions, interval g_k (days) with
      g_k > factor · median(g_1 … g_(k−1)) and g_k > min_days, once at least
      ``gap_min_intervals`` earlier intervals exist. Fires at the session that
      ends the gap; with ``as_of``, the open gap since the last attended
      session is judged the same way (signal without a session).

    Each rule uses only sessions up to the one at which it fires.
    """
    for name, value in (("missed_in_a_row", missed_in_a_row),
                        ("unanswered_in_a_row", unanswered_in_a_row),
                        ("gap_min_intervals", gap_min_intervals)):
        if int(value) != value or value < 1:
            raise InputError(f"{name} must be a whole number ≥ 1, not {value!r}")
    codes, labels = client_codes(client)
    sessions = session_numbers(session)
    came = np.asarray(attended, dtype=float)
    if not np.isin(came, (0.0, 1.0)).all():
        bad = came[~np.isin(came, (0.0, 1.0))][0]
        raise InputError(f"attended must be 1 or 0, not {bad!r}")
    came = came.astype(bool)
    signals = _missed(codes, labels, sessions, came, int(missed_in_a_row))
    if score is not None:
        signals += _unanswered(codes, labels, sessions, came, np.asarray(score, dtype=float),
                               int(unanswered_in_a_row))
    if date is not None:
        signals += _gaps(codes, labels, sessions, came, _days(date), float(gap_factor),
                         float(gap_min_days), int(gap_min_intervals), as_of)
    return signals


def _days(date) -> np.ndarray:
    parsed = pd.to_datetime(pd.Series(np.asarray(date, dtype=object)), errors="coerce")
    return (parsed - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float, na_value=np.nan)


def _runs(codes, labels, sessions, keep, flag, n) -> tuple[Groups, np.ndarray]:
    groups = group_rows(codes, labels, sessions, keep)
    run = run_lengths(flag[groups.order], groups)
    return groups, np.flatnonzero(run == n)


def _missed(codes, labels, sessions, came, n) -> list[Signal]:
    groups, at = _runs(codes, labels, sessions, None, ~came, n)
    parameters = MappingProxyType({"missed_in_a_row": n})
    signals = []
    for i in at:
        first, last = sessions[groups.order[i - n + 1]], sessions[groups.order[i]]
        signals.append(Signal(
            type="disengagement", client_id=plain(labels[groups.code[i]]),
            session=session_value(last), rule="missed_in_a_row", parameters=parameters,
            data={"missed": n, "from_session": session_value(first),
                  "to_session": session_value(last)},
            explanation=(f"{n} scheduled sessions in a row did not take place "
                         f"({_span(first, last)}); a friendly check-in may help.")))
    return signals


def _unanswered(codes, labels, sessions, came, score, n) -> list[Signal]:
    groups, at = _runs(codes, labels, sessions, came, np.isnan(score), n)
    parameters = MappingProxyType({"unanswered_in_a_row": n})
    signals = []
    for i in at:
        first, last = sessions[groups.order[i - n + 1]], sessions[groups.order[i]]
        signals.append(Signal(
            type="disengagement", client_id=plain(labels[groups.code[i]]),
            session=session_value(last), rule="unanswered_in_a_row", parameters=parameters,
            data={"unanswered": n, "from_session": session_value(first),
                  "to_session": session_value(last)},
            explanation=(f"The check-in was left unanswered at {n} attended sessions in a row "
                         f"({_span(first, last)}); it may be worth asking how it feels to "
                         f"fill it in.")))
    return signals


def _gaps(codes, labels, sessions, came, days, factor, min_days, min_intervals,
          as_of) -> list[Signal]:
    groups = group_rows(codes, labels, sessions, came & ~np.isnan(days))
    d = days[groups.order]
    interval = np.full(len(d), np.nan)
    has_prior = groups.pos >= 1
    interval[1:][has_prior[1:]] = (d[1:] - d[:-1])[has_prior[1:]]
    usual = _running_median(interval, groups, min_intervals)
    with np.errstate(invalid="ignore"):
        fired = np.flatnonzero((interval > factor * usual) & (interval > min_days))
    parameters = MappingProxyType({"gap_factor": factor, "gap_min_days": min_days,
                                   "gap_min_intervals": min_intervals})
    signals = []
    for i in fired:
        before, now = sessions[groups.order[i - 1]], sessions[groups.order[i]]
        signals.append(_gap_signal(labels[groups.code[i]], session_value(now), parameters,
                                   interval[i], usual[i], before, now))
    if as_of is not None and len(d):
        today = float((pd.Timestamp(as_of) - pd.Timestamp("1970-01-01")).days)
        # The open gap would be the next interval: judged against all intervals so far.
        usual_now = _running_median(interval, groups, min_intervals, include_own=True)
        for i in np.flatnonzero(groups.later == 0):
            open_gap = today - d[i]
            if open_gap > factor * usual_now[i] and open_gap > min_days:
                signals.append(_gap_signal(labels[groups.code[i]], None, parameters, open_gap,
                                           usual_now[i], sessions[groups.order[i]], None))
    return signals


def _running_median(interval: np.ndarray, groups: Groups, min_intervals: int, *,
                    include_own: bool = False) -> np.ndarray:
    """Median of a client's intervals before each row (or up to and including its own).

    Only for rows with at least ``min_intervals`` such intervals; NaN elsewhere.
    One pass per position in the course, vectorised over clients: the row at
    position j has earlier intervals at positions 1 … j − 1 (1 … j with
    ``include_own``).
    """
    usual = np.full(len(interval), np.nan)
    longest = int(groups.pos.max()) if len(groups.pos) else 0
    own = 1 if include_own else 0
    for j in range(max(min_intervals + 1 - own, 1), longest + 1):
        rows = np.flatnonzero(groups.pos == j)
        earlier = rows[:, None] - np.arange(j - 1, -own, -1)[None, :]
        usual[rows] = np.median(interval[earlier], axis=1)
    return usual


def _gap_signal(client_id, session, parameters, gap, usual, before, now) -> Signal:
    if now is None:
        text = (f"It has been {gap:.0f} days since the last session (session "
                f"{session_value(before)}), more than {parameters['gap_factor']:g} times this "
                f"client's usual {usual:.0f} days between sessions.")
    else:
        text = (f"{gap:.0f} days passed between sessions {session_value(before)} and "
                f"{session_value(now)}, more than {parameters['gap_factor']:g} times this "
                f"client's usual {usual:.0f} days between sessions.")
    return Signal(type="disengagement", client_id=plain(client_id), session=session,
                  rule="long_gap",
                  parameters=parameters,
                  data={"gap_days": float(gap), "usual_days": float(usual),
                        "from_session": session_value(before),
                        "to_session": None if now is None else session_value(now),
                        "open": now is None},
                  explanation=text)


def _span(first, last) -> str:
    return f"sessions {session_value(first)}–{session_value(last)}"

"""Not on track: an outcome score outside the band expected for this client at this session."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from ..errors import InputError
from ._groups import client_codes, cumsum_within, group_rows, session_numbers
from .records import Signal, bound_text, number, plain, session_text, session_value

#: Rated sessions in a row below the expected band before "not on track" fires. With an
#: 80% band a client on track is below it at one session in ten by chance alone; asking
#: for two in a row about halved the alerts on both simulated clinics while the
#: clients who truly improved least were still flagged (docs/signals.md, "Not on track").
PERSISTENCE = 2


def not_on_track(client, session, observed, low, high, *, expected=None,
                 higher_is_better: bool = True, persistence: int = PERSISTENCE,
                 score_label: str = "Wellbeing") -> list[Signal]:
    """Sessions whose outcome is worse than the expected band for the client.

    The band comes from the caller, row by row (for example from the expected
    treatment response model of `alliance.core.expected`, see `expected_bands`),
    so this detector does not depend on how the band was made.

    Parameters
    ----------
    client, session, observed : array-likes, one element per row (NaN observed = not rated).
    low, high : lower and upper end of the expected band for each row (NaN = no band).
    expected : optional expected value for each row, reported with the signal.
    higher_is_better : True when a higher outcome score is better (default).
    persistence : rated sessions in a row (among those with a band) that must be
        outside the band before it fires (default `PERSISTENCE`, 2; 1 fires at
        every such session).

    Notes
    -----
    A session is off track when y_t < low_t (higher is better) or y_t > high_t (lower
    is better). The signal fires at a session that is off track and whose previous
    ``persistence − 1`` rated sessions with a band were off track too, and at every
    later session while the run lasts. Sessions without a score or a band are
    skipped: they neither break a run nor extend it.
    """
    if isinstance(persistence, bool) or int(persistence) != persistence or persistence < 1:
        raise InputError(f"persistence must be a whole number of sessions ≥ 1, not "
                         f"{persistence!r}")
    codes, labels = client_codes(client)
    sessions = session_numbers(session)
    y = np.asarray(observed, dtype=float)
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    mid = np.full(len(y), np.nan) if expected is None else np.asarray(expected, dtype=float)
    if not len(y) == len(low) == len(high) == len(mid) == len(codes):
        raise InputError("observed scores and expected bands must have one value per row")
    judged = ~np.isnan(y) & ~np.isnan(low if higher_is_better else high)
    with np.errstate(invalid="ignore"):
        off = judged & (y < low if higher_is_better else y > high)
    run = _run_lengths(off, codes, labels, sessions, judged)
    fired = np.flatnonzero(off & (run >= persistence))
    parameters = MappingProxyType({"score": score_label, "higher_is_better": higher_is_better,
                                   "persistence": int(persistence)})
    side = "below" if higher_is_better else "above"
    return [Signal(
        type="not_on_track", client_id=plain(labels[codes[i]]), session=session_value(sessions[i]),
        rule="expected_band", parameters=parameters,
        data={"observed": float(y[i]), "expected": plain(float(mid[i])),
              "low": float(low[i]), "high": float(high[i]), "sessions_in_a_row": int(run[i])},
        explanation=(f"{score_label} was {number(y[i])} at {session_text(sessions[i])}, {side} "
                     f"the range of {bound_text(low[i], y[i])}–{bound_text(high[i], y[i])} "
                     f"expected at this point for clients who started at a similar level"
                     + (f", for {int(run[i])} rated sessions in a row" if run[i] > 1 else "")
                     + ": progress is slower than usual."))
        for i in fired]


def _run_lengths(off: np.ndarray, codes, labels, sessions, judged: np.ndarray) -> np.ndarray:
    """For each judged row, how many judged rows in a row (ending here) were off track."""
    run = np.zeros(len(off), dtype=np.int64)
    groups = group_rows(codes, labels, sessions, judged)
    if groups.n == 0:
        return run
    flag = off[groups.order].astype(np.int64)
    total = cumsum_within(flag, groups)
    # Off-track rows since the last on-track row: the running count minus its value there.
    reset = np.where(flag == 0, total, 0)
    last_reset = np.maximum.accumulate(np.where(flag == 0, np.arange(groups.n), -1))
    base = np.where((last_reset >= groups.first), reset[np.maximum(last_reset, 0)], 0)
    run[groups.order] = total - base
    return run


def intake_scores(client, session, observed) -> np.ndarray:
    """Each row's intake score: the client's first rated outcome (by session)."""
    codes, labels = client_codes(client)
    sessions = session_numbers(session)
    y = np.asarray(observed, dtype=float)
    rated = ~np.isnan(y)
    groups = group_rows(codes, labels, sessions, rated)
    first = np.full(len(labels), np.nan)
    at_start = groups.pos == 0
    first[groups.code[at_start]] = y[groups.order[at_start]]
    return first[codes]


def expected_bands(model, client, session, observed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Expected value and band for each row from a fitted expected-response model.

    Parameters
    ----------
    model : any object with ``band(intake, session)`` returning, for arrays of
        intakes and sessions, the expected value and the low and high ends of
        the band: a tuple, or an object with attributes ``expected`` and
        ``lower``/``upper`` (or ``low``/``high``), such as the model of
        `alliance.core.expected.fit_expected_response`.
    client, session, observed : array-likes, one element per row.

    Returns
    -------
    (expected, low, high) : arrays per row; NaN at a client's intake session and
        wherever the client has no intake score.
    """
    sessions = session_numbers(session)
    intake = intake_scores(client, sessions, observed)
    y = np.asarray(observed, dtype=float)
    codes, labels = client_codes(client)
    # Rows after the intake session: the intake itself is not judged against its band.
    groups = group_rows(codes, labels, sessions, ~np.isnan(y))
    first_session = np.full(len(labels), np.nan)
    at_start = groups.pos == 0
    first_session[groups.code[at_start]] = sessions[groups.order[at_start]]
    judged = np.flatnonzero(~np.isnan(intake) & (sessions > first_session[codes]))
    out = [np.full(len(y), np.nan) for _ in range(3)]
    if len(judged):
        band = model.band(intake[judged], sessions[judged])
        if hasattr(band, "lower"):
            parts = (band.expected, band.lower, band.upper)
        elif hasattr(band, "low"):
            parts = (band.expected, band.low, band.high)
        else:
            parts = tuple(band)
        for target, values in zip(out, parts):
            target[judged] = np.asarray(values, dtype=float)
    return out[0], out[1], out[2]

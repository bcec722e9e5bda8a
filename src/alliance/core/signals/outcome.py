"""Not on track: an outcome score outside the band expected for this client at this session."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from ..errors import InputError
from ._groups import client_codes, group_rows, session_numbers
from .records import Signal, bound_text, number, plain, session_text, session_value


def not_on_track(client, session, observed, low, high, *, expected=None,
                 higher_is_better: bool = True, score_label: str = "Wellbeing") -> list[Signal]:
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

    Notes
    -----
    Fires when y_t < low_t (higher is better) or y_t > high_t (lower is better).
    """
    codes, labels = client_codes(client)
    sessions = session_numbers(session)
    y = np.asarray(observed, dtype=float)
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    mid = np.full(len(y), np.nan) if expected is None else np.asarray(expected, dtype=float)
    if not len(y) == len(low) == len(high) == len(mid) == len(codes):
        raise InputError("observed scores and expected bands must have one value per row")
    with np.errstate(invalid="ignore"):
        fired = np.flatnonzero(y < low if higher_is_better else y > high)
    parameters = MappingProxyType({"score": score_label, "higher_is_better": higher_is_better})
    side = "below" if higher_is_better else "above"
    return [Signal(
        type="not_on_track", client_id=plain(labels[codes[i]]), session=session_value(sessions[i]),
        rule="expected_band", parameters=parameters,
        data={"observed": float(y[i]), "expected": plain(float(mid[i])),
              "low": float(low[i]), "high": float(high[i])},
        explanation=(f"{score_label} was {number(y[i])} at {session_text(sessions[i])}, {side} "
                     f"the range of {bound_text(low[i], y[i])}–"
                     f"{bound_text(high[i], y[i])} expected at this point for clients who started at a similar level: progress is "
                     f"slower than usual."))
        for i in fired]


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

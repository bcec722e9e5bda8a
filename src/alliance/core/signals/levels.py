"""Signals about the level of the alliance: low alliance and client–therapist discrepancy."""

from __future__ import annotations

import math
from types import MappingProxyType

import numpy as np
import pandas as pd

from ..errors import InputError
from ..scoring import pomp
from ._groups import TOLERANCE, client_codes, session_numbers
from .records import Signal, bound_text, number, rows_of


def percentile_of_sorted(sorted_values: np.ndarray, percentile: float) -> float:
    """The p-th percentile of sorted values, linear interpolation (numpy's default, type 7).

    Notes
    -----
    h = (n − 1) · p / 100; q = x_(⌊h⌋) + (h − ⌊h⌋) · (x_(⌊h⌋+1) − x_(⌊h⌋)), with
    x_(0) ≤ … ≤ x_(n−1) the sorted values.

    References
    ----------
    Hyndman, R. J., & Fan, Y. (1996). Sample quantiles in statistical packages.
    The American Statistician, 50(4), 361–365 (definition 7).
    """
    n = len(sorted_values)
    h = (n - 1) * percentile / 100.0
    lo = int(math.floor(h))
    hi = min(lo + 1, n - 1)
    return float(sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo]))


def clinic_percentiles(session, score, *, date=None, percentile: float = 10.0,
                       min_reference: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the clinic's p-th percentile of scores at the same session number.

    Parameters
    ----------
    session, score : array-likes, one element per row; NaN score = not rated.
    date : optional array-like of dates. When given, a row's reference group is
        the rated scores at the same session number dated on or before that row's
        date (no look-ahead in calendar time); without dates it is all rated
        scores at that session number in the input.
    percentile : p, between 0 and 100 (default 10).
    min_reference : smallest reference group for which a percentile is given.

    Returns
    -------
    (threshold, n_reference) : arrays per row; threshold is NaN where the row is
        not rated or its reference group is smaller than ``min_reference``.
    """
    if not 0 < percentile < 100:
        raise InputError(f"the percentile must be between 0 and 100, not {percentile:g}")
    sessions = session_numbers(session)
    values = np.asarray(score, dtype=float)
    threshold = np.full(len(values), np.nan)
    n_reference = np.zeros(len(values), dtype=np.int64)
    rated = np.flatnonzero(~np.isnan(values))
    days = None if date is None else _day_numbers(date)
    if days is not None:
        rated = rated[~np.isnan(days[rated])]
    # Sort once by session number (then date), then one pass per distinct session
    # number (a handful), vectorised within it.
    keys = (sessions[rated],) if days is None else (days[rated], sessions[rated])
    rated = rated[np.lexsort(keys)]
    cuts = np.flatnonzero(np.diff(sessions[rated])) + 1
    for rows in np.split(rated, cuts):
        if not len(rows):
            continue
        if days is None:
            if len(rows) >= min_reference:
                threshold[rows] = percentile_of_sorted(np.sort(values[rows]), percentile)
            n_reference[rows] = len(rows)
        else:
            _expanding_by_date(rows, values, days, percentile, min_reference, threshold,
                               n_reference)
    return threshold, n_reference


def _expanding_by_date(rows, values, days, percentile, min_reference, threshold, n_reference):
    """Percentile of everything dated on or before each distinct date, in date order."""
    row_days = days[rows]
    cuts = np.flatnonzero(np.diff(row_days)) + 1
    bounds = np.concatenate(([0], cuts, [len(rows)]))
    seen = np.empty(0)
    for begin, end in zip(bounds[:-1], bounds[1:]):
        block = np.sort(values[rows[begin:end]])
        seen = np.insert(seen, np.searchsorted(seen, block), block)
        n_reference[rows[begin:end]] = len(seen)
        if len(seen) >= min_reference:
            threshold[rows[begin:end]] = percentile_of_sorted(seen, percentile)


def _day_numbers(date) -> np.ndarray:
    parsed = pd.to_datetime(pd.Series(np.asarray(date, dtype=object)), errors="coerce")
    days = (parsed - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float, na_value=np.nan)
    return days


def low_alliance(client, session, score, *, date=None, cutoff: float | None = None,
                 cutoff_inclusive: bool = False, percentile: float = 10.0,
                 min_reference: int = 20,
                 score_label: str = "Alliance") -> list[Signal]:
    """Sessions whose alliance score is low: below a cutoff, or below a clinic percentile.

    Parameters
    ----------
    client, session, score : array-likes, one element per row; NaN score = not rated.
    date : optional dates; used for the percentile's reference group (see
        `clinic_percentiles`).
    cutoff : the instrument's cutoff. When given, a score strictly below it fires
        (rule "cutoff") and no percentile is used.
    cutoff_inclusive : a score exactly at the cutoff fires too (for instruments whose
        cutoff reads "at or below", e.g. SRS ≤ 36).
    percentile, min_reference : rule "percentile" (default: below the clinic's
        10th percentile at the same session number, once at least 20 scores
        form the reference group).
    score_label : name of the score in explanations.

    Notes
    -----
    Rule "cutoff": a_t < c (a_t ≤ c when inclusive). Rule "percentile": a_t < q_p(k, d), the p-th
    percentile (`percentile_of_sorted`) of the rated scores at session number k
    dated on or before d (all scores at k when there are no dates). The group
    includes the client's own score. Only data up to the session is used.
    """
    codes, labels = client_codes(client)
    sessions = session_numbers(session)
    values = np.asarray(score, dtype=float)
    if cutoff is not None:
        cutoff = float(cutoff)
        limit = cutoff + TOLERANCE if cutoff_inclusive else cutoff - TOLERANCE
        fired = np.flatnonzero(values < limit)
        words = "at or below" if cutoff_inclusive else "below"
        parameters = MappingProxyType({"score": score_label, "cutoff": cutoff,
                                       "at_or_below": bool(cutoff_inclusive)})
        ids, sess = rows_of(fired, codes, labels, sessions)
        return [Signal(
            type="low_alliance", client_id=c, session=t, rule="cutoff", parameters=parameters,
            data={"score": a, "cutoff": cutoff},
            explanation=(f"{score_label} was {number(a)} at session {t}, {words} this "
                         f"questionnaire's cutoff of {bound_text(cutoff, a)}."))
            for c, t, a in zip(ids, sess, values[fired].tolist())]
    threshold, n_reference = clinic_percentiles(sessions, values, date=date, percentile=percentile,
                                                min_reference=min_reference)
    with np.errstate(invalid="ignore"):
        fired = np.flatnonzero(values < threshold - TOLERANCE)
    group = "on or before the same date" if date is not None else "in this data"
    parameters = MappingProxyType({"score": score_label, "percentile": percentile,
                                   "min_reference": min_reference,
                                   "reference_group": "same session number, " + group})
    share = f"{percentile:g}%"
    ids, sess = rows_of(fired, codes, labels, sessions)
    return [Signal(
        type="low_alliance", client_id=c, session=t, rule="percentile", parameters=parameters,
        data={"score": a, "threshold": q, "n_reference": n},
        explanation=(f"{score_label} was {number(a)} at session {t}, among the lowest {share} "
                     f"of this clinic's ratings at that point in therapy (below "
                     f"{bound_text(q, a)})."))
        for c, t, a, q, n in zip(ids, sess, values[fired].tolist(), threshold[fired].tolist(),
                                 n_reference[fired].tolist())]


def discrepancy(client, session, client_score, therapist_score, *, threshold: float = 20.0,
                client_scale: tuple[float, float] = (0.0, 10.0),
                therapist_scale: tuple[float, float] | None = None,
                score_label: str = "alliance") -> list[Signal]:
    """Sessions where the therapist rated the alliance much higher than the client did.

    Parameters
    ----------
    client, session : array-likes, one element per row.
    client_score, therapist_score : the client's and the therapist's ratings of
        the same session (NaN when missing).
    threshold : POMP points (0–100) by which the therapist's rating must exceed
        the client's to fire (default 20).
    client_scale, therapist_scale : (minimum, maximum) of each form; the
        therapist's defaults to the client's.

    Notes
    -----
    d_t = POMP(therapist_t) − POMP(client_t), POMP(x) = (x − min) / (max − min) · 100;
    fires when d_t > threshold. A therapist may then be seeing a better alliance
    than the client feels.
    """
    therapist_scale = therapist_scale or client_scale
    codes, labels = client_codes(client)
    sessions = session_numbers(session)
    ours = pomp(np.asarray(client_score, dtype=float), *client_scale)
    theirs = pomp(np.asarray(therapist_score, dtype=float), *therapist_scale)
    gap = np.asarray(theirs - ours, dtype=float)
    with np.errstate(invalid="ignore"):
        fired = np.flatnonzero(gap - threshold > TOLERANCE)
    parameters = MappingProxyType({"threshold_pomp": float(threshold),
                                   "client_scale": list(client_scale),
                                   "therapist_scale": list(therapist_scale)})
    client_values = np.asarray(client_score, dtype=float)[fired].tolist()
    therapist_values = np.asarray(therapist_score, dtype=float)[fired].tolist()
    ids, sess = rows_of(fired, codes, labels, sessions)
    return [Signal(
        type="discrepancy", client_id=c, session=t, rule="pomp_difference", parameters=parameters,
        data={"client_score": a, "therapist_score": b, "client_pomp": pa, "therapist_pomp": pb,
              "difference": d},
        explanation=(f"At session {t} the therapist rated the {score_label} {d:.0f} points "
                     f"out of 100 higher than the client did, so the client may be "
                     f"experiencing the work together less positively (exploratory)."))
        for c, t, a, b, pa, pb, d in zip(ids, sess, client_values, therapist_values,
                                         ours[fired].tolist(), theirs[fired].tolist(),
                                         gap[fired].tolist())]

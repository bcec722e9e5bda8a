"""Alliance ruptures: a drop in a client's rated alliance, and whether it was repaired.

One vectorised engine for a single case (the web application) and for a
whole clinic's export (research use): the rows are sorted by client and
session once, and every per-client quantity is computed with shifted arrays and
a segmented running sum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..change import CRITICAL_Z, standard_error_of_difference
from ..errors import InputError, NotEnoughDataError
from ._groups import (TOLERANCE, Groups, client_codes, cumsum_within, group_rows,
                      plain_sessions, session_numbers, shift)
from .records import Signal, number, session_text


@dataclass(frozen=True)
class RuptureRule:
    """The facts of one rupture rule, in one place for the engine, the CLI and the web.

    Attributes
    ----------
    id : the rule's identifier ("sd1", "sd2", "rci").
    multiplier : m, the multiple of the client's SD a drop must reach (sd rules); None
        for rci.
    label : the rule in a clinician's words, for settings pages.
    because : the end of a signal's sentence, saying why the drop counts.
    technical : the exact criterion, for the technical details (s_t: the client's SD of
        earlier scores shrunk toward the clinic's pooled within-client SD; S_diff: the
        standard error of the difference, SD × √2 × √(1 − reliability)).
    """

    id: str
    multiplier: int | None
    label: str
    because: str
    technical: str


#: Every rupture rule, keyed by its id. Each label and sentence says what the code
#: does: the sd rules fire at a drop of *at least* m SDs (a_t ≤ ref − m·s_t), the
#: reliable-change rule at a drop of *more than* 1.96 × S_diff.
RUPTURE_RULES: dict[str, RuptureRule] = {rule.id: rule for rule in (
    RuptureRule(
        id="sd1", multiplier=1,
        label="Sensitive: a drop at least as large as this client's usual ups and downs "
              "(more alerts, many of them ordinary dips)",
        because="at least as large as this client's usual ups and downs",
        technical="a_t ≤ ref − 1 × s_t"),
    RuptureRule(
        id="sd2", multiplier=2,
        label="Strict: a drop at least twice this client's usual ups and downs "
              "(recommended: few false alerts, finds most ruptures)",
        because="at least twice this client's usual ups and downs",
        technical="a_t ≤ ref − 2 × s_t"),
    RuptureRule(
        id="rci", multiplier=None,
        label="Beyond measurement error: a drop larger than the questionnaire's own "
              "error can explain (needs the questionnaire's spread and reliability)",
        because="more than the questionnaire's own measurement error can explain",
        technical="ref − a_t > 1.96 × S_diff"),
)}

RULES = tuple(RUPTURE_RULES)
#: The rule `detect_ruptures`, `alliance signals` and new clinics use unless told otherwise,
#: chosen on the evaluation in docs/signals.md.
DEFAULT_RULE = "sd2"
REFERENCES = ("previous", "mean3")
STATES = ("repaired", "unresolved", "pending")

#: Weight (in pseudo-observations) of the clinic's pooled SD in a client's SD.
PRIOR_WEIGHT = 3
#: Two-sided 95% critical value of the reliable change criterion (1.96).
RCI_CRITICAL = CRITICAL_Z
#: Scores used by the "mean3" reference.
MEAN_OF = 3


@dataclass(frozen=True, eq=False)
class PooledSD:
    """The pooled within-client standard deviation of a clinic's rated scores."""

    value: float
    n_rated: int
    n_clients: int

    def to_dict(self) -> dict[str, Any]:
        return {"pooled_sd": self.value, "n_rated": self.n_rated, "n_clients": self.n_clients}


@dataclass(frozen=True, eq=False)
class RuptureResult:
    """Ruptures found in a set of sessions, with the rule and parameters that found them.

    Attributes
    ----------
    ruptures : DataFrame, one row per rupture, sorted by client (first appearance)
        then session, with columns ``client_id, session, reference, score,
        threshold, drop``, then ``s_t`` (rules sd1/sd2) or ``s_diff`` (rule rci),
        then ``state`` (repaired / unresolved / pending) and ``repaired_session``.
    rule : "sd1", "sd2" or "rci".
    parameters : every value the rule used (m, reference, window, pooled SD and
        whether it was estimated or given, or SD, reliability and S_diff).
    n_clients : clients in the input.
    n_rated : rated sessions (rows with a score) in the input.
    """

    ruptures: pd.DataFrame
    rule: str
    parameters: dict[str, Any] = field(default_factory=dict)
    n_clients: int = 0
    n_rated: int = 0

    def counts(self) -> dict[str, int]:
        """Number of ruptures in each repair state."""
        found = self.ruptures["state"].value_counts()
        return {state: int(found.get(state, 0)) for state in STATES}

    def records(self) -> list[dict[str, Any]]:
        """The ruptures as JSON-ready dictionaries (missing values are None)."""
        columns = {name: _plain_list(self.ruptures[name]) for name in self.ruptures.columns}
        return [dict(zip(columns, values)) for values in zip(*columns.values())]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "parameters": dict(self.parameters),
                "n_clients": self.n_clients, "n_rated_sessions": self.n_rated,
                "counts": self.counts(), "ruptures": self.records()}


def pooled_within_sd(client, score) -> PooledSD:
    """Pooled within-client SD of rated scores.

    Parameters
    ----------
    client : array-like of client identifiers, one per row.
    score : array-like of scores; NaN marks a row that is not a rated session.

    Returns
    -------
    PooledSD
        ``value`` p, with the number of rated sessions and of clients it used.

    Notes
    -----
    p = sqrt( (1/N) · Σ_i Σ_t (a_it − ā_i)² ), where the sum runs over all N
    rated sessions of all clients and ā_i is client i's own mean. A client with
    a single rated session contributes one zero deviation.
    """
    codes, labels = client_codes(client)
    values = np.asarray(score, dtype=float)
    if len(values) != len(codes):
        raise InputError("client and score must have the same length")
    rated = ~np.isnan(values)
    return _pooled(codes[rated], values[rated], len(labels))


def _pooled(codes: np.ndarray, values: np.ndarray, n_labels: int) -> PooledSD:
    if values.size == 0:
        return PooledSD(value=math.nan, n_rated=0, n_clients=0)
    counts = np.bincount(codes, minlength=n_labels)
    means = np.bincount(codes, weights=values, minlength=n_labels) / np.maximum(counts, 1)
    deviation = values - means[codes]
    return PooledSD(value=float(np.sqrt(np.mean(deviation * deviation))), n_rated=int(values.size),
                    n_clients=int(np.count_nonzero(counts)))


def detect_ruptures(client, session, score, *, rule: str = DEFAULT_RULE,
                    reference: str = "previous",
                    window: int = 3, pooled_sd: float | None = None, sd: float | None = None,
                    reliability: float | None = None) -> RuptureResult:
    """Find alliance ruptures and their repair state, for one client or a whole clinic.

    Parameters
    ----------
    client, session, score : array-likes of equal length, one element per row
        (any order). A row whose score is NaN is not a rated session and is
        ignored; a client may not have two rows with the same session number.
    rule : "sd1", "sd2" (m = 1 or 2 times the client's shrunken SD) or "rci"
        (reliable change); default "sd2".
    reference : "previous" (the previous rated score, default) or "mean3"
        (the mean of up to the 3 previous rated scores).
    window : number of later rated sessions in which a repair is looked for (default 3).
    pooled_sd : the clinic's pooled within-client SD p (rules sd1/sd2). When not
        given it is estimated from the input with `pooled_within_sd`, so it is
        fixed for the run but depends on all the data in it.
    sd, reliability : the score's SD and reliability (rule rci, required).

    Returns
    -------
    RuptureResult

    Notes
    -----
    Per client, rated sessions in session order give scores a_1 … a_n. At each
    rated session t ≥ 2, using a_1 … a_t only:

    - reference ref_t = a_(t−1), or (mean3) the mean of a_(max(1, t−3)) … a_(t−1);
    - sd1/sd2: s_t² = (df · v_t + 3 · p²) / (df + 3), v_t the sample variance
      (ddof = 1) of a_1 … a_(t−1), df = t − 2 (so s_2 = p); rupture when
      a_t ≤ ref_t − m · s_t, threshold = ref_t − m · s_t;
    - rci: S_diff = SD · √2 · √(1 − r); rupture when ref_t − a_t > 1.96 · S_diff,
      threshold = ref_t − 1.96 · S_diff.

    Every rated session is judged on its own, so a continuing fall can fire at
    consecutive sessions, each with its own reference. Repair: the rupture at t
    is *repaired* at the first rated session r with t < r ≤ t + w and
    a_r ≥ ref_t; *unresolved* when w later rated sessions exist and none
    qualifies; *pending* otherwise. Comparisons allow 1e-9 for rounding.

    References
    ----------
    Stiles, W. B., Glick, M. J., Osatuke, K., Hardy, G. E., Shapiro, D. A.,
    Agnew-Davies, R., Rees, A., & Barkham, M. (2004). Patterns of alliance
    development and the rupture–repair hypothesis: Are productive relationships
    U-shaped or V-shaped? Journal of Counseling Psychology, 51(1), 81–92.
    """
    rule, reference, window = _check_options(rule, reference, window)
    codes, labels = client_codes(client)
    sessions = session_numbers(session)
    values = np.asarray(score, dtype=float)
    if not len(codes) == len(sessions) == len(values):
        raise InputError("client, session and score must have the same length")
    rated = ~np.isnan(values)
    if not np.isfinite(values[rated]).all():
        raise InputError("scores must be finite numbers")
    groups = group_rows(codes, labels, sessions, rated)
    a = values[groups.order]
    sess = sessions[groups.order]
    candidate = groups.pos >= 1

    parameters: dict[str, Any] = {"reference": reference, "window": window}
    ref = _reference(a, groups, reference)
    if rule == "rci":
        if sd is None or reliability is None:
            raise InputError("the rci rule needs the score's SD and reliability")
        spread_value = float(standard_error_of_difference(sd, reliability))
        sd, reliability, spread_name = float(sd), float(reliability), "s_diff"
        spread = np.full(len(a), spread_value)
        threshold = ref - RCI_CRITICAL * spread_value
        fired = candidate & ((ref - a) - RCI_CRITICAL * spread_value > TOLERANCE)
        parameters.update(sd=sd, reliability=reliability, s_diff=spread_value,
                          critical_value=RCI_CRITICAL)
    else:
        m = RUPTURE_RULES[rule].multiplier
        p, source = _pooled_for_run(pooled_sd, groups, a, candidate)
        spread_name, spread = "s_t", _shrunken_sd(a, groups, p)
        threshold = ref - m * spread
        fired = candidate & (a <= threshold + TOLERANCE)
        parameters.update(m=m, pooled_sd=p, pooled_sd_source=source, prior_weight=PRIOR_WEIGHT)
    parameters["tolerance"] = TOLERANCE

    at = np.flatnonzero(fired)
    repaired_at, state = _repair(a, ref, groups, at, window)
    repaired_session = np.where(repaired_at >= 0, sess[np.maximum(repaired_at, 0)], np.nan)
    table = pd.DataFrame({
        "client_id": groups.labels[groups.code[at]],
        "session": plain_sessions(sess[at]),
        "reference": ref[at],
        "score": a[at],
        "threshold": threshold[at],
        "drop": ref[at] - a[at],
        spread_name: spread[at],
        "state": state,
        "repaired_session": plain_sessions(repaired_session) if len(at) else
        pd.array([], dtype="Int64"),
    })
    return RuptureResult(ruptures=table, rule=rule, parameters=parameters,
                         n_clients=len(labels), n_rated=int(rated.sum()))


def _check_options(rule: str, reference: str, window) -> tuple[str, str, int]:
    if rule not in RULES:
        raise InputError(f"unknown rupture rule {rule!r}; choose one of {', '.join(RULES)}")
    if reference not in REFERENCES:
        raise InputError(f"unknown reference {reference!r}; choose one of {', '.join(REFERENCES)}")
    if isinstance(window, bool) or int(window) != window or window < 1:
        raise InputError(f"the repair window must be a whole number of sessions ≥ 1, "
                         f"not {window!r}")
    return rule, reference, int(window)


def _pooled_for_run(pooled_sd, groups: Groups, a: np.ndarray,
                    candidate: np.ndarray) -> tuple[float, str]:
    if pooled_sd is not None:
        p = float(pooled_sd)
        if not (math.isfinite(p) and p > 0):
            raise InputError(f"the pooled SD must be a positive number, not {p:g}")
        return p, "given"
    p = _pooled(groups.code, a, len(groups.labels)).value
    if candidate.any() and not p > 0:
        # With p = 0 a client's first repeat of the same score would be a "rupture".
        raise NotEnoughDataError("every client's scores are constant, so the pooled within-client "
                                 "SD is 0; give the pooled SD explicitly")
    return p, "estimated"


def _reference(a: np.ndarray, groups: Groups, reference: str) -> np.ndarray:
    previous = shift(a, 1, groups)
    if reference == "previous":
        return previous
    # Mean of up to three previous scores, added in session order.
    ref = previous.copy()
    for lag in range(2, MEAN_OF + 1):
        has = groups.pos >= lag
        ref[has] = _add_in_order(a, groups, lag)[has] / lag
    return ref


def _add_in_order(a: np.ndarray, groups: Groups, lag: int) -> np.ndarray:
    """a_(t−lag) + … + a_(t−1), added from the earliest score on."""
    total = shift(a, lag, groups)
    for k in range(lag - 1, 0, -1):
        total = total + shift(a, k, groups)
    return total


def _shrunken_sd(a: np.ndarray, groups: Groups, p: float) -> np.ndarray:
    """s_t for every row: the SD of the client's earlier scores, shrunk toward p."""
    # Deviations from the client's first score keep the running sums small
    # (accurate) without using any later score.
    x = a - a[groups.first]
    prior_sum = shift(cumsum_within(x, groups), 1, groups)
    prior_squares = shift(cumsum_within(x * x, groups), 1, groups)
    n_prior = groups.pos.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        # df · v_t is the sum of squared deviations of a_1 … a_(t−1) from their mean.
        squares = np.maximum(prior_squares - prior_sum * prior_sum / n_prior, 0.0)
        return np.sqrt((squares + PRIOR_WEIGHT * p * p) / (n_prior - 1 + PRIOR_WEIGHT))


def _repair(a: np.ndarray, ref: np.ndarray, groups: Groups, at: np.ndarray,
            window: int) -> tuple[np.ndarray, np.ndarray]:
    """For each rupture row: the row where it was repaired (−1 if none) and its state."""
    repaired_at = np.full(len(at), -1, dtype=np.int64)
    later = groups.later[at]
    target = ref[at] - TOLERANCE
    for step in range(1, window + 1):
        open_ = (repaired_at < 0) & (later >= step)
        rows = at[open_] + step
        back = a[rows] >= target[open_]
        hit = np.flatnonzero(open_)[back]
        repaired_at[hit] = rows[back]
    state = np.where(repaired_at >= 0, "repaired",
                     np.where(later >= window, "unresolved", "pending"))
    return repaired_at, state.astype(object)


def _plain_list(column: pd.Series) -> list:
    """A column as plain Python values; NaN and NA become None."""
    missing = column.isna().to_numpy()
    if pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype=float).tolist()
    else:
        values = [v.item() if isinstance(v, np.generic) else v
                  for v in column.astype(object).tolist()]
    if missing.any():
        for i in np.flatnonzero(missing).tolist():
            values[i] = None
    return values


def rupture_signals(result: RuptureResult, *, score_label: str = "Alliance") -> list[Signal]:
    """The ruptures of a `RuptureResult` as signals with a plain-language explanation."""
    common = {"score": score_label, **result.parameters}
    parameters = {k: v for k, v in common.items() if k not in ("tolerance",)}
    why = RUPTURE_RULES[result.rule].because
    mean_of = parameters.get("reference") == "mean3"
    signals = []
    for row in result.records():
        before = (f"an average of {number(row['reference'])} over the previous sessions" if mean_of
                  else number(row["reference"]))
        text = (f"{score_label} fell from {before} to {number(row['score'])} at "
                f"{session_text(row['session'])}, {why}.")
        data = {k: v for k, v in row.items() if k not in ("client_id", "session")}
        signals.append(Signal(type="rupture", client_id=row["client_id"], session=row["session"],
                              rule=result.rule, parameters=parameters, data=data,
                              explanation=text))
    return signals

"""How well the rupture rules find ruptures whose truth is known.

`evaluate_ruptures` runs the rupture engine with each rule on a sessions table and
matches its detections against a table of planted ruptures (for example the
``ruptures.csv`` that `alliance simulate` writes, whose truth comes from the
generator's own parameters, not from the engine).

Matching rule: a detection for a client at session d *matches* a planted rupture of
that client with onset o when o ≤ d ≤ o + within (session numbers; default
within = 2). A detection that matches a planted rupture is a true alert, any other
detection is a false alert. A planted rupture is *found* when at least one detection
matches it; its lag is d − o for the earliest such d.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .signals.outcome import PERSISTENCE, expected_bands, not_on_track
from .signals.ruptures import REFERENCES, RULES, detect_ruptures

#: Default matching tolerance: a detection up to this many sessions after the onset counts.
WITHIN = 2


@dataclass(frozen=True)
class RuleScore:
    """The accuracy of one rule (and reference) against the planted ruptures.

    precision : true alerts / all alerts (NaN without alerts).
    recall : planted ruptures found / planted ruptures (NaN without planted ruptures).
    median_lag : median sessions from onset to the first matching detection.
    false_per_100 : false alerts per 100 rated sessions.
    repair_agreement : share of found ruptures whose engine state (repaired or
        unresolved; pending ones are left out) equals the planted truth; NaN when
        none can be compared, or when the truth has no repair column.
    """

    rule: str
    reference: str
    confirm: int
    alerts: int
    true_alerts: int
    false_alerts: int
    planted: int
    found: int
    rated_sessions: int
    precision: float
    recall: float
    median_lag: float
    false_per_100: float
    repair_compared: int
    repair_agreement: float
    #: The lag of every found rupture (for pooling runs); not part of `to_dict`.
    lags: tuple[int, ...] = field(default=(), repr=False)

    @property
    def name(self) -> str:
        return rule_name(self.rule, self.reference, self.confirm)

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, **asdict(self)}
        del out["lags"]
        return out


def pool_scores(scores: Sequence[RuleScore]) -> RuleScore:
    """One rule's scores from several clinics (seeds) pooled: counts are added, and the
    rates are computed from the sums (the median lag over every found rupture)."""
    if not scores:
        raise InputError("nothing to pool")
    first = scores[0]
    if any(s.name != first.name for s in scores):
        raise InputError("only scores of the same rule can be pooled")
    total = {name: sum(getattr(s, name) for s in scores)
             for name in ("alerts", "true_alerts", "false_alerts", "planted", "found",
                          "rated_sessions", "repair_compared")}
    agreeing = sum(s.repair_agreement * s.repair_compared for s in scores if s.repair_compared)
    lags = tuple(lag for s in scores for lag in s.lags)
    return replace(
        first, **total, lags=lags,
        precision=total["true_alerts"] / total["alerts"] if total["alerts"] else math.nan,
        recall=total["found"] / total["planted"] if total["planted"] else math.nan,
        median_lag=float(np.median(lags)) if lags else math.nan,
        false_per_100=(100.0 * total["false_alerts"] / total["rated_sessions"]
                       if total["rated_sessions"] else math.nan),
        repair_agreement=(agreeing / total["repair_compared"] if total["repair_compared"]
                          else math.nan))


def rule_name(rule: str, reference: str, confirm: int = 1) -> str:
    """A short name such as ``sd2``, ``sd1/mean3`` or ``sd1+confirm``."""
    name = rule if reference == "previous" else f"{rule}/{reference}"
    return name + ("+confirm" if confirm > 1 else "")


def match_detections(detected: pd.DataFrame, planted: pd.DataFrame, *,
                     within: int = WITHIN) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match detections to planted ruptures (the rule in this module's docstring).

    Parameters
    ----------
    detected : columns ``client_id``, ``session``; one row per detection.
    planted : columns ``client_id``, ``session`` (the onset); one row per planted rupture.
    within : sessions after the onset in which a detection still matches.

    Returns
    -------
    (true_alert, lag, first) : per detection, whether it matches a planted rupture;
        per planted rupture, the lag of its earliest matching detection (NaN when not
        found) and the row of ``detected`` that is that detection (−1 when not found).
    """
    det_c = detected["client_id"].astype(str).to_numpy()
    det_s = detected["session"].to_numpy(dtype=float)
    pl_c = planted["client_id"].astype(str).to_numpy()
    pl_s = planted["session"].to_numpy(dtype=float)
    true_alert = np.zeros(len(det_c), dtype=bool)
    lag = np.full(len(pl_c), np.nan)
    first = np.full(len(pl_c), -1, dtype=np.int64)
    if len(det_c) and len(pl_c):
        pairs = pd.DataFrame({"c": det_c, "d": det_s, "row": np.arange(len(det_c))}).merge(
            pd.DataFrame({"c": pl_c, "o": pl_s, "p": np.arange(len(pl_c))}), on="c")
        ok = pairs[(pairs["d"] >= pairs["o"]) & (pairs["d"] <= pairs["o"] + within)]
        true_alert[ok["row"].to_numpy()] = True
        earliest = ok.sort_values(["p", "d"], kind="stable").drop_duplicates("p")
        lag[earliest["p"].to_numpy()] = (earliest["d"] - earliest["o"]).to_numpy()
        first[earliest["p"].to_numpy()] = earliest["row"].to_numpy()
    return true_alert, lag, first


def parse_rule(spec: str) -> tuple[str, str, int]:
    """``"sd2"``, ``"sd2/mean3"`` or ``"sd1+confirm"`` → (rule, reference, confirm)."""
    text = spec.strip()
    confirm = 1
    if text.endswith("+confirm"):
        text, confirm = text[:-len("+confirm")], 2
    rule, _, reference = text.partition("/")
    reference = reference or "previous"
    if rule not in RULES or reference not in REFERENCES:
        raise InputError(f"unknown rule {spec!r}: write RULE, RULE/REFERENCE or RULE+confirm "
                         f"with RULE one of {', '.join(RULES)} and REFERENCE one of "
                         f"{', '.join(REFERENCES)}")
    return rule, reference, confirm


def evaluate_ruptures(sessions: pd.DataFrame, planted: pd.DataFrame, *,
                      rules: list[str] | None = None, score: str = "alliance",
                      client: str = "client_id", session: str = "session",
                      within: int = WITHIN, window: int = 3, sd: float | None = None,
                      reliability: float | None = None) -> list[RuleScore]:
    """Precision, recall, lag and false alerts per 100 rated sessions of each rule.

    Parameters
    ----------
    sessions : long-format table with ``client``, ``session`` and ``score`` columns.
    planted : the true ruptures: ``client_id``, ``session`` (onset) and, optionally,
        ``repaired`` (true/false or 1/0) for the repair-state agreement.
    rules : rule names (`parse_rule`): ``sd2``, ``sd2/mean3`` (another reference) or
        ``sd1+confirm`` (the alert waits for the next rated session and is raised only if
        that score is still at or below the rupture's threshold; it is dated at that
        session). Default: every rule with every reference (rci only when ``sd`` and
        ``reliability`` are given).
    within : matching tolerance in sessions (see the module docstring).
    window : the engine's repair window (rated sessions).
    sd, reliability : the score's SD and reliability, for the rci rule.

    Returns
    -------
    list of RuleScore, in the order of ``rules``.
    """
    for name in (client, session, score):
        if name not in sessions.columns:
            raise InputError(f"the sessions table has no column {name!r}")
    for name in ("client_id", "session"):
        if name not in planted.columns:
            raise InputError(f"the truth table has no column {name!r}")
    if isinstance(within, bool) or int(within) != within or within < 0:
        raise InputError(f"within must be a whole number of sessions ≥ 0, not {within!r}")
    if rules is None:
        rules = [rule_name(r, ref) for r in RULES for ref in REFERENCES
                 if r != "rci" or (sd is not None and reliability is not None)]
    specs = [parse_rule(spec) for spec in rules]
    truth = planted.copy()
    truth["session"] = pd.to_numeric(truth["session"], errors="raise")
    repaired_truth = _truth_repaired(truth)
    values = pd.to_numeric(sessions[score], errors="coerce").to_numpy(dtype=float,
                                                                       na_value=np.nan)
    ids = sessions[client].astype(str).to_numpy()
    numbers = sessions[session].to_numpy()
    rated = int(np.count_nonzero(~np.isnan(values)))
    scores = []
    for rule, reference, confirm in specs:
        result = detect_ruptures(ids, numbers, values, rule=rule, reference=reference,
                                 window=window, sd=sd if rule == "rci" else None,
                                 reliability=reliability if rule == "rci" else None)
        table = result.ruptures
        if confirm > 1:
            table = _confirmed(table, ids, numbers, values)
        scores.append(_score(table, truth, repaired_truth, rule, reference, confirm,
                             rated, within))
    return scores


def _confirmed(table: pd.DataFrame, ids, numbers, values) -> pd.DataFrame:
    """Detections whose next rated score is still at or below their threshold, dated there."""
    rated = pd.DataFrame({"client_id": ids, "session": numbers, "score": values})
    rated = rated[rated["score"].notna()].sort_values(["client_id", "session"], kind="stable")
    rated["next_session"] = rated.groupby("client_id")["session"].shift(-1)
    rated["next_score"] = rated.groupby("client_id")["score"].shift(-1)
    merged = table.assign(client_id=table["client_id"].astype(str)).merge(
        rated[["client_id", "session", "next_session", "next_score"]],
        on=["client_id", "session"], how="left")
    keep = (merged["next_score"] <= merged["threshold"] + 1e-9).to_numpy()
    out = merged[keep].copy()
    out["session"] = out["next_session"].astype("int64")
    # One alert per episode: a run of detections confirmed at the same session counts once.
    return out.drop_duplicates(["client_id", "session"]).drop(
        columns=["next_session", "next_score"]).reset_index(drop=True)


def _truth_repaired(truth: pd.DataFrame) -> np.ndarray | None:
    if "repaired" not in truth.columns:
        return None
    column = truth["repaired"]
    if not (pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column)):
        column = column.astype(str).str.strip().str.lower().map(
            {"1": True, "0": False, "true": True, "false": False})
    if column.isna().any() or not column.isin([True, False]).all():
        raise InputError("the truth's repaired column must hold 1/0 or true/false")
    return column.astype(bool).to_numpy()


def _score(table: pd.DataFrame, truth: pd.DataFrame, repaired_truth: np.ndarray | None,
           rule: str, reference: str, confirm: int, rated: int, within: int) -> RuleScore:
    true_alert, lag, first = match_detections(table, truth, within=within)
    alerts, n_true = len(table), int(true_alert.sum())
    found = int(np.count_nonzero(~np.isnan(lag)))
    compared, agreement = 0, math.nan
    if repaired_truth is not None and found:
        hit = first >= 0
        state = table["state"].to_numpy()[first[hit]]
        decided = state != "pending"
        compared = int(decided.sum())
        if compared:
            agreement = float(np.mean((state[decided] == "repaired")
                                      == repaired_truth[hit][decided]))
    return RuleScore(
        rule=rule, reference=reference, confirm=confirm, alerts=alerts, true_alerts=n_true,
        false_alerts=alerts - n_true, planted=len(truth), found=found, rated_sessions=rated,
        precision=n_true / alerts if alerts else math.nan,
        recall=found / len(truth) if len(truth) else math.nan,
        median_lag=float(np.nanmedian(lag)) if found else math.nan,
        false_per_100=100.0 * (alerts - n_true) / rated if rated else math.nan,
        repair_compared=compared, repair_agreement=agreement,
        lags=tuple(int(x) for x in lag[~np.isnan(lag)]))


@dataclass(frozen=True)
class OffTrackRate:
    """How often "not on track" fires with one persistence, and whom it flags.

    alerts_per_100 : alerts per 100 judged sessions (rated, after intake, with a band).
    flagged_share : share of clients flagged at least once.
    worst_found : share of the clients whose true gain is in the lowest tenth who are
        flagged at least once (NaN without a truth).
    flagged_worst : share of flagged clients whose true gain is in the lowest quarter.
    """

    persistence: int
    alerts: int
    judged_sessions: int
    alerts_per_100: float
    flagged_share: float
    worst_found: float
    flagged_worst: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_not_on_track(sessions: pd.DataFrame, model, *, outcome: str = "wellbeing",
                          client: str = "client_id", session: str = "session",
                          true_gain: pd.Series | None = None,
                          persistence: Sequence[int] = (1, PERSISTENCE, 3),
                          higher_is_better: bool = True) -> list[OffTrackRate]:
    """The alert rate of "not on track" for each persistence, with a fitted expected model.

    Parameters
    ----------
    sessions : long-format table.
    model : a fitted expected-response model (``band(intake, session)``).
    true_gain : optional true improvement of each client (indexed by client id, higher
        = better), e.g. ``wellbeing_gain`` of a simulated clinic's truth table.
    persistence : the values to compare.
    """
    ids = sessions[client].astype(str).to_numpy()
    numbers = sessions[session].to_numpy()
    y = pd.to_numeric(sessions[outcome], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    mid, low, high = expected_bands(model, ids, numbers, y)
    judged = int(np.count_nonzero(~np.isnan(y) & ~np.isnan(low)))
    clients = pd.unique(ids)
    worst = flagged_pool = None
    if true_gain is not None:
        gain = true_gain.copy()
        gain.index = gain.index.astype(str)
        gain = gain.reindex(clients)
        worst = set(gain[gain <= gain.quantile(0.10)].index)
        flagged_pool = set(gain[gain <= gain.quantile(0.25)].index)
    out = []
    for k in persistence:
        found = not_on_track(ids, numbers, y, low, high, expected=mid, persistence=k,
                             higher_is_better=higher_is_better)
        flagged = {s.client_id for s in found}
        out.append(OffTrackRate(
            persistence=int(k), alerts=len(found), judged_sessions=judged,
            alerts_per_100=100.0 * len(found) / judged if judged else math.nan,
            flagged_share=len(flagged) / len(clients) if len(clients) else math.nan,
            worst_found=len(flagged & worst) / len(worst) if worst else math.nan,
            flagged_worst=(len(flagged & flagged_pool) / len(flagged)
                           if flagged_pool is not None and flagged else math.nan)))
    return out

"""Scoring: turning item responses into scores, and scores onto a common metric.

One engine scores every instrument (see :mod:`alliance.core.instruments` and
``docs/instruments.md``): :func:`score_administration` for one completed form,
:func:`score_frame` for a table of them, vectorised over rows. Both apply the
same range checks, reverse keys, mean or prorated sum, missing-data rule and POMP.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError, ScoringError
from .instruments.models import TOTAL, Instrument
from .tables import FIRST_DATA_LINE


def pomp(score, minimum: float, maximum: float):
    """Percent of maximum possible: place a score on 0–100 whatever its scale.

    Parameters
    ----------
    score : float or array-like
    minimum, maximum : the lowest and highest possible score of the scale.

    Returns
    -------
    float or numpy.ndarray, 0 at the scale minimum and 100 at its maximum.

    Examples
    --------
    >>> pomp(3.5, 1, 5)
    62.5
    >>> pomp([0, 5, 10], 0, 10)
    array([  0.,  50., 100.])

    Notes
    -----
    POMP = (score − min) / (max − min) × 100. It makes scores comparable across
    instruments with different ranges (e.g. a 1–5 WAI-SR mean and a 0–10 slider).

    References
    ----------
    Cohen, P., Cohen, J., Aiken, L. S., & West, S. G. (1999). The problem of units
    and the circumstance for POMP. Multivariate Behavioral Research, 34(3), 315–346.
    """
    if not maximum > minimum:
        raise ValueError(f"scale maximum ({maximum}) must be greater than its minimum ({minimum})")
    result = (np.asarray(score, dtype=float) - minimum) / (maximum - minimum) * 100.0
    return float(result) if result.ndim == 0 else result


# ---------------------------------------------------------------------------
# The scoring engine: one implementation for one administration and for a
# whole table of administrations.


@dataclass(frozen=True)
class ReachedCutoff:
    """A cutoff that a score reached, with what that means and where it comes from."""

    score: str
    value: float
    when: str
    meaning: str
    source: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ScoreResult:
    """The scores of one administration of an instrument.

    Attributes
    ----------
    instrument, version : which definition scored it.
    subscales : subscale id → score (NaN when not scorable).
    total : the total score (NaN when not scorable; None when the instrument has no total).
    pomp : score id (subscale ids and ``"total"``) → POMP, 0–100.
    n_answered, n_items : answered items, and items in the instrument.
    scorable : True when every score could be computed.
    reasons : score id → why it could not be computed (only for those that could not).
    cutoffs : the cutoffs the scores reached.
    """

    instrument: str
    version: str
    subscales: dict[str, float]
    total: float | None
    pomp: dict[str, float]
    n_answered: int
    n_items: int
    scorable: bool
    reasons: dict[str, str]
    cutoffs: tuple[ReachedCutoff, ...] = ()

    @property
    def scores(self) -> dict[str, float]:
        """Every score by id: the subscales, then ``"total"`` when there is one."""
        scores = dict(self.subscales)
        if self.total is not None:
            scores[TOTAL] = self.total
        return scores

    def __getitem__(self, score_id: str) -> float:
        return self.scores[score_id]

    def to_dict(self) -> dict:
        return {
            "instrument": self.instrument, "version": self.version,
            "subscales": dict(self.subscales), "total": self.total, "pomp": dict(self.pomp),
            "n_answered": self.n_answered, "n_items": self.n_items,
            "scorable": self.scorable, "reasons": dict(self.reasons),
            "cutoffs": [c.to_dict() for c in self.cutoffs],
        }


def score_administration(instrument: Instrument, responses: Mapping[str, object]) -> ScoreResult:
    """Score one administration: item id → answer.

    Parameters
    ----------
    instrument : the instrument definition.
    responses : item id → value. Unanswered items may be absent or None, "" or
        NaN. Numbers given as text ("7") are accepted. Answers to open questions
        may be included; they are not scored.

    Returns
    -------
    ScoreResult

    Examples
    --------
    >>> from alliance.core.instruments import load_bundled
    >>> result = score_administration(load_bundled("alliance-client"),
    ...     {"bond1": 8, "bond2": 7, "goals1": 6, "goals2": 7, "tasks1": 9, "tasks2": "8"})
    >>> result.subscales, result.total, result.pomp["total"]
    ({'bond': 7.5, 'goals': 6.5, 'tasks': 8.5}, 7.5, 75.0)

    Raises
    ------
    ScoringError
        For an answer that is not a number, is outside the item's scale or not on
        one of its steps, or an id that is not an item; names the item and the value.

    Notes
    -----
    Reverse-keyed items are scored min + max − x on their scale. A subscale or
    total over n items of which k are answered, k ≥ n − max_missing, is

    * ``mean``: the mean of the k answered items;
    * ``sum``: the prorated sum, (sum of the k answered items) × n / k;

    and not scorable (NaN, with a reason) when more items are missing. Each
    score is also given as POMP = (score − min) / (max − min) × 100, where min
    and max are the lowest and highest possible score.
    """
    open_ids = {q.id for q in instrument.open_questions}
    columns = {item_id: i for i, item_id in enumerate(instrument.item_ids)}
    row = np.full((1, len(columns)), np.nan)
    for item_id, raw in responses.items():
        if item_id in open_ids:
            continue
        if item_id not in columns:
            raise ScoringError(f"not an item of {instrument.name} (items: "
                               f"{', '.join(instrument.item_ids)})", item=item_id, value=raw)
        value = _as_number(raw, item_id)
        scale = instrument.scale_of(item_id)
        if not np.isnan(value) and not scale.accepts(value):
            raise ScoringError(f"is {_off_scale(scale, value)}", item=item_id, value=raw)
        row[0, columns[item_id]] = value

    computed = _score_matrix(instrument, row)
    values = {s: float(computed.scores[s][0]) for s in instrument.score_ids}
    reasons = {s: _reason(instrument, s, int(computed.missing[s][0]))
               for s in instrument.score_ids if np.isnan(values[s])}
    reached = tuple(
        ReachedCutoff(c.score, c.value, c.when, c.meaning, c.source)
        for c in instrument.cutoffs if c.reached(values[c.score]))
    return ScoreResult(
        instrument=instrument.id, version=instrument.version,
        subscales={s.id: values[s.id] for s in instrument.subscales},
        total=values.get(TOTAL) if instrument.total is not None else None,
        pomp={s: float(computed.pomp[s][0]) for s in instrument.score_ids},
        n_answered=int(computed.n_answered[0]), n_items=len(columns),
        scorable=not reasons, reasons=reasons, cutoffs=reached)


def score_frame(instrument: Instrument, frame: pd.DataFrame, *, file: str | None = None,
                first_line: int = FIRST_DATA_LINE) -> pd.DataFrame:
    """Score many administrations at once: one row per administration.

    Parameters
    ----------
    instrument : the instrument definition.
    frame : one column per item, named by item id (other columns are ignored).
        Empty cells (NaN) are unanswered items.
    file : the file the frame was read from, for error messages.
    first_line : the line number of the frame's first row in that file (2 when
        the file has one header line, as :func:`alliance.core.tables.read_csv` reads it;
        the lines it records past blank lines or line breaks in quoted cells win).

    Returns
    -------
    pandas.DataFrame with the frame's index and, in order: one column per score
    (subscale ids, then ``total``), ``pomp_<score>`` for each, ``n_answered``,
    ``scorable`` (bool), ``reason`` (empty when scorable) and, for scores with
    cutoffs, ``cutoff_<score>``: the meaning of the furthest cutoff reached.

    Examples
    --------
    >>> from alliance.core.instruments import load_bundled
    >>> answers = pd.DataFrame({"bond1": [8, 2], "bond2": [7, 3], "goals1": [6, None],
    ...                         "goals2": [7, 4], "tasks1": [9, 5], "tasks2": [8, 3]})
    >>> score_frame(load_bundled("alliance-client"), answers)[["bond", "total", "scorable"]]
       bond  total  scorable
    0   7.5    7.5      True
    1   2.5    3.4     False

    Raises
    ------
    InputError
        For a missing item column, a cell that is not a number or is off the
        item's scale; names the file, the line and the column.

    Notes
    -----
    The same computation as :func:`score_administration` (see there for the
    formulas), vectorised over rows.
    """
    missing = [item_id for item_id in instrument.item_ids if item_id not in frame.columns]
    if missing:
        raise InputError(
            f"missing item column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"for {instrument.name} (the file has: {', '.join(map(str, frame.columns))})",
            file=file, line=1 if file else None)
    recorded = frame.attrs.get("lines")

    def line(row: int) -> int:
        return int(recorded[row]) if recorded is not None else row + first_line

    values = np.empty((len(frame), len(instrument.item_ids)))
    for j, item_id in enumerate(instrument.item_ids):
        values[:, j] = _numeric_column(frame[item_id], item_id, file, line)
        scale = instrument.scale_of(item_id)
        column = values[:, j]
        with np.errstate(invalid="ignore"):
            steps = (column - scale.min) / scale.step
            bad = ~np.isnan(column) & ((column < scale.min) | (column > scale.max)
                                       | (np.abs(steps - np.round(steps)) > 1e-6))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputError(f"{column[row]:g} is {_off_scale(scale, column[row])} "
                             f"(item '{item_id}')",
                             file=file, line=line(row), column=item_id)

    computed = _score_matrix(instrument, values)
    out = pd.DataFrame(index=frame.index)
    for score_id in instrument.score_ids:
        out[score_id] = computed.scores[score_id]
    for score_id in instrument.score_ids:
        out[f"pomp_{score_id}"] = computed.pomp[score_id]
    out["n_answered"] = computed.n_answered
    reasons = np.full(len(frame), "", dtype=object)
    for score_id in instrument.score_ids:
        failed = np.isnan(computed.scores[score_id])
        if failed.any():
            # One sentence per possible count of missing items, looked up per row.
            n_items = len(instrument.score_items(score_id))
            sentences = np.array([f"{score_id}: {_reason(instrument, score_id, m)}"
                                  for m in range(n_items + 1)], dtype=object)
            text = sentences[computed.missing[score_id][failed]]
            earlier = reasons[failed]
            reasons[failed] = np.where(earlier == "", text, earlier + "; " + text)
    out["scorable"] = reasons == ""
    out["reason"] = reasons
    for score_id in dict.fromkeys(c.score for c in instrument.cutoffs):
        out[f"cutoff_{score_id}"] = _furthest_cutoff(instrument, score_id,
                                                     computed.scores[score_id])
    return out


# ------------------------------------------------------------------ internals


@dataclass(frozen=True)
class _Computed:
    scores: dict[str, np.ndarray]
    pomp: dict[str, np.ndarray]
    missing: dict[str, np.ndarray]
    n_answered: np.ndarray


def _score_matrix(instrument: Instrument, values: np.ndarray) -> _Computed:
    """Score a validated n × items matrix (columns in item order, NaN = unanswered)."""
    values = values.copy()
    for j, item in enumerate(instrument.items):
        if item.reverse:
            values[:, j] = instrument.scales[item.scale].reverse(values[:, j])
    column = {item_id: j for j, item_id in enumerate(instrument.item_ids)}
    answered = ~np.isnan(values)
    scores, pomps, missing = {}, {}, {}
    for score_id in instrument.score_ids:
        columns = [column[i] for i in instrument.score_items(score_id)]
        n_items = len(columns)
        n_answered = answered[:, columns].sum(axis=1)
        total = np.where(answered[:, columns], values[:, columns], 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / n_answered
        # Prorating a sum is the mean of the answered items times the item count.
        value = mean if instrument.score_definition(score_id).method == "mean" else mean * n_items
        enough = (n_items - n_answered) <= instrument.max_missing(score_id)
        scores[score_id] = np.where(enough, value, np.nan)
        low, high = instrument.score_range(score_id)
        pomps[score_id] = np.atleast_1d(pomp(scores[score_id], low, high))
        missing[score_id] = n_items - n_answered
    return _Computed(scores, pomps, missing, answered.sum(axis=1))


def _reason(instrument: Instrument, score_id: str, n_missing: int) -> str:
    n_items = len(instrument.score_items(score_id))
    allowed = instrument.max_missing(score_id)
    return (f"{n_missing} of {n_items} items unanswered "
            f"(at most {allowed} may be missing)")


def _off_scale(scale, value: float) -> str:
    if scale.min <= value <= scale.max:
        return (f"not on a step of the scale {scale.min:g}–{scale.max:g} "
                f"(steps of {scale.step:g})")
    return f"outside the scale {scale.min:g}–{scale.max:g}"


def _as_number(raw: object, item_id: str) -> float:
    if raw is None:
        return np.nan
    if isinstance(raw, (bool, np.bool_)):
        raise ScoringError("is not a number", item=item_id, value=raw)
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return np.nan
        try:
            value = float(text)
        except ValueError:
            raise ScoringError("is not a number", item=item_id, value=raw) from None
    elif isinstance(raw, (int, float, np.integer, np.floating)):
        value = float(raw)
        if np.isnan(value):
            return np.nan
    else:
        raise ScoringError("is not a number", item=item_id, value=raw)
    if not np.isfinite(value):
        raise ScoringError("is not a finite number", item=item_id, value=raw)
    return value


def _numeric_column(values: pd.Series, item_id: str, file: str | None,
                    line: Callable[[int], int]) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values):
        bad = np.ones(len(values), dtype=bool)
        parsed = np.full(len(values), np.nan)
    elif pd.api.types.is_numeric_dtype(values):
        parsed = values.to_numpy(dtype=float)
        bad = np.isinf(parsed)
    else:
        text = values.astype(object)
        stripped = text.where(text.isna(), text.astype(str).str.strip())
        stripped = stripped.where(stripped != "", np.nan)
        parsed = pd.to_numeric(stripped, errors="coerce").to_numpy(dtype=float)
        bad = (np.isnan(parsed) & stripped.notna().to_numpy()) | np.isinf(parsed)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"{values.iloc[row]!r} is not a number (item '{item_id}')",
                         file=file, line=line(row), column=item_id)
    return parsed


def _furthest_cutoff(instrument: Instrument, score_id: str, scores: np.ndarray) -> np.ndarray:
    """Per row, the meaning of the furthest cutoff the score reached ("" when none)."""
    cutoffs = [c for c in instrument.cutoffs if c.score == score_id]
    # Visit cutoffs from the least to the most extreme so that the last one reached wins.
    cutoffs.sort(key=lambda c: c.value if c.when in ("at_or_above", "above") else -c.value)
    labels = np.full(len(scores), "", dtype=object)
    for cutoff in cutoffs:
        labels[cutoff.reached(scores)] = cutoff.meaning
    return labels

"""Reliability of a multi-item scale: Cronbach's alpha, omega total, item statistics.

The numbers reproduce R's psych package (``psych::alpha`` and
``psych::omega(x, nfactors = 1)``): with ``missing="pairwise"`` its defaults
on data with missing answers, with ``missing="listwise"`` (the default here)
psych on the complete rows. The tests compare them with stored R output in
``tests/reference/psychometrics/``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .distributions import f_quantile
from .errors import InputError, NotEnoughDataError, ScoringError

#: Bounds psych::fa puts on the uniquenesses of a minres solution.
_UNIQUENESS_BOUNDS = (0.005, 1.0)

MIN_ITEMS = 2
MIN_ROWS = 3

#: How rows with a missing answer are handled: "listwise" leaves them out;
#: "pairwise" uses every answer, each covariance on the rows that answered both
#: items (psych::alpha's and psych::omega's default).
MISSING = ("listwise", "pairwise")


@dataclass(frozen=True)
class ItemStatistics:
    """How one item behaves within the scale."""

    item: str
    #: Corrected item–total correlation: the item with the sum of the other items.
    r_drop: float
    #: Raw alpha of the scale without this item (NaN for a two-item scale).
    alpha_if_deleted: float
    #: Loading on the single factor of the omega model (NaN for a two-item scale).
    loading: float
    reversed: bool = False

    def to_dict(self) -> dict:
        return {"item": self.item, "r_drop": self.r_drop,
                "alpha_if_deleted": self.alpha_if_deleted, "loading": self.loading,
                "reversed": self.reversed}


@dataclass(frozen=True)
class Reliability:
    """Reliability of a scale (on its complete rows, or pairwise)."""

    #: Rows used: the complete rows (listwise), or every row (pairwise; the n of the
    #: Feldt interval, as psych::alpha counts it).
    n: int
    #: Rows left out because an answer was missing (listwise; 0 pairwise).
    n_dropped: int
    #: Number of items.
    k: int
    #: Cronbach's alpha from the item covariances (psych's ``raw_alpha``).
    alpha: float
    #: Feldt confidence interval of alpha, (low, high).
    alpha_ci: tuple[float, float]
    #: McDonald's omega total from a one-factor minres model (NaN for two items).
    omega_total: float
    items: tuple[ItemStatistics, ...]
    confidence: float = 0.95
    alpha_ci_method: str = "feldt"
    #: Plain-language warnings about the result (e.g. an item that looks unreversed).
    notes: tuple[str, ...] = ()
    #: "listwise" or "pairwise" (see MISSING).
    missing: str = "listwise"
    #: Rows with an answer to every item.
    n_complete: int | None = None
    #: Fewest rows on which a covariance was computed (pairwise: the pair of items
    #: answered together least often; listwise: n).
    n_pairwise_min: int | None = None

    def item(self, name: str) -> ItemStatistics:
        for stats_ in self.items:
            if stats_.item == name:
                return stats_
        raise KeyError(name)

    def to_dict(self) -> dict:
        return {
            "missing": self.missing,
            "n": self.n,
            "n_dropped": self.n_dropped,
            "n_complete": self.n_complete,
            "n_pairwise_min": self.n_pairwise_min,
            "k": self.k,
            "alpha": self.alpha,
            "alpha_ci": [self.alpha_ci[0], self.alpha_ci[1]],
            "alpha_ci_method": self.alpha_ci_method,
            "confidence": self.confidence,
            "omega_total": self.omega_total,
            "items": [item.to_dict() for item in self.items],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class OneFactorModel:
    """A one-factor minres solution of a correlation matrix."""

    loadings: np.ndarray
    uniquenesses: np.ndarray
    #: True when a uniqueness reached its lower bound (a Heywood case).
    at_bound: bool


def reliability(data, items: Sequence[str] | None = None, reverse: Iterable[str] = (),
                min: float | None = None, max: float | None = None,  # noqa: A002 (scale words)
                confidence: float = 0.95, missing: str = "listwise") -> Reliability:
    """Alpha, its confidence interval, omega total and item statistics of a scale.

    Parameters
    ----------
    data : pandas.DataFrame, 2-D array-like, or a mapping of item name to numbers
        One row per respondent, one column per item. Arrays get the item names
        ``item1`` … ``itemk``. A mapping of columns (e.g. read by
        `alliance.core.tables.read_numeric_columns`) needs no pandas.
    items : the item columns to use (default: every column).
    reverse : items to reverse-key as ``min + max − x`` before anything else.
    min, max : the lowest and highest possible answer. Required with ``reverse``;
        when given, every answer must lie within them.
    confidence : coverage of the alpha interval (default 0.95).
    missing : "listwise" (default): leave out rows with a missing answer, as
        psych on ``na.omit(x)``. "pairwise": each covariance (and, for omega,
        each correlation) on the rows that answered both items, as psych::alpha
        and psych::omega do by default; the Feldt interval then takes every row
        as n, as psych::alpha does (even a row without any answer, with a note).

    Returns
    -------
    Reliability
        ``n`` rows used and ``n_dropped`` left out, ``k`` items, ``alpha``,
        ``alpha_ci``, ``omega_total``, per item ``r_drop``,
        ``alpha_if_deleted`` and ``loading``, and ``missing``, ``n_complete``
        and ``n_pairwise_min`` (fewest rows behind one covariance).

    Raises
    ------
    InputError
        Unknown or non-numeric item columns, fewer than 2 items, an item with
        the same answer in every complete row, ``reverse`` without ``min``/``max``.
    ScoringError
        An answer outside ``min``–``max``.
    NotEnoughDataError
        Fewer than 3 complete rows (listwise), or a pair of items answered
        together in fewer than 3 rows (pairwise).

    Examples
    --------
    >>> answers = [[4, 5, 4], [2, 3, 2], [3, 3, 4], [5, 4, 5], [1, 2, 2]]
    >>> result = reliability(answers)
    >>> result.n, result.k, round(result.alpha, 3)
    (5, 3, 0.929)
    >>> [round(item.r_drop, 3) for item in result.items]
    [0.971, 0.776, 0.872]
    >>> holes = [[4, 5, 4], [2, None, 2], [3, 3, 4], [5, 4, 5], [1, 2, 2], [None, 4, 4]]
    >>> reliability(holes).n, reliability(holes, missing="pairwise").n
    (4, 6)

    Notes
    -----
    With item covariance matrix C of the k keyed items and n complete rows:

    - alpha = k / (k − 1) · (1 − tr(C) / ΣC)  (Cronbach, 1951; psych's ``raw_alpha``).
    - Feldt interval: 1 − (1 − alpha) · F(1 − p/2; n − 1, (n − 1)(k − 1)) to
      1 − (1 − alpha) · F(p/2; n − 1, (n − 1)(k − 1)), p = 1 − confidence
      (Feldt, Woodruff & Salih, 1987); the "Feldt" row psych::alpha prints
      under "95% confidence boundaries".
    - r_drop of item i = (Σ_j C_ij − C_ii) / √(C_ii · ΣC_(−i)), the correlation
      of the item with the sum of the other items.
    - alpha if item deleted: alpha of C without row and column i.
    - omega total = (ΣR − Σ(1 − λ_i²)) / ΣR, with R the item correlation matrix
      and λ the loadings of one factor fitted by minimum residual (minres) as in
      psych::fa (see :func:`one_factor_minres`) (McDonald, 1999). As in
      psych::omega, items that load negatively are reflected in ΣR.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika, 16(3), 297–334.

    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
    coefficient alpha. Applied Psychological Measurement, 11(1), 93–103.

    McDonald, R. P. (1999). Test theory: A unified treatment. Erlbaum.

    Revelle, W. (2022). psych: Procedures for psychological, psychometric, and
    personality research (R package version 2.2.9).
    """
    # Columns already parsed as numbers skip pandas (the command line starts faster).
    frame = None if isinstance(data, Mapping) else _as_frame(data)
    columns = [str(c) for c in (data if frame is None else frame.columns)]
    names = columns if items is None else [str(i) for i in items]
    if len(set(names)) != len(names):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"item{'s' if len(duplicated) > 1 else ''} listed twice: "
                         f"{', '.join(duplicated)}")
    if len(names) < MIN_ITEMS:
        raise InputError(f"reliability needs at least {MIN_ITEMS} items, got {len(names)}"
                         + (f" ({names[0]})" if names else ""))
    unknown = [n for n in names if n not in columns]
    if unknown:
        raise InputError(
            f"no item column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(u) for u in unknown)} (the data has: "
            f"{', '.join(columns)})")
    reverse = [str(r) for r in reverse]
    not_selected = [r for r in reverse if r not in names]
    if not_selected:
        raise InputError(f"cannot reverse {', '.join(repr(r) for r in not_selected)}: "
                         "not among the selected items")
    if reverse and (min is None or max is None):
        raise InputError("reversing items needs the scale's minimum and maximum "
                         "(reversed answer = min + max − answer)")
    if (min is None) != (max is None):
        raise InputError("give both the scale's minimum and maximum, or neither")
    if min is not None and not max > min:
        raise InputError(f"the scale maximum ({max:g}) must be greater than its minimum ({min:g})")

    if missing not in MISSING:
        raise InputError(f"missing must be one of {', '.join(MISSING)}, got {missing!r}")

    values = _numeric_items(frame, names) if frame is not None else _mapped_items(data, names)
    if min is not None:
        _check_range(values, names, min, max)
    answered = ~np.isnan(values)
    complete = answered.all(axis=1)
    n_complete = int(complete.sum())
    if missing == "listwise":
        n_dropped = int((~complete).sum())
        values = values[complete]
        n, k = values.shape
        if n < MIN_ROWS:
            raise NotEnoughDataError(
                f"reliability needs at least {MIN_ROWS} complete rows; {n} of "
                f"{n + n_dropped} rows have an answer to every selected item")
        pair_min = n
    else:
        # psych::alpha's Feldt interval takes every row of the data as n (nrow(x)),
        # even a row without any answer; so does this, with a note.
        n_dropped = 0
        n_unanswered = int((~answered.any(axis=1)).sum())
        n, k = values.shape
        together = answered.T.astype(int) @ answered.astype(int)
        pair_min = int(together.min())
        if pair_min < MIN_ROWS:
            i, j = np.unravel_index(int(np.argmin(together)), together.shape)
            which = (f"items {names[i]!r} and {names[j]!r} are answered together"
                     if i != j else f"item {names[i]!r} is answered")
            raise NotEnoughDataError(
                f"reliability needs every pair of items answered together in at least "
                f"{MIN_ROWS} rows; {which} in {pair_min}")
    flat = [names[j] for j in range(k) if np.nanmax(values[:, j]) == np.nanmin(values[:, j])]
    if flat:
        column = values[:, names.index(flat[0])]
        rows = "complete row" if missing == "listwise" else "row that answers it"
        raise InputError(
            f"item {flat[0]!r} has the same answer ({column[~np.isnan(column)][0]:g}) in "
            f"every {rows}, so it cannot contribute to reliability; leave it out",
            column=flat[0])

    reversed_mask = np.array([name in reverse for name in names])
    if reversed_mask.any():
        values[:, reversed_mask] = min + max - values[:, reversed_mask]

    if missing == "listwise":
        covariance = np.cov(values, rowvar=False, ddof=1)
        correlation = _correlation(covariance)
    else:
        # R's cov(x, use = "pairwise") and cor(x, use = "pairwise"): each entry on the
        # rows that answered both items (a correlation with the two SDs of those rows).
        import pandas as pd

        table = pd.DataFrame(values)
        covariance = table.cov(ddof=1).to_numpy()
        correlation = table.corr().to_numpy()
    alpha = cronbach_alpha_from_covariance(covariance)
    low, high = alpha_confidence_interval(alpha, n, k, confidence)
    r_drop = corrected_item_total_correlations(covariance)
    if k > 2:
        dropped = [cronbach_alpha_from_covariance(np.delete(np.delete(covariance, j, 0), j, 1))
                   for j in range(k)]
    else:
        # One item left has no alpha (psych prints a regression slope here instead).
        dropped = [np.nan] * k

    notes = []
    if missing == "pairwise":
        if n_unanswered:
            notes.append(f"{n_unanswered} row{'s' if n_unanswered > 1 else ''} answer no item "
                         "but count in n (the Feldt interval's), as psych::alpha counts them")
    if k >= 3:
        model = one_factor_minres(correlation)
        omega = _omega_total(correlation, model.loadings)
        loadings = model.loadings
        if model.at_bound:
            notes.append("the one-factor model hit a uniqueness bound (a Heywood case): "
                         "an item is almost entirely explained by the factor; read omega "
                         "with care")
    else:
        omega = np.nan
        loadings = np.full(k, np.nan)
        notes.append("omega needs at least 3 items (a one-factor model of 2 items is "
                     "not identified)")
    for j in np.flatnonzero(r_drop < 0):
        notes.append(f"item {names[j]!r} correlates negatively with the rest of the scale; "
                     "should it be reversed?")
    if np.any(loadings < 0):
        notes.append("omega total treats items with a negative loading as reversed "
                     "(as psych::omega does); alpha does not")

    return Reliability(
        n=int(n), n_dropped=n_dropped, k=int(k), alpha=float(alpha),
        alpha_ci=(float(low), float(high)), omega_total=float(omega),
        items=tuple(ItemStatistics(item=names[j], r_drop=float(r_drop[j]),
                                   alpha_if_deleted=float(dropped[j]),
                                   loading=float(loadings[j]), reversed=bool(reversed_mask[j]))
                    for j in range(k)),
        confidence=confidence, notes=tuple(notes), missing=missing, n_complete=n_complete,
        n_pairwise_min=pair_min)


@dataclass(frozen=True)
class GroupReliability:
    """Reliability within one group (e.g. one language); ``result`` is None with a ``note``
    when the group's rows cannot carry the statistics."""

    group: str
    rows: int
    result: Reliability | None
    note: str | None = None

    def to_dict(self) -> dict:
        return {"group": self.group, "rows": self.rows,
                "result": None if self.result is None else self.result.to_dict(),
                "note": self.note}


@dataclass(frozen=True)
class ReliabilityByGroup:
    """Reliability of all rows and of each group of a column, groups in sorted order."""

    column: str
    overall: Reliability
    groups: tuple[GroupReliability, ...]
    rows_without_group: int = 0

    def to_dict(self) -> dict:
        return {"group_column": self.column, "overall": self.overall.to_dict(),
                "groups": [g.to_dict() for g in self.groups],
                "rows_without_group": self.rows_without_group}


def reliability_by_group(data, group: str, items: Sequence[str] | None = None,
                         reverse: Iterable[str] = (), min: float | None = None,  # noqa: A002
                         max: float | None = None, confidence: float = 0.95,  # noqa: A002
                         missing: str = "listwise") -> ReliabilityByGroup:
    """:func:`reliability` of all rows and separately of the rows of each value of ``group``
    (a language, a site), to see whether a translation or a place behaves like the rest.

    Each group's numbers are exactly :func:`reliability` on that group's rows. A group
    whose rows cannot carry the statistics (fewer than 3 complete rows, or an item with
    one answer throughout the group) gets a ``note`` instead of a result; rows with no
    group value are counted in ``rows_without_group`` and used only in ``overall``.

    Raises
    ------
    InputError
        No column ``group``, ``group`` is also an item, or any problem
        :func:`reliability` raises for the whole data.
    """
    frame = _as_frame(data)
    group = str(group)
    if group not in frame.columns:
        raise InputError(f"no group column {group!r} (the data has: "
                         f"{', '.join(map(str, frame.columns))})")
    names = [c for c in frame.columns if c != group] if items is None else [str(i) for i in items]
    if group in names:
        raise InputError(f"{group!r} cannot be both an item and the group column", column=group)
    # The whole data first: every option and column problem is an error for the run.
    overall = reliability(frame, names, reverse=reverse, min=min, max=max,
                          confidence=confidence, missing=missing)
    labels = frame[group].map(_group_label)
    results = []
    for label in sorted(labels.dropna().unique()):
        rows = frame[(labels == label).to_numpy()]
        try:
            result = reliability(rows, names, reverse=reverse, min=min, max=max,
                                 confidence=confidence, missing=missing)
        except (NotEnoughDataError, InputError) as exc:
            # Only the group's size or its answers can fail here (the whole data passed).
            results.append(GroupReliability(label, len(rows), None,
                                            f"too little data in this group: {exc}"))
            continue
        results.append(GroupReliability(label, len(rows), result))
    return ReliabilityByGroup(group, overall, tuple(results), int(labels.isna().sum()))


def _group_label(value) -> str | None:
    """A group value as text; blank means no group; 2.0 read from a file is "2"."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def cronbach_alpha_from_covariance(covariance) -> float:
    """Cronbach's alpha of the unit-weighted sum of items with this covariance matrix.

    Notes
    -----
    alpha = k / (k − 1) · (1 − tr(C) / ΣC), k the number of items.

    Examples
    --------
    >>> round(cronbach_alpha_from_covariance([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5],
    ...                                       [0.5, 0.5, 1.0]]), 4)
    0.75

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    Psychometrika, 16(3), 297–334.
    """
    covariance = np.asarray(covariance, dtype=float)
    k = covariance.shape[0]
    if k < 2:
        raise InputError(f"alpha needs at least 2 items, got {k}")
    return float(k / (k - 1) * (1.0 - np.trace(covariance) / covariance.sum()))


def alpha_confidence_interval(alpha: float, n: int, k: int,
                              confidence: float = 0.95) -> tuple[float, float]:
    """Feldt's confidence interval for Cronbach's alpha.

    Parameters
    ----------
    alpha : the sample alpha.
    n : number of respondents (complete rows).
    k : number of items.
    confidence : coverage, default 0.95.

    Returns
    -------
    (low, high)

    Examples
    --------
    >>> low, high = alpha_confidence_interval(0.85, n=100, k=10)
    >>> round(low, 3), round(high, 3)
    (0.802, 0.89)

    Notes
    -----
    (1 − alpha_population) / (1 − alpha) follows an F distribution with
    n − 1 and (n − 1)(k − 1) degrees of freedom, so with p = 1 − confidence

    low = 1 − (1 − alpha) · F(1 − p/2), high = 1 − (1 − alpha) · F(p/2).

    This is psych::alpha.ci, the "Feldt" row of psych::alpha's
    "95% confidence boundaries".

    References
    ----------
    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
    coefficient alpha. Applied Psychological Measurement, 11(1), 93–103.
    """
    if not 0 < confidence < 1:
        raise InputError(f"confidence must lie between 0 and 1, got {confidence}")
    if n < 2 or k < 2:
        raise InputError(f"the alpha interval needs at least 2 rows and 2 items (got {n} and {k})")
    p = 1.0 - confidence
    df1, df2 = n - 1, (n - 1) * (k - 1)
    low = 1.0 - (1.0 - alpha) * f_quantile(1.0 - p / 2.0, df1, df2)
    high = 1.0 - (1.0 - alpha) * f_quantile(p / 2.0, df1, df2)
    return float(low), float(high)


def corrected_item_total_correlations(covariance) -> np.ndarray:
    """Correlation of each item with the sum of the other items (psych's ``r.drop``).

    Notes
    -----
    r_drop_i = (Σ_j C_ij − C_ii) / √(C_ii · ΣC_(−i)), where ΣC_(−i) is the
    variance of the sum of the other items. Unlike the uncorrected item–total
    correlation, the item's own variance does not inflate it.

    References
    ----------
    Nunnally, J. C., & Bernstein, I. H. (1994). Psychometric theory (3rd ed.). McGraw-Hill.
    """
    covariance = np.asarray(covariance, dtype=float)
    k = covariance.shape[0]
    result = np.empty(k)
    for i in range(k):
        rest = np.delete(np.delete(covariance, i, 0), i, 1).sum()
        result[i] = (covariance[:, i].sum() - covariance[i, i]) / np.sqrt(covariance[i, i] * rest)
    return result


def one_factor_minres(correlation) -> OneFactorModel:
    """Fit one factor to a correlation matrix by minimum residual (psych::fa's default).

    Parameters
    ----------
    correlation : k × k correlation matrix, k ≥ 3.

    Returns
    -------
    OneFactorModel
        ``loadings`` (signed so that they sum to a positive number),
        ``uniquenesses`` ψ = 1 − λ² and whether a uniqueness hit its bound.

    Notes
    -----
    Minres chooses the loadings λ that minimise the squared off-diagonal
    residuals Σ_(i<j) (r_ij − λ_i λ_j)². As psych::fa does, the search runs over
    the uniquenesses ψ (bounded to [0.005, 1], starting from 1 − SMC): for given
    ψ, λ is the first eigenvector of R − diag(ψ) scaled by the square root of its
    eigenvalue. The optimum is the unweighted least squares solution, at which
    the gradient λ_i² + ψ_i − 1 vanishes (Harman & Jones, 1966).

    References
    ----------
    Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing residuals
    (minres). Psychometrika, 31(3), 351–368.

    Revelle, W. (2022). psych: Procedures for psychological, psychometric, and
    personality research (R package version 2.2.9), function ``fa``.
    """
    correlation = np.asarray(correlation, dtype=float)
    k = correlation.shape[0]
    if k < 3:
        raise InputError(f"a one-factor model needs at least 3 items, got {k}")
    smc = 1.0 - 1.0 / np.diag(np.linalg.pinv(correlation))
    psi = _minres_uniquenesses(correlation, np.clip(1.0 - smc, *_UNIQUENESS_BOUNDS))
    loadings = _first_factor(correlation, psi)[0]
    if loadings.sum() < 0:
        loadings = -loadings
    return OneFactorModel(loadings=loadings, uniquenesses=1.0 - loadings ** 2,
                          at_bound=bool(np.any(psi <= _UNIQUENESS_BOUNDS[0] + 1e-8)))


def _first_factor(correlation: np.ndarray, psi: np.ndarray):
    """Loadings of the first principal factor of R − diag(ψ), its eigenvalue, and the
    eigenvalues and eigenvectors of R − diag(ψ) (ascending)."""
    values, vectors = np.linalg.eigh(correlation - np.diag(psi))
    top = max(values[-1], 0.0)
    return vectors[:, -1] * np.sqrt(top), top, values, vectors


def _minres_uniquenesses(correlation: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """The uniquenesses ψ within _UNIQUENESS_BOUNDS that minimise the squared residual.

    f(ψ) = Σ_ij (R − diag(ψ) − λλ')²_ij with λ the first principal factor of
    R − diag(ψ) (psych's ``fit.residuals``). Its gradient is 2(λ² + ψ − diag R), zero
    at the fixed point of iterated principal-axis factoring, and its Hessian is
    2(I + ∂λ²/∂ψ) with, from the perturbation of the first eigenpair (μ, v),

        ∂λ_i²/∂ψ_j = −v_i² v_j² − 2μ v_i v_j Σ_(m>1) v_mi v_mj / (μ − μ_m).

    Projected Newton steps on the free uniquenesses (those not held at a bound by a
    gradient pointing out of the box), halved until f decreases, converge in a few
    steps to where psych's optim(method = "L-BFGS-B") stops; when no such step
    lowers f, a principal-axis step (ψ ← 1 − λ², a gradient step) is halved
    instead. numpy only: importing scipy.optimize would take longer than the whole
    `alliance psychometrics` command on a plain CSV file.
    """
    low, high = _UNIQUENESS_BOUNDS
    diagonal = np.diag(correlation)
    k = len(psi)

    def evaluate(psi):
        """f(ψ) and the first factor of R − diag(ψ) (see _first_factor)."""
        factor = _first_factor(correlation, psi)
        loading = factor[0]
        value = ((correlation - np.diag(psi) - np.outer(loading, loading)) ** 2).sum()
        return float(value), factor

    value, factor = evaluate(psi)
    for _ in range(500):
        loading, top, values, vectors = factor
        gradient = loading ** 2 + psi - diagonal  # half the gradient of f
        held = ((psi <= low) & (gradient > 0)) | ((psi >= high) & (gradient < 0))
        free = ~held
        if not free.any() or np.abs(gradient[free]).max() < 1e-13:
            break
        directions = []
        first, others = vectors[:, -1], vectors[:, :-1]
        gaps = top - values[:-1]
        if top > 0 and np.all(gaps > 0):
            coupling = (others / gaps) @ others.T
            hessian = (np.eye(k) - np.outer(first ** 2, first ** 2)
                       - 2.0 * top * np.outer(first, first) * coupling)[np.ix_(free, free)]
            curvatures, axes = np.linalg.eigh(hessian)
            # Newton's step with each curvature taken as positive, so that it goes
            # downhill where f is not convex (in a flat valley, along the valley).
            curvatures = np.maximum(np.abs(curvatures), 1e-10)
            direction = np.zeros(k)
            direction[free] = -axes @ ((axes.T @ gradient[free]) / curvatures)
            directions.append(direction)
        directions.append(-gradient)  # the principal-axis step ψ ← 1 − λ²
        for direction in directions:
            for scale in 0.5 ** np.arange(50):
                trial = np.clip(psi + scale * direction, low, high)
                trial_value, trial_factor = evaluate(trial)
                # Close to the minimum f changes by less than its rounding error: a
                # whole step that leaves it equal to within that is taken.
                if trial_value < value or (scale == 1 and trial_value <= value * (1 + 1e-13)):
                    break
            else:
                continue
            psi, value, factor = trial, trial_value, trial_factor
            break
        else:
            break  # no step lowers f in double precision: a minimum
    return psi


def _omega_total(correlation: np.ndarray, loadings: np.ndarray) -> float:
    signs = np.where(loadings < 0, -1.0, 1.0)
    total = float(signs @ correlation @ signs)
    unique = float((np.diag(correlation) - loadings ** 2).sum())
    return (total - unique) / total


def _correlation(covariance: np.ndarray) -> np.ndarray:
    scale = 1.0 / np.sqrt(np.diag(covariance))
    correlation = covariance * np.outer(scale, scale)
    np.fill_diagonal(correlation, 1.0)
    return correlation


def _as_frame(data) -> pd.DataFrame:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        frame = data.copy()
        frame.columns = [str(c) for c in frame.columns]
        return frame
    try:
        array = np.asarray(data)
        if array.dtype.kind not in "biuf":
            array = np.asarray(data, dtype=object)
    except (TypeError, ValueError):  # ragged input
        raise InputError("item data must be a table (rows × items) with the same number "
                         "of answers in every row") from None
    if array.ndim != 2:
        raise InputError(f"item data must be a table (rows × items), got {array.ndim} dimension(s)")
    return pd.DataFrame(array, columns=[f"item{j + 1}" for j in range(array.shape[1])])


def _mapped_items(data: Mapping, names: list[str]) -> np.ndarray:
    """Columns given as numbers (NaN for a missing answer), as a rows × items array."""
    try:
        values = np.column_stack([np.asarray(data[name], dtype=float) for name in names])
    except (TypeError, ValueError):
        raise InputError("item columns must hold numbers, all of the same length") from None
    for j in np.flatnonzero(np.isinf(values).any(axis=0)):
        raise InputError("holds an infinite value", column=names[j])
    return values


def _numeric_items(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    import pandas as pd

    columns = []
    for name in names:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            raise InputError("holds true/false values, not numeric answers", column=name)
        if pd.api.types.is_numeric_dtype(column):
            columns.append(column.to_numpy(dtype=float))
            if np.isinf(columns[-1]).any():
                raise InputError("holds an infinite value", column=name)
            continue
        parsed = pd.to_numeric(column, errors="coerce")
        bad = parsed.isna() & column.notna()
        if bad.any():
            # Blank text counts as missing, anything else is an error.
            bad &= column.astype(str).str.strip() != ""
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"{column.iloc[row]!r} (data row {row + 1}) is not a number",
                             column=name)
        parsed = parsed.astype(float)
        if np.isinf(parsed).any():
            raise InputError("holds an infinite value", column=name)
        columns.append(parsed.to_numpy())
    return np.column_stack(columns)


def _check_range(values: np.ndarray, names: list[str], low: float, high: float) -> None:
    outside = ~np.isnan(values) & ((values < low) | (values > high))
    if outside.any():
        row, column = np.argwhere(outside)[0]
        value = float(values[row, column])
        raise ScoringError(f"outside the scale range {low:g}–{high:g} (data row {row + 1})",
                           item=names[column], value=int(value) if value.is_integer() else value)

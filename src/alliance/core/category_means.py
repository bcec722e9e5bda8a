"""Mean of a repeated measure in each category of sessions, with a random intercept per client.

Used to compare the client-rated alliance between session formats (in person, video,
phone, text): sessions of one client are not independent, so a plain mean per format
would count a client with many video sessions as many clients. The model is

    y_ij = μ_format(ij) + u_i + ε_ij,   u_i ~ N(0, τ²),   ε_ij ~ N(0, σ²),

fitted by REML with `alliance.core.mixed.fit_reml` (as ``lme4::lmer(y ~ 0 + format +
(1 | client))``). With one indicator column per category and no intercept, each
fixed effect is that category's estimated mean; its interval uses the Satterthwaite
degrees of freedom (as lmerTest). The test suite compares the estimates and standard
errors with statsmodels' MixedLM.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .errors import InputError, NotEnoughDataError
from .mixed import fit_reml, numeric_column

#: A category with fewer rated sessions than this gets a note instead of a mean.
MIN_SESSIONS = 10
#: The model needs at least this many clients among the categories it estimates.
MIN_CLIENTS = 5


@dataclass(frozen=True)
class CategoryMean:
    """One category's estimated mean (None with a ``note`` when it has too few sessions)."""

    category: str
    n_sessions: int
    n_clients: int
    estimate: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    df: float | None = None
    note: str | None = None


@dataclass(frozen=True)
class CategoryMeans:
    """Result of `category_means`."""

    categories: tuple[CategoryMean, ...]
    n_sessions: int
    n_clients: int
    client_variance: float
    residual_variance: float
    confidence: float
    converged: bool
    singular: bool
    notes: tuple[str, ...] = ()

    def category(self, name: str) -> CategoryMean:
        for item in self.categories:
            if item.category == name:
                return item
        raise KeyError(name)


def category_means(frame: pd.DataFrame, outcome: str, category: str, client: str, *,
                   min_sessions: int = MIN_SESSIONS, confidence: float = 0.95) -> CategoryMeans:
    """Each category's mean of ``outcome`` from a random-intercept model per client.

    Rows with a missing outcome or a blank category are left out. A category with fewer
    than ``min_sessions`` rows is reported with its counts and a note, and left out of
    the model; the others are estimated together (they share the client intercepts).

    Raises
    ------
    InputError
        A missing column, or an outcome that is not numeric.
    NotEnoughDataError
        No category has ``min_sessions`` rows, or those that have them come from fewer
        than ``MIN_CLIENTS`` clients.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> clients = np.repeat(np.arange(20), 6)
    >>> kind = np.tile(["video", "in_person"], 60)
    >>> y = 5 + 0.5 * (kind == "video") + rng.normal(size=20)[clients] + rng.normal(size=120)
    >>> frame = pd.DataFrame({"y": y, "kind": kind, "client": clients})
    >>> result = category_means(frame, "y", "kind", "client")
    >>> [(c.category, c.n_sessions, round(c.estimate, 2)) for c in result.categories]
    [('in_person', 60, 4.87), ('video', 60, 5.43)]
    """
    missing = [c for c in (outcome, category, client) if c not in frame.columns]
    if missing:
        raise InputError(f"no column {missing[0]!r} (the data has: "
                         f"{', '.join(map(str, frame.columns))})")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence}")
    frame = frame.reset_index(drop=True)  # numeric_column's index is 0-based too
    y = numeric_column(frame[outcome], outcome)
    labels = frame[category].astype("string").str.strip()
    usable = y.notna() & labels.notna() & (labels != "") & frame[client].notna()
    data = pd.DataFrame({"y": y[usable].to_numpy(float),
                         "category": labels[usable].astype(str).to_numpy(),
                         "client": frame[client][usable].astype(str).to_numpy()})
    counts = data.groupby("category")["client"].agg(["size", "nunique"])
    fitted = [name for name in counts.index if counts.loc[name, "size"] >= min_sessions]
    if not fitted:
        raise NotEnoughDataError(f"no {category} has {min_sessions} or more rated sessions")
    model = data[data["category"].isin(fitted)]
    n_clients = int(model["client"].nunique())
    if n_clients < MIN_CLIENTS:
        raise NotEnoughDataError(f"the model needs rated sessions of at least {MIN_CLIENTS} "
                                 f"clients; there are {n_clients}")
    X = np.column_stack([(model["category"] == name).to_numpy(float) for name in fitted])
    fit = fit_reml(model["y"].to_numpy(), X, fitted, units=model["client"].to_numpy(),
                   Z=np.ones(len(model)), df="satterthwaite")
    results = []
    for name in counts.index:
        size, clients = int(counts.loc[name, "size"]), int(counts.loc[name, "nunique"])
        if name not in fitted:
            results.append(CategoryMean(
                name, size, clients,
                note=f"too few rated sessions for an estimate ({size}; at least "
                     f"{min_sessions} needed)"))
            continue
        j = fitted.index(name)
        estimate, se, df = float(fit.fe[j]), float(fit.se[j]), float(fit.df[j])
        half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
        results.append(CategoryMean(name, size, clients, estimate, se, estimate - half,
                                    estimate + half, df))
    notes = []
    if fit.singular:
        notes.append("the clients' means do not differ beyond chance (a boundary fit); the "
                     "intervals treat sessions as independent")
    if not fit.converged:
        notes.append("the model's optimum was not confirmed; read the estimates with care")
    return CategoryMeans(tuple(results), len(model), n_clients, float(fit.cov_re[0, 0]),
                         float(fit.scale), confidence, bool(fit.converged), bool(fit.singular),
                         tuple(notes))

"""Feedback on one therapist's own practice: estimates with shrinkage and intervals.

Every figure here is about one therapist *within their clinic*: their alliance level and
trend across their clients, their clients' outcomes against the expected range, the share
of their clients' ruptures repaired and the time to repair, and how their own alliance
ratings track their clients'. Each comes from a multilevel model over the whole clinic
with a random effect per therapist, so a therapist with few clients is shrunk toward the
clinic mean (their conditional mode, or BLUP), with an interval from its conditional
variance (lme4's ``ranef(condVar = TRUE)``). The figure is shown beside the clinic's
spread (where the middle 80 % of therapists are expected to lie), never in a ranking:
small caseloads mostly show chance and case mix, and a league table would invite reading
that noise as skill (Goldstein & Spiegelhalter 1996).

With too few clients or therapists a function does not raise: it returns a `Figure`
with ``reason`` set, which a page can show as it is.

The models are fitted by the project's REML engine (`alliance.core.mixed`); the tests
compare every number with R's lme4 (tests/reference/practice).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .errors import AllianceError, InputError
from .mixed import fit_reml, numeric_column

#: Fewest clients with data for one therapist's figure. Below this, one or two clients
#: decide the figure; it would say more about them than about the therapist's practice.
MIN_CLIENTS = 5

#: Fewest therapists with data in the clinic. The clinic's spread between therapists (and
#: so how much a figure is shrunk) cannot be estimated from fewer.
MIN_THERAPISTS = 3

#: Fewest clients, and ratings, on each side of a practice focus's start date.
MIN_FOCUS_CLIENTS = 3
MIN_FOCUS_RATINGS = 10

#: Coverage of the clinic's spread: the middle 80 % of therapists.
SPREAD_COVERAGE = 0.80


@dataclass(frozen=True)
class Figure:
    """One therapist's estimate beside the clinic's spread, or the reason there is none.

    Attributes
    ----------
    name : what is estimated, e.g. ``"alliance level"``.
    therapist : the therapist's label.
    reason : why there is no estimate (too few clients, …); empty when there is one.
    estimate : the therapist's model-based figure (clinic mean + their conditional mode).
    lower, upper : its interval (``estimate ∓ z · se``).
    se : the square root of the conditional variance.
    raw : the plain mean of the therapist's own data (unshrunk; for the details).
    clinic_mean : the clinic's mean (the model's intercept), with clinic_lower and
        clinic_upper (``∓ z · SE``).
    spread_lower, spread_upper : where the middle 80 % of therapists lie
        (``clinic_mean ∓ 1.2816 τ̂``).
    therapist_sd : τ̂, the standard deviation between therapists.
    n_clients, n_obs : the therapist's clients and observations in the model.
    n_therapists, n_clinic : therapists and observations in the clinic's model.
    level : coverage of the interval.
    model : the model in lme4's notation.
    singular : τ̂ is (nearly) zero: the data show no difference between therapists beyond
        chance, and every therapist's estimate is the clinic's.
    """

    name: str
    therapist: str
    reason: str = ""
    estimate: float = math.nan
    lower: float = math.nan
    upper: float = math.nan
    se: float = math.nan
    raw: float = math.nan
    clinic_mean: float = math.nan
    clinic_lower: float = math.nan
    clinic_upper: float = math.nan
    spread_lower: float = math.nan
    spread_upper: float = math.nan
    therapist_sd: float = math.nan
    n_clients: int = 0
    n_obs: int = 0
    n_therapists: int = 0
    n_clinic: int = 0
    level: float = 0.95
    model: str = ""
    singular: bool = False

    @property
    def available(self) -> bool:
        return not self.reason

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Modes:
    """Conditional modes of the therapist random effects of one fitted model.

    Attributes
    ----------
    fe : the fixed effects (intercept first).
    fe_se : their standard errors.
    names : their names.
    cov_therapist : covariance of the therapist random effects (q × q).
    client_variance : variance of the client-within-therapist intercept (NaN without it).
    residual_variance : σ̂².
    modes : therapist label → conditional mode (length q).
    cond_var : therapist label → conditional covariance (q × q).
    n_obs, n_clients : therapist label → observations and clients.
    raw : therapist label → mean of the response.
    singular : a variance estimated as (nearly) zero.
    model : the model in lme4's notation.
    """

    fe: np.ndarray
    fe_se: np.ndarray
    names: tuple[str, ...]
    cov_therapist: np.ndarray
    client_variance: float
    residual_variance: float
    modes: dict[str, np.ndarray]
    cond_var: dict[str, np.ndarray]
    n_obs: dict[str, int]
    n_clients: dict[str, int]
    raw: dict[str, float]
    singular: bool
    model: str

    @property
    def n_total(self) -> int:
        return int(sum(self.n_obs.values()))


def _frame(data: pd.DataFrame, columns: Sequence[str], numeric: Sequence[str]) -> pd.DataFrame:
    for column in columns:
        if column not in data.columns:
            raise InputError("is not in the data", column=column)
    out = pd.DataFrame({c: pd.Series(data[c].to_numpy(object)) for c in columns})
    for c in numeric:
        out[c] = numeric_column(data[c], c)
    out = out.dropna()
    for c in columns:
        if c not in numeric:
            out[c] = out[c].astype(str)
    return out.reset_index(drop=True)


def fit_modes(data: pd.DataFrame, *, value: str, therapist: str = "therapist",
              client: str | None = "client", covariates: Sequence[str] = (),
              slope: str | None = None) -> Modes:
    """Fit a clinic-wide mixed model and return each therapist's conditional mode.

    Parameters
    ----------
    data : one row per observation (e.g. per rated session, or per rupture).
    value : the response column.
    therapist : the therapist's label.
    client : the client's label; with it, clients get a random intercept nested in their
        therapist (``(1 | therapist:client)``). Not allowed together with `slope`.
    covariates : further fixed effects, centred on their means (so the intercept is the
        clinic's mean at the average covariate).
    slope : a column with a fixed and a random slope per therapist and no intercept
        (``value ~ 0 + slope + (0 + slope | therapist)``), for data already centred within
        clients (see `trend_figure`).

    Raises
    ------
    InputError
        A column is missing or not numeric.
    NotEnoughDataError
        Too few observations for the model.

    Notes
    -----
    The models, in lme4's notation, are

        value ~ 1 + covariates + (1 | therapist) + (1 | therapist:client)
        value ~ 0 + slope + (0 + slope | therapist)

    fitted by REML (`alliance.core.mixed.fit_reml`). With r = y − Xβ̂ and, for therapist j,
    Z_j their random-effect design, G the therapist covariance, σ_c² the client variance
    and C_j the client indicator matrix,

        V_j = σ̂² I + σ̂_c² C_j C_j' + Z_j G Z_j',
        b̂_j = G Z_j' V_j⁻¹ r_j,        Var(b_j | y) = G − G Z_j' V_j⁻¹ Z_j G.

    These are lme4's conditional modes and conditional variances: the posterior mean and
    covariance of the therapist's effect given the data, with β̂ and the variances taken
    as known (the client effects integrated out).
    """
    if client is not None and slope is not None:
        raise InputError("a therapist slope model has no client level")
    columns = [value, therapist, *covariates]
    numeric = [value, *covariates]
    if client is not None:
        columns.append(client)
    if slope is not None:
        columns.append(slope)
        numeric.append(slope)
    frame = _frame(data, columns, numeric)
    y = frame[value].to_numpy(float)
    n = len(y)
    cols = [np.ones(n)] if slope is None else [frame[slope].to_numpy(float)]
    names = ["(Intercept)"] if slope is None else [slope]
    for c in covariates:
        x = frame[c].to_numpy(float)
        cols.append(x - x.mean())
        names.append(c)
    X = np.column_stack(cols)
    labels = frame[therapist].to_numpy(str)
    if slope is None:
        Zg = np.ones((n, 1))
        if client is not None:
            units = np.char.add(np.char.add(labels, "\x1f"), frame[client].to_numpy(str))
            fit = fit_reml(y, X, names, units, np.ones((n, 1)), groups=labels)
            client_variance = float(fit.cov_re[0, 0])
            G = np.array([[fit.group_variance]])
        else:
            fit = fit_reml(y, X, names, labels, Zg)
            client_variance = math.nan
            G = fit.cov_re
    else:
        Zg = frame[slope].to_numpy(float)[:, None]
        fit = fit_reml(y, X, names, labels, Zg)
        client_variance = math.nan
        G = fit.cov_re
    residual = y - X @ fit.fe
    modes, cond_var, n_obs, n_clients, raw = {}, {}, {}, {}, {}
    for name in sorted(set(labels)):
        mine = labels == name
        Z = Zg[mine]
        V = fit.scale * np.eye(int(mine.sum())) + Z @ G @ Z.T
        if client is not None:
            codes = frame.loc[mine, client].to_numpy(str)
            V = V + client_variance * (codes[:, None] == codes[None, :])
        ZG = Z @ G
        solved = np.linalg.solve(V, np.column_stack([residual[mine], ZG]))
        modes[name] = ZG.T @ solved[:, 0]
        cond_var[name] = G - ZG.T @ solved[:, 1:]
        n_obs[name] = int(mine.sum())
        n_clients[name] = (int(frame.loc[mine, client].nunique()) if client is not None
                           else 0)
        raw[name] = float(y[mine].mean())
    if slope is None:
        model = f"{value} ~ 1" + "".join(f" + {c}" for c in covariates) + \
            f" + (1 | {therapist})" + (f" + (1 | {therapist}:{client})" if client else "")
    else:
        model = f"{value} ~ 0 + {slope} + (0 + {slope} | {therapist})"
    return Modes(fe=fit.fe, fe_se=fit.se, names=tuple(names), cov_therapist=G,
                 client_variance=client_variance, residual_variance=fit.scale, modes=modes,
                 cond_var=cond_var, n_obs=n_obs, n_clients=n_clients, raw=raw,
                 singular=fit.singular, model=model)


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise InputError(f"the interval's level must be between 0 and 1, not {level}")
    return float(stats.norm.ppf((1 + level) / 2))


def _shortage(data: pd.DataFrame, therapist_label: str, *, therapist: str, client: str,
              name: str, noun: str) -> str:
    """Why there is too little data for a figure, or "" when there is enough."""
    if data.empty or therapist not in data.columns:
        return f"There are no {noun} yet."
    therapists = data.groupby(therapist)[client].nunique()
    mine = int(therapists.get(therapist_label, 0))
    if mine < MIN_CLIENTS:
        return (f"The {name} needs {noun} from at least {MIN_CLIENTS} clients; "
                f"there {'is' if mine == 1 else 'are'} {mine} in this period.")
    enough = int((therapists >= 1).sum())
    if enough < MIN_THERAPISTS:
        return (f"The clinic's spread needs {noun} from at least {MIN_THERAPISTS} "
                f"therapists; there {'is' if enough == 1 else 'are'} {enough} in this period.")
    return ""


def level_figure(data: pd.DataFrame, therapist_label: str, *, value: str, name: str,
                 noun: str = "ratings", therapist: str = "therapist", client: str = "client",
                 covariates: Sequence[str] = (), level: float = 0.95) -> Figure:
    """One therapist's level of `value` across their clients, beside the clinic's spread.

    The model is ``value ~ 1 + covariates + (1 | therapist) + (1 | therapist:client)``
    (see `fit_modes`). The therapist's estimate is β̂₀ + b̂_j with interval
    β̂₀ + b̂_j ∓ z √Var(b_j | y); the clinic's spread is β̂₀ ∓ 1.2816 τ̂.

    Used for the alliance level (client-rated, POMP), the outcome against the expected
    range (observed minus expected), the therapist–client rating difference, the share
    of ruptures repaired (a 0/1 response: a linear probability model) and the sessions
    to repair.

    Returns a `Figure` with ``reason`` set, rather than raising, when the therapist has
    fewer than `MIN_CLIENTS` clients or the clinic fewer than `MIN_THERAPISTS`
    therapists with data, or the model cannot be fitted.
    """
    z = _z(level)
    needed = [value, therapist, client, *covariates]
    if not data.empty:
        missing = [c for c in needed if c not in data.columns]
        if missing:
            raise InputError("is not in the data", column=missing[0])
        data = data.dropna(subset=needed)
    reason = _shortage(data, therapist_label, therapist=therapist, client=client, name=name,
                       noun=noun)
    if reason:
        return Figure(name=name, therapist=therapist_label, reason=reason, level=level)
    try:
        modes = fit_modes(data, value=value, therapist=therapist, client=client,
                          covariates=covariates)
    except AllianceError as error:
        return Figure(name=name, therapist=therapist_label, level=level,
                      reason=f"The model for the {name} could not be fitted: {error}")
    return _figure(modes, therapist_label, 0, name=name, level=level, z=z)


def _figure(modes: Modes, label: str, k: int, *, name: str, level: float, z: float) -> Figure:
    mode = float(modes.modes[label][k])
    se = math.sqrt(max(float(modes.cond_var[label][k, k]), 0.0))
    centre, centre_se = float(modes.fe[k]), float(modes.fe_se[k])
    tau = math.sqrt(max(float(modes.cov_therapist[k, k]), 0.0))
    half = float(stats.norm.ppf((1 + SPREAD_COVERAGE) / 2)) * tau
    return Figure(
        name=name, therapist=label, estimate=centre + mode, lower=centre + mode - z * se,
        upper=centre + mode + z * se, se=se, raw=modes.raw[label], clinic_mean=centre,
        clinic_lower=centre - z * centre_se, clinic_upper=centre + z * centre_se,
        spread_lower=centre - half, spread_upper=centre + half, therapist_sd=tau,
        n_clients=modes.n_clients[label], n_obs=modes.n_obs[label],
        n_therapists=len(modes.modes), n_clinic=modes.n_total, level=level,
        model=modes.model, singular=modes.singular)


def trend_figure(data: pd.DataFrame, therapist_label: str, *, value: str, session: str,
                 name: str = "alliance trend", therapist: str = "therapist",
                 client: str = "client", level: float = 0.95) -> Figure:
    """How one therapist's clients' `value` changes per session of their work together.

    Notes
    -----
    Each client's ratings and session numbers are centred on the client's own means
    (ỹ = y − ȳ_i, s̃ = s − s̄_i), so that the trend is the change *within* clients, not a
    difference between clients who started earlier or later. The model is

        ỹ ~ 0 + s̃ + (0 + s̃ | therapist),

    and the therapist's trend is β̂ + b̂_j with interval ∓ z √Var(b_j | y), beside the
    clinic's spread β̂ ∓ 1.2816 τ̂ (see `fit_modes`). Clients with one rating add nothing.
    The model has no client level beyond the centring (the REML engine puts a random
    slope on one level only), so the interval treats a client's session-to-session
    deviations from their own line as independent.
    """
    z = _z(level)
    needed = [value, therapist, client, session]
    if not data.empty:
        missing = [c for c in needed if c not in data.columns]
        if missing:
            raise InputError("is not in the data", column=missing[0])
        data = _frame(data, needed, [value, session])
        counts = data.groupby([therapist, client])[value].transform("size")
        data = data[counts >= 2].copy()
        keys = [data[therapist], data[client]]
        data["_value"] = data[value] - data.groupby(keys)[value].transform("mean")
        data["_session"] = data[session] - data.groupby(keys)[session].transform("mean")
    reason = _shortage(data, therapist_label, therapist=therapist, client=client, name=name,
                       noun="two or more ratings")
    if reason:
        return Figure(name=name, therapist=therapist_label, reason=reason, level=level)
    try:
        modes = fit_modes(data, value="_value", therapist=therapist, client=None,
                          slope="_session")
    except AllianceError as error:
        return Figure(name=name, therapist=therapist_label, level=level,
                      reason=f"The model for the {name} could not be fitted: {error}")
    figure = _figure(modes, therapist_label, 0, name=name, level=level, z=z)
    mine = data[data[therapist] == therapist_label]
    x, y = mine["_session"].to_numpy(float), mine["_value"].to_numpy(float)
    raw = float((x * y).sum() / (x * x).sum()) if (x * x).sum() > 0 else math.nan
    return _replace(figure, n_clients=int(mine[client].nunique()), raw=raw,
                    model=f"{value}_c ~ 0 + {session}_c + (0 + {session}_c | {therapist}), "
                          f"centred within {client}")


def _replace(figure: Figure, **changes) -> Figure:
    values = figure.to_dict()
    values.update(changes)
    return Figure(**values)


@dataclass(frozen=True)
class Agreement:
    """How one therapist's alliance ratings track their clients', beside the clinic's spread.

    Attributes
    ----------
    correlation : the therapist's within-client correlation between their ratings and
        their clients' (session to session, each client's own means removed), shrunk
        toward the clinic's (empirical Bayes on Fisher's z).
    lower, upper : its interval.
    raw_correlation : the unshrunk within-client correlation, with raw_lower/raw_upper.
    clinic_correlation : the clinic's pooled (random-effects) correlation.
    spread_lower, spread_upper : where the middle 80 % of therapists' correlations lie.
    n_pairs, n_clients : sessions rated by both, and clients, of this therapist.
    n_therapists : therapists in the clinic's estimate.
    tau2 : the between-therapist variance of Fisher's z (DerSimonian–Laird).
    """

    therapist: str
    reason: str = ""
    correlation: float = math.nan
    lower: float = math.nan
    upper: float = math.nan
    raw_correlation: float = math.nan
    raw_lower: float = math.nan
    raw_upper: float = math.nan
    clinic_correlation: float = math.nan
    spread_lower: float = math.nan
    spread_upper: float = math.nan
    n_pairs: int = 0
    n_clients: int = 0
    n_therapists: int = 0
    tau2: float = math.nan
    level: float = 0.95

    @property
    def available(self) -> bool:
        return not self.reason

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class WithinCorrelation:
    """A within-client correlation on Fisher's z: r, z, its sampling variance, n and clients."""

    r: float
    z: float
    variance: float
    n: int
    clients: int


def within_client_correlation(x, y, clients) -> WithinCorrelation | None:
    """The pooled within-client correlation of x and y (None when it is undefined).

    Notes
    -----
    Each client's own means are removed from x and y, and r is the correlation of what
    remains. It is a partial correlation given the client indicators, so on Fisher's
    scale z = atanh(r) its sampling variance is 1 / (n − k − 2) for n sessions of k
    clients (k − 1 indicators and the usual n − 3).
    """
    frame = pd.DataFrame({"x": np.asarray(x, float), "y": np.asarray(y, float),
                          "c": np.asarray(clients).astype(str)}).dropna()
    n, k = len(frame), frame["c"].nunique()
    if n - k - 2 <= 0:
        return None
    dx = frame["x"] - frame.groupby("c")["x"].transform("mean")
    dy = frame["y"] - frame.groupby("c")["y"].transform("mean")
    sxx, syy = float((dx * dx).sum()), float((dy * dy).sum())
    if sxx <= 0 or syy <= 0:
        return None
    r = float((dx * dy).sum() / math.sqrt(sxx * syy))
    r = min(max(r, -0.999999), 0.999999)
    return WithinCorrelation(r=r, z=math.atanh(r), variance=1.0 / (n - k - 2), n=n, clients=k)


def agreement_figure(data: pd.DataFrame, therapist_label: str, *, client_rating: str,
                     therapist_rating: str, therapist: str = "therapist",
                     client: str = "client", level: float = 0.95) -> Agreement:
    """How one therapist's own alliance ratings track their clients', with shrinkage.

    Notes
    -----
    For each therapist j, z_j is the Fisher-transformed within-client correlation with
    sampling variance v_j (`within_client_correlation`). The between-therapist variance
    τ² is the DerSimonian–Laird estimate, with w_j = 1 / v_j,

        Q = Σ w_j (z_j − z̄_w)²,   τ² = max(0, (Q − (J − 1)) / (Σ w_j − Σ w_j² / Σ w_j)),

    the clinic's z̄ = Σ w*_j z_j / Σ w*_j with w*_j = 1 / (v_j + τ²), and the therapist's
    shrunk z is the empirical Bayes (BLUP) value

        λ_j = τ² / (τ² + v_j),   ẑ_j = z̄ + λ_j (z_j − z̄),
        Var(ẑ_j) = λ_j v_j + (1 − λ_j)² Var(z̄),   Var(z̄) = 1 / Σ w*_j,

    back-transformed with tanh (as metafor's ``blup(rma(method = "DL"))``). The clinic's
    spread is tanh(z̄ ∓ 1.2816 τ).

    References
    ----------
    DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials. Controlled
    Clinical Trials, 7(3), 177–188.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    Journal of Statistical Software, 36(3), 1–48.
    """
    z_level = _z(level)
    needed = [client_rating, therapist_rating, therapist, client]
    if not data.empty:
        missing = [c for c in needed if c not in data.columns]
        if missing:
            raise InputError("is not in the data", column=missing[0])
        data = data.dropna(subset=needed)
    reason = _shortage(data, therapist_label, therapist=therapist, client=client,
                       name="agreement of your ratings with your clients'",
                       noun="sessions rated by both client and therapist")
    if reason:
        return Agreement(therapist=therapist_label, reason=reason, level=level)
    per: dict[str, WithinCorrelation] = {}
    for name, rows in data.groupby(data[therapist].astype(str)):
        found = within_client_correlation(numeric_column(rows[therapist_rating], therapist_rating),
                                          numeric_column(rows[client_rating], client_rating),
                                          rows[client].to_numpy())
        if found is not None:
            per[name] = found
    if therapist_label not in per:
        return Agreement(therapist=therapist_label, level=level,
                         reason="Your ratings or your clients' do not vary within clients "
                                "enough to show how they move together.")
    if len(per) < MIN_THERAPISTS:
        return Agreement(therapist=therapist_label, level=level,
                         reason=f"The clinic's spread needs at least {MIN_THERAPISTS} "
                                f"therapists whose ratings vary; there are {len(per)}.")
    pooled = random_effects_pool([c.z for c in per.values()], [c.variance for c in per.values()])
    mine = per[therapist_label]
    shrink = pooled.tau2 / (pooled.tau2 + mine.variance)
    z_hat = pooled.mean + shrink * (mine.z - pooled.mean)
    # The clinic's mean is estimated too: its variance adds, weighted by (1 − λ)².
    se = math.sqrt(shrink * mine.variance + (1 - shrink) ** 2 * pooled.se ** 2)
    raw_se = math.sqrt(mine.variance)
    half = float(stats.norm.ppf((1 + SPREAD_COVERAGE) / 2)) * math.sqrt(pooled.tau2)
    return Agreement(
        therapist=therapist_label, correlation=math.tanh(z_hat),
        lower=math.tanh(z_hat - z_level * se), upper=math.tanh(z_hat + z_level * se),
        raw_correlation=mine.r, raw_lower=math.tanh(mine.z - z_level * raw_se),
        raw_upper=math.tanh(mine.z + z_level * raw_se),
        clinic_correlation=math.tanh(pooled.mean),
        spread_lower=math.tanh(pooled.mean - half), spread_upper=math.tanh(pooled.mean + half),
        n_pairs=mine.n, n_clients=mine.clients, n_therapists=len(per), tau2=pooled.tau2,
        level=level)


@dataclass(frozen=True)
class Pooled:
    """A DerSimonian–Laird random-effects pool: mean, its standard error, τ², Q."""

    mean: float
    se: float
    tau2: float
    q: float


def random_effects_pool(estimates: Sequence[float], variances: Sequence[float]) -> Pooled:
    """DerSimonian–Laird random-effects mean and τ² (see `agreement_figure`)."""
    y = np.asarray(estimates, float)
    v = np.asarray(variances, float)
    if len(y) < 2 or np.any(v <= 0):
        raise InputError("a random-effects pool needs at least two estimates with positive "
                         "variances")
    w = 1.0 / v
    mean_w = float((w * y).sum() / w.sum())
    q = float((w * (y - mean_w) ** 2).sum())
    c = float(w.sum() - (w ** 2).sum() / w.sum())
    tau2 = max(0.0, (q - (len(y) - 1)) / c)
    w_star = 1.0 / (v + tau2)
    mean = float((w_star * y).sum() / w_star.sum())
    return Pooled(mean=mean, se=math.sqrt(1.0 / w_star.sum()), tau2=tau2, q=q)


@dataclass(frozen=True)
class BeforeAfter:
    """A figure before and after a practice focus's start, for one therapist.

    Attributes
    ----------
    reason : why there is no comparison (too little data on a side); empty otherwise.
    before, after : the model's mean before and after the start.
    difference : after − before, with its interval (lower, upper) and standard error.
    n_before, n_after : observations on each side; clients_before, clients_after: clients.
    model : the model in lme4's notation.
    """

    name: str
    reason: str = ""
    before: float = math.nan
    after: float = math.nan
    difference: float = math.nan
    se: float = math.nan
    lower: float = math.nan
    upper: float = math.nan
    n_before: int = 0
    n_after: int = 0
    clients_before: int = 0
    clients_after: int = 0
    level: float = 0.95
    model: str = ""

    @property
    def available(self) -> bool:
        return not self.reason

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def before_after(data: pd.DataFrame, *, value: str, after: str, client: str = "client",
                 name: str = "", level: float = 0.95) -> BeforeAfter:
    """One therapist's `value` before and after a start date, clients as a random effect.

    Parameters
    ----------
    data : the therapist's own observations.
    value : the response column.
    after : a 0/1 column, 1 for observations on or after the start date.
    client : the client's label.

    Notes
    -----
    The model is ``value ~ after + (1 | client)`` fitted by REML; the difference is the
    coefficient of ``after`` with the interval ∓ z · SE. Clients seen on both sides
    contribute a within-client comparison; clients on one side only are compared with
    the others through the model. It shows what changed, not why: caseloads change too,
    and a difference after a focus began is not proof that the focus caused it.
    """
    z = _z(level)
    for column in (value, after, client):
        if column not in data.columns:
            raise InputError("is not in the data", column=column)
    frame = _frame(data, [value, after, client], [value, after])
    sides = frame[after] > 0.5
    counts = (int((~sides).sum()), int(sides.sum()))
    clients = (int(frame.loc[~sides, client].nunique()), int(frame.loc[sides, client].nunique()))
    base = dict(name=name, n_before=counts[0], n_after=counts[1], clients_before=clients[0],
                clients_after=clients[1], level=level)
    if min(counts) < MIN_FOCUS_RATINGS or min(clients) < MIN_FOCUS_CLIENTS:
        return BeforeAfter(**base, reason=(
            f"A comparison needs at least {MIN_FOCUS_RATINGS} observations from "
            f"{MIN_FOCUS_CLIENTS} clients on each side of the start date; there are "
            f"{counts[0]} from {clients[0]} before and {counts[1]} from {clients[1]} after."))
    y = frame[value].to_numpy(float)
    X = np.column_stack([np.ones(len(y)), sides.to_numpy(float)])
    try:
        fit = fit_reml(y, X, ("(Intercept)", after), frame[client].to_numpy(str),
                       np.ones((len(y), 1)))
    except AllianceError as error:
        return BeforeAfter(**base, reason=f"The model could not be fitted: {error}")
    difference, se = float(fit.fe[1]), float(fit.se[1])
    return BeforeAfter(**base, before=float(fit.fe[0]), after=float(fit.fe[0] + fit.fe[1]),
                       difference=difference, se=se, lower=difference - z * se,
                       upper=difference + z * se, model=f"{value} ~ {after} + (1 | {client})")



@dataclass(frozen=True)
class ClinicSpread:
    """The clinic's mean of a figure and the spread between its therapists (no one's figure).

    Attributes
    ----------
    reason : why there is none (too few therapists, …); empty when there is one.
    clinic_mean, se : the model's intercept and its standard error, with lower/upper.
    spread_lower, spread_upper : where the middle 80 % of therapists lie.
    therapist_sd : τ̂; icc : τ̂² / (τ̂² + σ̂_c² + σ̂²), the share of the variance between
        therapists.
    n_therapists, n_clients, n_obs : what the model is fitted on.
    """

    name: str
    reason: str = ""
    clinic_mean: float = math.nan
    se: float = math.nan
    lower: float = math.nan
    upper: float = math.nan
    spread_lower: float = math.nan
    spread_upper: float = math.nan
    therapist_sd: float = math.nan
    icc: float = math.nan
    n_therapists: int = 0
    n_clients: int = 0
    n_obs: int = 0
    level: float = 0.95
    model: str = ""
    singular: bool = False

    @property
    def available(self) -> bool:
        return not self.reason


def clinic_spread(data: pd.DataFrame, *, value: str, name: str, noun: str = "ratings",
                  therapist: str = "therapist", client: str = "client",
                  level: float = 0.95) -> ClinicSpread:
    """The clinic's mean of `value` and the spread between therapists, for aggregate pages.

    The model is that of `level_figure`; the clinic's mean is β̂₀ ∓ z · SE(β̂₀), the spread
    β̂₀ ∓ 1.2816 τ̂. Needs `MIN_THERAPISTS` therapists with data from `MIN_CLIENTS`
    clients each (those with fewer still count in the model).
    """
    z = _z(level)
    needed = [value, therapist, client]
    if not data.empty:
        missing = [c for c in needed if c not in data.columns]
        if missing:
            raise InputError("is not in the data", column=missing[0])
        data = data.dropna(subset=needed)
    counts = (data.groupby(therapist)[client].nunique() if not data.empty
              else pd.Series(dtype=int))
    enough = int((counts >= MIN_CLIENTS).sum())
    if enough < MIN_THERAPISTS:
        return ClinicSpread(name=name, level=level, reason=(
            f"The clinic's {name} needs {noun} from at least {MIN_CLIENTS} clients of each of "
            f"at least {MIN_THERAPISTS} therapists; {enough} therapist"
            f"{' has' if enough == 1 else 's have'} that many in this period."))
    try:
        modes = fit_modes(data, value=value, therapist=therapist, client=client)
    except AllianceError as error:
        return ClinicSpread(name=name, level=level,
                            reason=f"The model for the {name} could not be fitted: {error}")
    centre, se = float(modes.fe[0]), float(modes.fe_se[0])
    tau2 = float(modes.cov_therapist[0, 0])
    half = float(stats.norm.ppf((1 + SPREAD_COVERAGE) / 2)) * math.sqrt(tau2)
    total = tau2 + modes.client_variance + modes.residual_variance
    return ClinicSpread(
        name=name, clinic_mean=centre, se=se, lower=centre - z * se, upper=centre + z * se,
        spread_lower=centre - half, spread_upper=centre + half, therapist_sd=math.sqrt(tau2),
        icc=tau2 / total if total > 0 else math.nan, n_therapists=len(modes.modes),
        n_clients=int(sum(modes.n_clients.values())), n_obs=modes.n_total, level=level,
        model=modes.model, singular=modes.singular)

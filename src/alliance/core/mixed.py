"""Linear mixed models fitted by REML, computed as lme4 computes them.

The statistics modules (`analysis`, `expected`) describe their models here as
plain arrays: a response, a fixed-effect design, the units that carry random
effects (clients, with a random intercept and possibly slopes), and optionally
groups of units with a random intercept of their own (therapists, when clients
are nested in therapists).

Why not statsmodels' ``MixedLM``: on these models its optimisers sometimes stop
at a worse REML optimum while reporting convergence (random-slope models), or
fail when a variance is estimated as zero (a likelihood evaluated through the
inverse of the random-effect covariance). Both would give results that differ
from R's lme4 without saying so. Here the profiled REML criterion is evaluated in
lme4's parametrisation (the relative covariance factor θ, which may be zero),
so the boundary is harmless, and it is minimised from several starting points
when the first one ends on or near the boundary.
The test suite compares the results with lme4 and with statsmodels.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, sparse, stats
from threadpoolctl import ThreadpoolController

from .errors import InputError, NotEnoughDataError

#: A random-effect standard deviation counts as zero (a "singular" fit, as lme4
#: says) when it is below this fraction of the residual standard deviation
#: (lme4's ``isSingular`` tolerance on θ).
SINGULAR_TOLERANCE = 1e-4

#: Starting values of the relative standard deviations θ (lme4 starts at 1).
STARTS = (1.0, 0.25, 0.05, 4.0)

#: Denominator degrees of freedom of the fixed-effect tests: "wald" (none: the
#: normal distribution, as lme4's Wald z), "satterthwaite" (t tests as lmerTest) or
#: "kenward-roger" (t tests on the adjusted covariance, as lmerTest with pbkrtest).
DF_METHODS = ("wald", "satterthwaite", "kenward-roger")

#: Eigenvalues of the variance parameters' Hessian at or below this count as zero
#: (lmerTest's tolerance when it inverts the Hessian).
HESSIAN_TOLERANCE = 1e-8

#: A fit counts as converged when the largest gradient component of the REML
#: criterion at the optimum (on free parameters) is below this (lme4's check
#: uses 0.002), or below 1e-7 × the criterion for very large data sets.
GRADIENT_TOLERANCE = 2e-3


@dataclass(frozen=True)
class RemlFit:
    """The result of `fit_reml`.

    Attributes
    ----------
    names : names of the fixed-effect columns.
    fe : fixed-effect estimates (GLS at the REML variance estimates).
    cov_fe : their covariance matrix, σ² (X' V*⁻¹ X)⁻¹ as lme4's ``vcov``.
    cov_re : covariance matrix of the unit-level random effects (q × q).
    group_variance : variance of the group-level random intercept (NaN without groups).
    scale : residual variance σ².
    theta : the relative covariance parameters at the optimum (lme4's θ).
    reml_criterion : −2 × REML log-likelihood (lme4's ``REMLcrit``).
    converged : whether the gradient at the optimum is near zero.
    singular : whether a random-effect variance is estimated as (nearly) zero.
    """

    names: tuple[str, ...]
    fe: np.ndarray
    cov_fe: np.ndarray
    cov_re: np.ndarray
    group_variance: float
    scale: float
    theta: np.ndarray
    reml_criterion: float
    converged: bool
    singular: bool
    #: Denominator degrees of freedom per fixed effect (None unless asked for with
    #: ``df="satterthwaite"`` or ``df="kenward-roger"``; with Kenward–Roger,
    #: ``cov_fe`` is the adjusted covariance, so the standard errors are too).
    df: np.ndarray | None = None

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov_fe))

    @property
    def t(self) -> np.ndarray:
        """Estimate / standard error (lme4's "t value")."""
        return self.fe / self.se

    @property
    def p(self) -> np.ndarray:
        """Two-sided p of each fixed effect: t on ``df`` degrees of freedom with
        Satterthwaite df, otherwise the normal distribution (Wald z)."""
        if self.df is None:
            return 2.0 * stats.norm.sf(np.abs(self.t))
        return 2.0 * stats.t.sf(np.abs(self.t), self.df)

    @property
    def llf(self) -> float:
        """REML log-likelihood."""
        return -self.reml_criterion / 2


def fit_reml(y, X, names: Sequence[str], units, Z, groups=None, df: str = "wald",
             starts: Sequence[np.ndarray] | None = None) -> RemlFit:
    """Fit ``y = Xβ + Z b_unit (+ c_group) + ε`` by REML, as ``lme4::lmer(..., REML = TRUE)``.

    Parameters
    ----------
    y : response, shape (n,).
    X : fixed-effect design, shape (n, p), including the intercept column.
    names : the p fixed-effect names.
    units : label of every row's unit (e.g. client); units carry random effects
        ``b ~ N(0, G)`` on the columns of ``Z``, with a free q × q covariance G.
    Z : unit-level random-effect design, shape (n, q) (a column of ones for a
        random intercept; add log(session) for a random slope).
    groups : optional label of every row's group (e.g. therapist), with a random
        intercept ``c ~ N(0, τ²)``. Every unit must lie in one group (for clients
        seen by several therapists pass therapist:client as the unit).
    df : "wald" (default), "satterthwaite" or "kenward-roger": also compute each
        fixed effect's Satterthwaite degrees of freedom (``RemlFit.df``), as lmerTest
        does, see :func:`satterthwaite_df`; or its Kenward–Roger degrees of freedom
        with the adjusted covariance of the fixed effects (``RemlFit.cov_fe``), as
        lmerTest with pbkrtest, see :func:`kenward_roger`.
    starts : θ vectors to start the search from instead of the default starts
        (e.g. the optimum of a similar model, to refit it quickly on part of the data).

    Returns
    -------
    RemlFit

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> units = np.repeat(np.arange(30), 5)
    >>> x = rng.normal(size=150)
    >>> y = 2 + 0.5 * x + rng.normal(size=30)[units] + rng.normal(size=150)
    >>> fit = fit_reml(y, np.column_stack([np.ones(150), x]), ["intercept", "x"],
    ...                units=units, Z=np.ones(150), df="satterthwaite")
    >>> np.round(fit.fe, 2), fit.converged
    (array([1.81, 0.44]), True)
    >>> np.round(fit.df, 1)          # Satterthwaite: about the clients for the intercept
    array([ 29.1, 125.9])

    Raises
    ------
    InputError
        A unit lies in more than one group, or X is not of full column rank.
    NotEnoughDataError
        Too few observations for the fixed effects.

    Notes
    -----
    With G = σ² ΛΛ' (Λ lower triangular, θ its entries), τ² = σ² θ_g², and
    V* = V / σ², the REML criterion profiled over β and σ² is

        d(θ) = log|V*| + log|X'V*⁻¹X| + (n − p) [1 + log(2π r² / (n − p))],
        r² = y'V*⁻¹y − y'V*⁻¹X β̂,   β̂ = (X'V*⁻¹X)⁻¹ X'V*⁻¹y,   σ̂² = r² / (n − p).

    V* is block diagonal; per unit i, with M_i = I + Λ'Z_i'Z_iΛ (Woodbury and the
    matrix determinant lemma), log|V*_i| = log|M_i| and
    a'V*_i⁻¹b = a'b − (Λ'Z_i'a)' M_i⁻¹ (Λ'Z_i'b). A group's intercept adds a
    rank-one update (Sherman–Morrison) to the sum over its units. d(θ) is
    minimised over θ (diagonal of Λ and θ_g ≥ 0) with L-BFGS-B, its gradient by
    central differences (all points evaluated in one vectorised call), from the first
    start and refined with tight tolerances. That optimum is kept when it lies well
    inside the parameter space (every θ on the diagonal above `INTERIOR`), passes the
    gradient test and no nearby zero-variance point has a lower criterion; otherwise
    (a boundary optimum, where a second minimum may lie) every start is run, the best
    is refined (and polished with Powell's method when the criterion is not yet flat
    there). The covariance of β̂ is σ̂² (X'V*⁻¹X)⁻¹.

    References
    ----------
    Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear
    mixed-effects models using lme4. Journal of Statistical Software, 67(1), 1–48.
    """
    if df not in DF_METHODS:
        raise InputError(f"df must be one of {', '.join(DF_METHODS)}, got {df!r}")
    problem = _Problem(y, X, units, Z, groups)
    p = problem.p
    if problem.n <= p:
        raise NotEnoughDataError(f"{problem.n} observations are too few for {p} fixed effects")
    if np.linalg.matrix_rank(problem.X) < p:
        raise InputError(f"the fixed effects {', '.join(names)} cannot be told apart in these "
                         "data (one is a combination of the others)")

    initial = ([problem.start(value) for value in STARTS] if starts is None
               else [np.asarray(start, dtype=float) for start in starts])
    # BLAS on one thread: the work is many small products (see _one_blas_thread); only
    # Kenward–Roger's dense blocks are large enough for threads to pay.
    with _one_blas_thread():
        best = _optimise(problem, initial)
        result = problem.result(np.asarray(best.x, dtype=float), tuple(names))
        if df == "satterthwaite":
            result = dataclasses.replace(result, df=satterthwaite_df(problem, result))
    if df == "kenward-roger":
        degrees, adjusted = kenward_roger(problem, result)
        result = dataclasses.replace(result, df=degrees, cov_fe=adjusted)
    return result


#: With more units than this (and groups), the criterion sums over each group's units
#: with a sparse product instead of ``np.add.reduceat`` (faster above about this size).
SPARSE_UNITS = 2000

#: A θ on the diagonal of Λ (a relative standard deviation) above this counts as well
#: inside the parameter space when deciding whether the first start's optimum needs the
#: other starts.
INTERIOR = 1e-3

# L-BFGS-B (scipy's, through BLAS) on a problem of two or three parameters, and the
# criterion's products of a few columns, spend most of their time waking BLAS threads when
# the machine is busy: on one thread a fit is many times faster.
# The limit is the process's (BLAS has one setting): fits in several threads at once (a
# web server's) share one limit, set by the first to start and lifted by the last to end.
# Each taking and restoring its own would leave it at one thread for good when they end
# in another order than they began (the second records the first's limit as the original).
_blas = None
_blas_lock = threading.Lock()
_blas_fits = 0
_blas_limit = None


@contextmanager
def _one_blas_thread():
    global _blas, _blas_fits, _blas_limit
    with _blas_lock:
        if _blas is None:
            _blas = ThreadpoolController()
        if _blas_fits == 0:
            _blas_limit = _blas.limit(limits=1, user_api="blas")
        _blas_fits += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_fits -= 1
            if _blas_fits == 0:
                _blas_limit.restore_original_limits()
                _blas_limit = None


def _lbfgsb(problem: "_Problem", start: np.ndarray, tight: bool):
    options = ({"ftol": 1e-15, "gtol": 1e-7, "maxiter": 2000} if tight
               else {"ftol": 1e-10, "maxiter": 1000})
    return optimize.minimize(problem.value_and_gradient, start, method="L-BFGS-B", jac=True,
                             bounds=problem.bounds(), options=options)


def _optimise(problem: "_Problem", initial: list[np.ndarray]):
    """The θ that minimises the REML criterion, as scipy's OptimizeResult (x, fun).

    The first start is refined with tight tolerances; when it ends at an optimum well
    inside the parameter space (every relative SD above `INTERIOR`, the gradient test
    passed) that no point on the zero-variance boundary beats, it is the answer. Otherwise
    (an optimum on or near the boundary, where a second minimum may lie, see the lagged
    models in docs/analysis.md) every start is run and the best is refined, then polished
    with Powell's method if the criterion is not yet flat there."""
    first = _lbfgsb(problem, initial[0], tight=False)
    if np.isfinite(first.fun):
        refined = _lbfgsb(problem, first.x, tight=True)
        if refined.fun <= first.fun:
            first = refined
        theta = np.asarray(first.x, dtype=float)
        diagonal = np.flatnonzero(problem.diagonal)
        # θ with one relative SD at zero at a time, and all of them: the boundary points
        # nearest the optimum (an upper bound of the criterion on each face).
        boundary = np.repeat(theta[None], len(diagonal) + 1, axis=0)
        boundary[np.arange(len(diagonal)), diagonal] = 0.0
        boundary[-1, diagonal] = 0.0
        if (np.all(theta[diagonal] > INTERIOR)
                and problem.is_optimum(theta, first.fun, first.jac)
                and np.all(problem.deviances(boundary) > first.fun)):
            return first
    best = first if np.isfinite(first.fun) else None
    for start in initial[1:]:
        result = _lbfgsb(problem, start, tight=False)
        if np.isfinite(result.fun) and (best is None or result.fun < best.fun):
            best = result
    if best is None:
        raise NotEnoughDataError("the mixed model could not be fitted; the data may have too few "
                                 "units or observations")
    if best is not first:
        # Refine the best of the starts with tight tolerances.
        refined = _lbfgsb(problem, best.x, tight=True)
        if refined.fun <= best.fun:
            best = refined
    if not problem.is_optimum(best.x, best.fun, getattr(best, "jac", None)):
        polished = optimize.minimize(problem.deviance, best.x, method="Powell",
                                     bounds=problem.bounds(),
                                     options={"xtol": 1e-10, "ftol": 1e-15, "maxiter": 20000})
        if polished.fun < best.fun:
            best = polished
    return best


def satterthwaite_df(problem: "_Problem", fit: RemlFit, contrasts=None) -> np.ndarray:
    """Satterthwaite denominator degrees of freedom of fixed-effect contrasts, as lmerTest.

    Parameters
    ----------
    problem, fit : the model and its REML fit (from `fit_reml`).
    contrasts : rows c of contrasts c'β (default: each fixed effect alone).

    Returns
    -------
    numpy.ndarray, one df per contrast.

    Notes
    -----
    With the variance parameters φ = (θ, σ) — lme4's θ and the residual SD —
    V(φ) = σ² (X'V*(θ)⁻¹X)⁻¹ the covariance of β̂, and A = 2 H⁻¹ the asymptotic
    covariance of φ̂ from the Hessian H of the REML deviance in φ (β profiled
    out, σ free), the degrees of freedom of c'β̂ are

        df = 2 (c'Vc)² / (g'Ag),   g_k = c' (∂V/∂φ_k) c.

    H is inverted through its positive eigenvalues (above 1e-8), as lmerTest
    does. H and ∂V/∂φ are numerical derivatives with Richardson extrapolation
    (numDeriv's defaults, which lmerTest uses); the tests compare the df with
    lmerTest's to 1e-4 (relative).

    References
    ----------
    Satterthwaite, F. E. (1946). An approximate distribution of estimates of
    variance components. Biometrics Bulletin, 2(6), 110–114.

    Kuznetsova, A., Brockhoff, P. B., & Christensen, R. H. B. (2017). lmerTest
    package: Tests in linear mixed effects models. Journal of Statistical
    Software, 82(13), 1–26.
    """
    phi = np.r_[fit.theta, np.sqrt(fit.scale)]
    hessian = _richardson_hessian(problem.deviance_vp, phi)
    values, vectors = np.linalg.eigh(hessian)
    keep = values > HESSIAN_TOLERANCE
    cov_phi = 2.0 * (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
    jacobian = _richardson_jacobian(lambda v: problem.cov_fe(v).ravel(), phi)
    p = problem.p
    contrasts = np.eye(p) if contrasts is None else np.atleast_2d(np.asarray(contrasts, float))
    result = np.empty(len(contrasts))
    for i, c in enumerate(contrasts):
        variance = c @ fit.cov_fe @ c
        gradient = np.array([c @ jacobian[:, k].reshape(p, p) @ c for k in range(len(phi))])
        result[i] = 2.0 * variance ** 2 / (gradient @ cov_phi @ gradient)
    return result


def kenward_roger(problem: "_Problem", fit: RemlFit,
                  contrasts=None) -> tuple[np.ndarray, np.ndarray]:
    """Kenward–Roger degrees of freedom of fixed-effect contrasts, and the adjusted
    covariance of the fixed effects, as pbkrtest (and lmerTest's ``ddf = "Kenward-Roger"``).

    Parameters
    ----------
    problem, fit : the model and its REML fit (from `fit_reml`).
    contrasts : rows c of contrasts c'β (default: each fixed effect alone).

    Returns
    -------
    (df, adjusted)
        One df per contrast, and the adjusted covariance Φ_A of β̂ (p × p).

    Notes
    -----
    The marginal covariance is Σ = Σ_k γ_k G_k, linear in the variance parameters
    γ: each element of the unit-level covariance (G_k = Z_a Z_b' + Z_b Z_a' within
    a unit; Z_a Z_a' on the diagonal), the group intercept's variance (1 1' within a
    group) and the residual variance (I). With Φ = (X'Σ⁻¹X)⁻¹,
    P_k = −X'Σ⁻¹G_kΣ⁻¹X and Q_kl = X'Σ⁻¹G_kΣ⁻¹G_lΣ⁻¹X (pbkrtest's ``vcovAdj``):

        I_kl = tr(Σ⁻¹G_kΣ⁻¹G_l) − 2 tr(ΦQ_kl) + tr(ΦP_kΦP_l),   W = 2 I⁻¹,
        Φ_A = Φ + 2 Φ [Σ_kl W_kl (Q_kl − P_k Φ P_l)] Φ

    (no second-derivative term: Σ is linear in γ). For a contrast c (rank q = 1),
    with Θ = c(c'Φc)⁻¹c', A1 = Σ_kl W_kl tr(ΘΦP_kΦ) tr(ΘΦP_lΦ) and
    A2 = Σ_kl W_kl tr(ΘΦP_kΦΘΦP_lΦ), B = (A1 + 6A2)/(2q),
    g = ((q+1)A1 − (q+4)A2)/((q+2)A2), c1 = g/(3q + 2(1−g)),
    c2 = (q−g)/(3q + 2(1−g)), c3 = (q+2−g)/(3q + 2(1−g)),
    ρ = (1/q) ((1 − A2/q)/(1 − c2B))² (1 + c1B)/(1 − c3B), and df = 4 + (q+2)/(qρ − 1).
    Σ is block diagonal (by group, or by unit without groups), so every sum is
    taken block by block with dense blocks. The tests compare with pbkrtest through
    lmerTest (tests/reference/multilevel).

    References
    ----------
    Kenward, M. G., & Roger, J. H. (1997). Small sample inference for fixed effects
    from restricted maximum likelihood. Biometrics, 53(3), 983–997.

    Halekoh, U., & Højsgaard, S. (2014). A Kenward-Roger approximation and parametric
    bootstrap methods for tests in linear mixed models — the R package pbkrtest.
    Journal of Statistical Software, 59(9), 1–30.
    """
    p, q = problem.p, problem.q
    pairs = [(a, b) for b in range(q) for a in range(b, q)]        # the elements of G
    k = len(pairs) + problem.has_groups + 1
    X = problem.X
    XtSX = np.zeros((p, p))
    P = np.zeros((k, p, p))
    Q = np.zeros((k, k, p, p))
    trace = np.zeros((k, k))
    blocks = problem.group_codes if problem.has_groups else problem.unit_codes
    edges = np.r_[0, np.flatnonzero(np.diff(blocks) != 0) + 1, len(blocks)]
    for start, end in zip(edges[:-1], edges[1:]):
        Z, Xb = problem.Z_rows[start:end], X[start:end]
        units = problem.unit_codes[start:end]
        same = (units[:, None] == units[None, :]).astype(float)
        derivatives = []
        for a, b in pairs:
            outer = np.outer(Z[:, a], Z[:, b])
            derivatives.append(same * (outer if a == b else outer + outer.T))
        if problem.has_groups:
            derivatives.append(np.ones((end - start, end - start)))
        derivatives.append(np.eye(end - start))
        G = np.stack(derivatives)
        gamma = np.r_[[fit.cov_re[a, b] for a, b in pairs],
                      [fit.group_variance] if problem.has_groups else [], fit.scale]
        inverse = np.linalg.inv(np.tensordot(gamma, G, axes=1))
        T = inverse @ Xb                                  # Σ⁻¹X
        H = G @ inverse                                   # G_kΣ⁻¹
        O = H @ Xb                                        # G_kΣ⁻¹X
        XtSX += Xb.T @ T
        P -= T.T[None] @ O
        SO = inverse[None] @ O                           # Σ⁻¹G_kΣ⁻¹X
        Q += np.einsum("kni,lnj->klij", O, SO)
        trace += np.einsum("kij,lji->kl", H, H)
    phi = np.linalg.inv(XtSX)
    information = (trace - 2 * np.einsum("ij,klji->kl", phi, Q)
                   + np.einsum("kij,lji->kl", phi @ P, phi @ P))
    values = np.linalg.eigvalsh(information)
    W = 2 * (np.linalg.inv(information) if np.min(np.abs(values)) > 1e-10
             else np.linalg.pinv(information))
    U = sum(W[i, j] * (Q[i, j] - P[i] @ phi @ P[j]) for i in range(k) for j in range(k))
    adjusted = phi + 2 * phi @ U @ phi
    contrasts = np.eye(p) if contrasts is None else np.atleast_2d(np.asarray(contrasts, float))
    degrees = np.empty(len(contrasts))
    for n, c in enumerate(contrasts):
        theta = np.outer(c, c) / (c @ phi @ c)
        u = np.stack([theta @ phi @ P[i] @ phi for i in range(k)])
        traces = np.trace(u, axis1=1, axis2=2)
        A1 = traces @ W @ traces
        A2 = np.einsum("kl,kij,lji->", W, u, u)
        degrees[n] = _kenward_roger_df(A1, A2, rank=1)
    return degrees, adjusted


def _kenward_roger_df(A1: float, A2: float, rank: int) -> float:
    q = rank
    B = (A1 + 6 * A2) / (2 * q)
    g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
    denominator = 3 * q + 2 * (1 - g)
    c1, c2, c3 = g / denominator, (q - g) / denominator, (q + 2 - g) / denominator
    v0 = 1 + c1 * B
    v0 = 0.0 if abs(v0) < 1e-10 else v0
    rho = (1 / q) * ((1 - A2 / q) / (1 - c2 * B)) ** 2 * v0 / (1 - c3 * B)
    return 4 + (q + 2) / (q * rho - 1)


# Numerical derivatives as R's numDeriv computes them by default (method "Richardson":
# central differences with steps d·|x| (eps where x is near 0), halved r − 1 times, and
# extrapolated), so that the results follow lmerTest's.
_ZERO_TOLERANCE = np.sqrt(np.finfo(float).eps / 7e-7)


def _steps(x: np.ndarray, d: float, eps: float = 1e-4) -> np.ndarray:
    return np.abs(d * x) + eps * (np.abs(x) < _ZERO_TOLERANCE)


def _extrapolate(estimates: list) -> np.ndarray:
    a = list(estimates)
    for m in range(1, len(a)):
        a = [(a[k + 1] * 4 ** m - a[k]) / (4 ** m - 1) for k in range(len(a) - 1)]
    return a[0]


def _richardson_jacobian(function, x: np.ndarray, d: float = 1e-4, r: int = 4) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    columns = []
    for i in range(len(x)):
        h = _steps(x, d)[i]
        estimates = []
        for _ in range(r):
            step = np.zeros_like(x)
            step[i] = h
            estimates.append((np.asarray(function(x + step)) - np.asarray(function(x - step)))
                             / (2 * h))
            h /= 2
        columns.append(_extrapolate(estimates))
    return np.column_stack(columns)


def _richardson_hessian(function, x: np.ndarray, d: float = 0.1, r: int = 4) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    n = len(x)
    h0 = _steps(x, d)
    f0 = function(x)
    diagonal = np.empty(n)
    for i in range(n):
        h, estimates = h0[i], []
        for _ in range(r):
            step = np.zeros(n)
            step[i] = h
            estimates.append((function(x + step) - 2 * f0 + function(x - step)) / h ** 2)
            h /= 2
        diagonal[i] = _extrapolate(estimates)
    hessian = np.diag(diagonal)
    for i in range(n):
        for j in range(i):
            hi, hj, estimates = h0[i], h0[j], []
            for _ in range(r):
                step = np.zeros(n)
                step[i], step[j] = hi, hj
                estimates.append((function(x + step) - 2 * f0 + function(x - step)
                                  - diagonal[i] * hi ** 2 - diagonal[j] * hj ** 2)
                                 / (2 * hi * hj))
                hi, hj = hi / 2, hj / 2
            hessian[i, j] = hessian[j, i] = _extrapolate(estimates)
    return hessian


class _Problem:
    """Sufficient statistics of one model, and its REML criterion as a function of θ."""

    def __init__(self, y, X, units, Z, groups):
        y = np.asarray(y, dtype=float)
        X = np.asarray(X, dtype=float)
        n = len(y)
        Z = np.asarray(Z, dtype=float).reshape(n, -1)
        unit_labels = np.asarray(units).astype(str)
        _, first_rows, unit_codes = np.unique(unit_labels, return_index=True, return_inverse=True)
        if groups is not None:
            _, group_codes = np.unique(np.asarray(groups).astype(str), return_inverse=True)
            # The first row whose group differs from the group of its unit's first row.
            moved = np.flatnonzero(group_codes != group_codes[first_rows][unit_codes])
            if len(moved):
                raise InputError(f"unit {unit_labels[moved[0]]} lies in more than one group; "
                                 "nest units in groups")
        else:
            group_codes = np.zeros(n, dtype=int)
        order = np.lexsort([unit_codes, group_codes])
        y, X, Z = y[order], X[order], Z[order]
        unit_codes, group_codes = unit_codes[order], group_codes[order]

        self.n, self.p = X.shape
        self.q = Z.shape[1]
        self.X = X
        # The rows themselves (sorted by group, then unit), for Kenward–Roger.
        self.Z_rows, self.unit_codes, self.group_codes = Z, unit_codes, group_codes
        self.has_groups = groups is not None
        # Centre y and the columns of X other than the intercept. The REML criterion
        # is unchanged (a unit-triangular change of the fixed-effect basis, and a
        # shift of y within the column space of X), but it is computed from much
        # smaller sums, so with many rows it stays smooth enough to optimise.
        ones = np.flatnonzero(np.all(X == 1.0, axis=0))
        self.intercept = int(ones[0]) if len(ones) else None
        self.shift = np.zeros(self.p)
        self.y_mean = 0.0
        if self.intercept is not None:
            self.shift = X.mean(axis=0)
            self.shift[self.intercept] = 0.0
            self.y_mean = float(y.mean())
            X = X - self.shift
            y = y - self.y_mean
        # C = [X, y, 1]: every quantity the criterion needs is a block of C'V*⁻¹C.
        C = np.column_stack([X, y, np.ones(n)])
        k = C.shape[1]
        starts = np.flatnonzero(np.r_[True, np.diff(unit_codes) != 0])
        self.ZtC = np.add.reduceat(Z[:, :, None] * C[:, None, :], starts, axis=0)
        self.ZtZ = np.add.reduceat(Z[:, :, None] * Z[:, None, :], starts, axis=0)
        # Per unit, the products (Z_i'C)_a' (Z_i'C)_b of the rows of Z_i'C (flattened over
        # a, b and over C's columns), so that Σ_i C'Z_i W_i Z_i'C is one matrix product
        # with the flattened W_i = Λ M_i⁻¹ Λ' (q²(p + 2)² numbers per unit: 100 for a
        # random slope and three fixed effects).
        self.ZtC_pairs = np.einsum("uak,ubl->uabkl", self.ZtC, self.ZtC).reshape(
            len(starts), self.q * self.q, k * k)
        unit_groups = group_codes[starts]
        self.group_starts = np.flatnonzero(np.r_[True, np.diff(unit_groups) != 0])
        # Where each group's units start among the entries of the stacked W_i (q² each).
        self.group_bounds = self.q * self.q * np.r_[self.group_starts, len(starts)]
        row_groups = np.flatnonzero(np.r_[True, np.diff(group_codes) != 0])
        # C'C per group (one group when there are none).
        self.CtC = np.add.reduceat(C[:, :, None] * C[:, None, :], row_groups, axis=0)
        # θ = lower triangle of Λ, column by column (as lme4), then θ_g with groups.
        rows, cols = np.tril_indices(self.q)
        order = np.lexsort([rows, cols])  # column-major
        self.lambda_rows, self.lambda_cols = rows[order], cols[order]
        self.diagonal = np.r_[rows[order] == cols[order],
                              [True] if self.has_groups else []].astype(bool)

    def bounds(self):
        return [(0.0, None) if diagonal else (None, None) for diagonal in self.diagonal]

    def start(self, value: float) -> np.ndarray:
        return np.where(self.diagonal, value, 0.0)

    def _lambda(self, theta: np.ndarray) -> np.ndarray:
        """Λ of one θ (q × q), or of a stack of θ (m × q × q)."""
        theta = np.asarray(theta, dtype=float)
        L = np.zeros(theta.shape[:-1] + (self.q, self.q))
        L[..., self.lambda_rows, self.lambda_cols] = theta[..., : len(self.lambda_rows)]
        return L

    def _blocks(self, thetas: np.ndarray):
        """C'V*⁻¹C (as A, m × k × k) and log|V*| (m) at each of m θ (rows of `thetas`).

        All θ are evaluated together: the optimiser's finite-difference gradient needs
        several points at once, and at small sizes the cost is per call, not per θ."""
        m = len(thetas)
        L = self._lambda(thetas)                                   # m × q × q
        if self.q == 1:
            l2 = L[:, 0, 0, None] ** 2
            M = 1.0 + l2 * self.ZtZ[None, :, 0, 0]                  # m × units
            logdet = np.log(M).sum(axis=1)
            W = (l2 / M)[:, :, None]                              # Λ M⁻¹ Λ', m × units × 1
        elif self.q == 2:
            # Element by element: numpy's matmul on millions of 2 × 2 matrices is far slower.
            l11, l21, l22 = (thetas[:, i, None] for i in range(3))
            a, b, c = self.ZtZ[None, :, 0, 0], self.ZtZ[None, :, 0, 1], self.ZtZ[None, :, 1, 1]
            b00, b01 = a * l11 + b * l21, b * l22                                # ZtZ Λ
            b10, b11 = b * l11 + c * l21, c * l22
            m00, m01 = 1.0 + l11 * b00 + l21 * b10, l11 * b01 + l21 * b11      # I + Λ'ZtZ Λ
            m11 = 1.0 + l22 * b11
            det = m00 * m11 - m01 * m01
            logdet = np.log(det).sum(axis=1)
            i00, i01, i11 = m11 / det, -m01 / det, m00 / det                     # M⁻¹
            w00 = l11 * l11 * i00
            w01 = l11 * (l21 * i00 + l22 * i01)
            w11 = l21 * (l21 * i00 + l22 * i01) + l22 * (l21 * i01 + l22 * i11)
            W = np.stack([w00, w01, w01, w11], axis=-1)                         # Λ M⁻¹ Λ'
        else:
            # einsum, not matmul: see above.
            ZtZL = np.einsum("uac,mcd->muad", self.ZtZ, L)
            M = np.eye(self.q) + np.einsum("mab,muad->mubd", L, ZtZL)
            chol = np.linalg.cholesky(M)
            logdet = 2.0 * np.log(np.diagonal(chol, axis1=-2, axis2=-1)).sum(axis=(1, 2))
            inverse = np.linalg.inv(M)
            W = np.einsum("muac,mdc->muad", np.einsum("mab,mubc->muac", L, inverse), L)
            W = W.reshape(m, -1, self.q * self.q)
        k = self.CtC.shape[-1]
        if not self.has_groups:
            # Σ_i C'Z_i W_i Z_i'C as one product over units and the entries of W_i.
            S = W.reshape(m, -1) @ self.ZtC_pairs.reshape(-1, k * k)
            return self.CtC[0] - S.reshape(m, k, k), logdet
        # Σ over each group's units of C'Z_i W_i Z_i'C, for every θ and group at once.
        entries = W.shape[1] * W.shape[2]
        if len(self.ZtC) <= SPARSE_UNITS:
            S = np.einsum("mua,uak->mku", W, self.ZtC_pairs)
            S = np.add.reduceat(S, self.group_starts, axis=2).transpose(0, 2, 1)
        else:
            # reduceat pays per group: with many, one sparse (θ, group) × (unit, entry of
            # W_i) matrix of the W_i (units are sorted by group, so each row is a
            # contiguous run) times the products of the rows of Z_i'C is much faster.
            indptr = (self.group_bounds[None, :-1] + entries * np.arange(m)[:, None]).ravel()
            rows = sparse.csr_array((W.ravel(), np.tile(np.arange(entries), m),
                                     np.r_[indptr, m * entries]),
                                    shape=(m * len(self.CtC), entries))
            S = rows @ self.ZtC_pairs.reshape(entries, k * k)
        S = S.reshape(m, -1, k, k)
        S = self.CtC[None] - S                                    # per group, m × groups × k × k
        tau2 = thetas[:, -1, None] ** 2                           # m × 1
        s = S[..., -1]                                            # m × groups × k
        d = 1.0 + tau2 * s[..., -1]                               # m × groups
        S = S - (tau2 / d)[..., None, None] * s[..., :, None] * s[..., None, :]
        return S.sum(axis=1), logdet + np.log(d).sum(axis=1)

    def _solve_many(self, thetas: np.ndarray):
        """β̂, X'V*⁻¹X, r², log|V*| and log|X'V*⁻¹X| at each θ (rows of `thetas`)."""
        A, logdet = self._blocks(thetas)
        p = self.p
        XX, Xy, yy = A[:, :p, :p], A[:, :p, p], A[:, p, p]
        chol = np.linalg.cholesky(XX)
        beta = np.linalg.solve(XX, Xy[..., None])[..., 0]
        r2 = yy - np.einsum("mi,mi->m", Xy, beta)
        return beta, XX, r2, logdet, 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)

    def _solve(self, theta: np.ndarray):
        beta, XX, r2, logdet_v, logdet_x = self._solve_many(
            np.asarray(theta, dtype=float)[None])
        return beta[0], XX[0], r2[0], logdet_v[0], logdet_x[0]

    def deviances(self, thetas: np.ndarray) -> np.ndarray:
        """The REML criterion at each θ (rows of `thetas`); inf where it is not defined."""
        thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
        try:
            with np.errstate(divide="ignore", invalid="ignore"):
                _, _, r2, logdet_v, logdet_x = self._solve_many(thetas)
        except np.linalg.LinAlgError:
            if len(thetas) == 1:
                return np.array([np.inf])
            return np.concatenate([self.deviances(theta[None]) for theta in thetas])
        df = self.n - self.p
        with np.errstate(divide="ignore", invalid="ignore"):
            value = logdet_v + logdet_x + df * (1.0 + np.log(2.0 * np.pi * r2 / df))
        return np.where((r2 > 0) & np.isfinite(value), value, np.inf)

    def deviance(self, theta: np.ndarray) -> float:
        return float(self.deviances(np.asarray(theta, dtype=float)[None])[0])

    def deviance_vp(self, phi: np.ndarray) -> float:
        """The REML deviance at θ = phi[:-1] and residual SD σ = phi[-1], β profiled out
        (lmerTest's ``devfun_vp``): log|V*| + log|X'V*⁻¹X| + r²/σ² + (n − p) log(2πσ²)."""
        phi = np.asarray(phi, dtype=float)
        _, _, r2, logdet_v, logdet_x = self._solve(phi[:-1])
        sigma2 = phi[-1] ** 2
        return float(logdet_v + logdet_x + r2 / sigma2
                     + (self.n - self.p) * np.log(2.0 * np.pi * sigma2))

    def cov_fe(self, phi: np.ndarray) -> np.ndarray:
        """Covariance of β̂ in the caller's columns at θ = phi[:-1], σ = phi[-1]."""
        phi = np.asarray(phi, dtype=float)
        _, XX, _, _, _ = self._solve(phi[:-1])
        cov = phi[-1] ** 2 * np.linalg.inv(XX)
        if self.intercept is not None:
            T = np.eye(self.p)
            T[self.intercept] -= self.shift
            cov = T @ cov @ T.T
        return cov

    def result(self, theta: np.ndarray, names: tuple[str, ...]) -> RemlFit:
        beta, XX, r2, _, _ = self._solve(theta)
        scale = float(r2 / (self.n - self.p))
        cov_fe = scale * np.linalg.inv(XX)
        if self.intercept is not None:
            # Back to the caller's columns: β = Tβ_c with T = I − e_c·shift'.
            T = np.eye(self.p)
            T[self.intercept] -= self.shift
            beta, cov_fe = T @ beta, T @ cov_fe @ T.T
            beta[self.intercept] += self.y_mean
        L = self._lambda(theta)
        diagonal = self.diagonal
        criterion = self.deviance(theta)
        return RemlFit(
            names=names, fe=beta, cov_fe=cov_fe, cov_re=scale * L @ L.T,
            group_variance=float(scale * theta[-1] ** 2) if self.has_groups else float("nan"),
            scale=scale, theta=theta, reml_criterion=criterion,
            converged=self.is_optimum(theta, criterion),
            singular=bool((theta[diagonal] < SINGULAR_TOLERANCE).any()))

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """Central differences of the REML criterion (forward at a zero-variance bound)."""
        return self.value_and_gradient(theta)[1]

    def value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """The REML criterion at θ and its central differences (forward at a zero-variance
        bound), all evaluated in one call."""
        theta = np.asarray(theta, dtype=float)
        k = len(theta)
        # Steps of 1e-5 keep rounding noise (about 1e-9 in the criterion) well
        # below the convergence tolerance.
        step = 1e-5 * np.maximum(1.0, np.abs(theta))
        forward = self.diagonal & (theta < step)
        points = np.repeat(theta[None], 1 + 2 * k, axis=0)
        points[1 + np.arange(k), np.arange(k)] += step
        points[1 + k + np.arange(k), np.arange(k)] -= step
        values = self.deviances(points)
        up, down = values[1:1 + k], values[1 + k:]
        gradient = np.where(forward, (up - values[0]) / step, (up - down) / (2 * step))
        return float(values[0]), gradient

    def is_optimum(self, theta: np.ndarray, criterion: float, gradient=None) -> bool:
        """Whether the REML criterion is flat (or, at a zero variance, rising) around θ
        (`gradient`: the criterion's `gradient` at θ, when already known)."""
        if not np.isfinite(criterion):
            return False
        theta = np.asarray(theta, dtype=float)
        gradient = self.gradient(theta) if gradient is None else np.asarray(gradient)
        # Rounding noise in the criterion grows with its size (the number of rows).
        tolerance = max(GRADIENT_TOLERANCE, 1e-7 * abs(criterion))
        at_bound = self.diagonal & (theta < 1e-5 * np.maximum(1.0, np.abs(theta)))
        # On the zero bound only a downhill slope outward would mean a better fit.
        return bool(np.all(np.where(at_bound, gradient > -tolerance,
                                    np.abs(gradient) <= tolerance)))


def numeric_column(values: pd.Series, column: str) -> pd.Series:
    """The values of a column as floats (empty cells NaN); text that is not a number is an error.

    The returned series has a fresh 0-based index.
    """
    if pd.api.types.is_bool_dtype(values):
        raise InputError("holds true/false values, not numbers", column=column)
    if pd.api.types.is_numeric_dtype(values):
        return pd.Series(values.to_numpy(float))
    text = pd.Series(values.to_numpy(object))
    text = text.where(text.isna(), text.astype(str).str.strip()).replace("", np.nan)
    parsed = pd.to_numeric(text, errors="coerce")
    bad = parsed.isna() & text.notna()
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{text.iloc[first]!r} (row {first + 1}) is not a number", column=column)
    return parsed.astype(float)

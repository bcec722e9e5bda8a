"""Therapists compared on severity-adjusted figures, with intervals rather than ranks.

`therapist_effects` fits one mixed model over a clinic's cases (one row per case): the
outcome (e.g. the change in wellbeing from the first to the last rating, or the last
alliance rating) on the intake severity, with a random intercept per therapist. Each
therapist's effect is their best linear unbiased prediction (BLUP), which shrinks a
therapist with few cases toward the clinic mean, with an interval from its conditional
variance. Raw means and rankings of small caseloads mostly show chance and case mix; this
is the comparison the benchmarking literature recommends instead.

The model is fitted by the project's REML engine (`alliance.core.mixed`), which matches
R's lme4; the tests compare every number with ``lme4::lmer`` and ``ranef(condVar = TRUE)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .errors import InputError, NotEnoughDataError
from .mixed import fit_reml, numeric_column

#: Fewest therapists, and fewest cases, for a comparison.
MIN_THERAPISTS = 2
MIN_CASES = 5


@dataclass(frozen=True)
class TherapistEffect:
    """One therapist's adjusted effect.

    Attributes
    ----------
    therapist : the therapist's label.
    n_cases : cases of this therapist in the model.
    raw_mean : the observed mean outcome of those cases (unadjusted; for reference only).
    effect : the BLUP û_j, the therapist's departure from the clinic mean at the same
        intake severity.
    se : the square root of its conditional variance.
    lower, upper : ``effect ∓ z · se``.
    adjusted : ``β₀ + û_j``, the outcome expected for a client of this therapist who starts
        at the clinic's mean intake severity.
    adjusted_lower, adjusted_upper : ``adjusted ∓ z · se``.
    """

    therapist: str
    n_cases: int
    raw_mean: float
    effect: float
    se: float
    lower: float
    upper: float
    adjusted: float
    adjusted_lower: float
    adjusted_upper: float

    @property
    def differs(self) -> bool:
        """Whether the interval excludes the clinic mean (effect 0)."""
        return self.lower > 0 or self.upper < 0

    def to_dict(self) -> dict[str, Any]:
        return {"therapist": self.therapist, "n_cases": self.n_cases,
                "raw_mean": self.raw_mean, "effect": self.effect, "se": self.se,
                "lower": self.lower, "upper": self.upper, "adjusted": self.adjusted,
                "adjusted_lower": self.adjusted_lower, "adjusted_upper": self.adjusted_upper}


@dataclass(frozen=True)
class TherapistComparison:
    """The result of `therapist_effects`.

    Attributes
    ----------
    outcome, covariate : the columns modelled.
    n_cases, n_therapists : rows and therapists in the model.
    covariate_mean : the mean intake severity the covariate is centred on.
    intercept, intercept_se : β₀, the clinic mean outcome at the mean intake severity.
    slope, slope_se : β₁, the change in outcome per point of intake severity.
    therapist_variance : τ², the variance of the therapist effects.
    residual_variance : σ², the variance of cases around their therapist's line.
    icc : τ² / (τ² + σ²), the share of the outcome's variance between therapists.
    level : the coverage of the intervals (e.g. 0.95).
    singular : τ² estimated as (nearly) zero: the data show no difference between
        therapists beyond chance, and every effect is 0.
    converged : whether the REML optimum was reached.
    therapists : one `TherapistEffect` per therapist, in the order of their labels
        (never by effect: see the module docstring).
    """

    outcome: str
    covariate: str
    n_cases: int
    n_therapists: int
    covariate_mean: float
    intercept: float
    intercept_se: float
    slope: float
    slope_se: float
    therapist_variance: float
    residual_variance: float
    icc: float
    level: float
    singular: bool
    converged: bool
    therapists: tuple[TherapistEffect, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "covariate": self.covariate,
                "n_cases": self.n_cases, "n_therapists": self.n_therapists,
                "covariate_mean": self.covariate_mean, "intercept": self.intercept,
                "intercept_se": self.intercept_se, "slope": self.slope,
                "slope_se": self.slope_se, "therapist_variance": self.therapist_variance,
                "residual_variance": self.residual_variance, "icc": self.icc,
                "level": self.level, "singular": self.singular, "converged": self.converged,
                "therapists": [t.to_dict() for t in self.therapists]}


def therapist_effects(data: pd.DataFrame, *, outcome: str, covariate: str,
                      therapist: str = "therapist", level: float = 0.95
                      ) -> TherapistComparison:
    """Severity-adjusted therapist effects (BLUPs) with conditional-variance intervals.

    Parameters
    ----------
    data : one row per case.
    outcome : column of the outcome (e.g. change in wellbeing, or the last alliance rating).
    covariate : column of the intake severity (e.g. the first wellbeing rating).
    therapist : column of the therapist's label.
    level : coverage of the intervals, between 0 and 1.

    Returns
    -------
    TherapistComparison

    Raises
    ------
    InputError
        A column is missing or not numeric, or `level` is not between 0 and 1.
    NotEnoughDataError
        Fewer than 2 therapists or 5 cases with both outcome and covariate.

    Notes
    -----
    Rows missing the outcome or the covariate are left out. With the covariate centred on
    its mean, x̃ = x − x̄, the model for case i of therapist j is

        y_ij = β₀ + β₁ x̃_ij + u_j + ε_ij,   u_j ~ N(0, τ²),   ε_ij ~ N(0, σ²),

    fitted by REML (``lmer(y ~ x̃ + (1 | therapist), REML = TRUE)``). With n_j cases and
    residuals r_ij = y_ij − β̂₀ − β̂₁ x̃_ij, the BLUP and its conditional variance
    (lme4's ``ranef(condVar = TRUE)``) are

        û_j = τ̂² Σ_i r_ij / (σ̂² + n_j τ̂²),   v_j = σ̂² τ̂² / (σ̂² + n_j τ̂²),

    and the interval is û_j ± z_{(1+level)/2} √v_j. The interval treats β̂ as known, as
    lme4 does; it describes where the therapist's effect lies given these data, and two
    overlapping intervals are not evidence of a difference between those therapists.

    References
    ----------
    Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects
    models using lme4. Journal of Statistical Software, 67(1), 1–48.

    Goldstein, H., & Spiegelhalter, D. J. (1996). League tables and their limitations:
    statistical issues in comparisons of institutional performance. Journal of the Royal
    Statistical Society A, 159(3), 385–443.

    Wampold, B. E., & Brown, G. S. (2005). Estimating variability in outcomes attributable
    to therapists: a naturalistic study of outcomes in managed care. Journal of Consulting
    and Clinical Psychology, 73(5), 914–923.
    """
    if not 0 < level < 1:
        raise InputError(f"the interval's level must be between 0 and 1, not {level}")
    for column in (outcome, covariate, therapist):
        if column not in data.columns:
            raise InputError("is not in the data", column=column)
    y = numeric_column(data[outcome], outcome)
    x = numeric_column(data[covariate], covariate)
    labels = pd.Series(data[therapist].to_numpy(object))
    keep = (y.notna() & x.notna() & labels.notna()).to_numpy()
    y, x = y.to_numpy(float)[keep], x.to_numpy(float)[keep]
    labels = labels[keep].astype(str).to_numpy()
    names = sorted(set(labels))
    if len(names) < MIN_THERAPISTS or len(y) < MIN_CASES:
        raise NotEnoughDataError(
            f"a comparison of therapists needs at least {MIN_CASES} cases of at least "
            f"{MIN_THERAPISTS} therapists with both {outcome} and {covariate}; there are "
            f"{len(y)} of {len(names)}")

    x_mean = float(x.mean())
    X = np.column_stack([np.ones(len(y)), x - x_mean])
    fit = fit_reml(y, X, ("(Intercept)", covariate), labels, np.ones((len(y), 1)))
    tau2, sigma2 = float(fit.cov_re[0, 0]), float(fit.scale)
    residual = y - X @ fit.fe
    z = float(stats.norm.ppf((1 + level) / 2))
    effects = []
    for name in names:
        mine = labels == name
        n = int(mine.sum())
        denominator = sigma2 + n * tau2
        effect = float(tau2 * residual[mine].sum() / denominator)
        se = math.sqrt(sigma2 * tau2 / denominator)
        adjusted = float(fit.fe[0]) + effect
        effects.append(TherapistEffect(
            therapist=name, n_cases=n, raw_mean=float(y[mine].mean()), effect=effect, se=se,
            lower=effect - z * se, upper=effect + z * se, adjusted=adjusted,
            adjusted_lower=adjusted - z * se, adjusted_upper=adjusted + z * se))
    se = fit.se
    return TherapistComparison(
        outcome=outcome, covariate=covariate, n_cases=len(y), n_therapists=len(names),
        covariate_mean=x_mean, intercept=float(fit.fe[0]), intercept_se=float(se[0]),
        slope=float(fit.fe[1]), slope_se=float(se[1]), therapist_variance=tau2,
        residual_variance=sigma2, icc=tau2 / (tau2 + sigma2), level=level,
        singular=fit.singular, converged=fit.converged, therapists=tuple(effects))

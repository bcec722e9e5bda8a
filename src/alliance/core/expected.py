"""Expected treatment response: where a case should be by now, given where it started.

From the clinic's own completed cases we fit how the outcome typically develops
over sessions for clients with a given intake score (an expected recovery curve),
and how much individual cases scatter around that curve. A case whose score falls
outside the band at some session is not on track, and may need a closer look.
"""

from __future__ import annotations

from collections.abc import Mapping
import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .errors import InputError, NotEnoughDataError
from .mixed import fit_reml, numeric_column

#: Fewest completed cases the expected response is fitted on. With fewer, the
#: case-to-case spread (and so the band) is too uncertain to flag anyone fairly;
#: use a reference data set instead.
MIN_CASES = 30

#: A case counts as completed when it has at least this many rated sessions: the
#: intake and two later scores, enough to show a direction.
MIN_SESSIONS = 3

#: Two-sided coverage of the band. An on-track case then falls below the lower
#: limit (or above the upper) at about 1 session in 10: few enough false alarms
#: to take each signal seriously, early enough to catch a case going off course.
DEFAULT_COVERAGE = 0.80

#: Names of the coefficients of the log(session) curve, in order.
COEFFICIENTS = ("intercept", "intake", "log_session", "intake_log_session")

#: The shapes of the expected course over sessions: "log", outcome linear in
#: log(session) (most change early, less later); "spline", a natural cubic spline
#: of the session number with knots at the sessions' tertiles (any smooth course,
#: linear beyond the sessions seen). Both interact with the intake score.
CURVES = ("log", "spline")

#: Names of the spline curve's coefficients: three basis functions of the session.
SPLINE_COEFFICIENTS = ("intercept", "intake", "spline1", "spline2", "spline3",
                       "intake_spline1", "intake_spline2", "intake_spline3")

#: Cases are split into this many groups to measure held-out coverage: each group's
#: scores are compared with the band of a model fitted on the other groups.
HELD_OUT_FOLDS = 5

#: Session groups in which held-out coverage is reported (first, last session).
COVERAGE_GROUPS = ((2, 4), (5, 7), (8, 12), (13, None))


@dataclass(frozen=True)
class Band:
    """Expected outcome and the band around it, broadcast over intake × session."""

    intake: np.ndarray
    session: np.ndarray
    expected: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    coverage: float

    def to_dict(self) -> dict:
        return {"coverage": self.coverage,
                "rows": [{"intake": float(i), "session": float(s), "expected": float(e),
                          "lower": float(lo), "upper": float(hi)}
                         for i, s, e, lo, hi in zip(*(np.ravel(a) for a in (
                             self.intake, self.session, self.expected, self.lower,
                             self.upper)))]}


@dataclass(frozen=True)
class ExpectedResponseModel:
    """A fitted expected-treatment-response model (see `fit_expected_response`).

    Attributes
    ----------
    coefficients : fixed effects ``intercept``, ``intake``, ``log_session``,
        ``intake_log_session``.
    cov_coefficients : their covariance matrix (4 × 4).
    cov_random : covariance of the case-level random intercept (and slope on
        log(session) when ``random_slope``).
    residual_variance : variance of a single score around the case's own curve.
    random_slope : whether cases have their own slope on log(session).
    coverage : two-sided coverage of the band.
    n_cases, n_obs : completed cases and follow-up scores the model is fitted on.
    intake_range, session_range : the intake scores and sessions seen in fitting;
        the band is an extrapolation outside them.
    intake_quartiles : 25th, 50th and 75th percentiles of the fitted cases' intakes.
    """

    coefficients: dict[str, float]
    cov_coefficients: np.ndarray
    cov_random: np.ndarray
    residual_variance: float
    random_slope: bool
    coverage: float
    n_cases: int
    n_obs: int
    intake_range: tuple[float, float]
    session_range: tuple[float, float]
    intake_quartiles: tuple[float, float, float]
    method: str = "REML"
    #: The shape of the course over sessions (see CURVES), and the spline's knots.
    curve: str = "log"
    knots: tuple[float, ...] = ()
    #: Held-out coverage of the band (see `held_out_coverage`) of each curve tried:
    #: curve → {"overall", "n", "by_session": {group: {"coverage", "n"}}}.
    held_out: dict[str, dict] = field(default_factory=dict)
    #: Why rows of the data were not fitted: reason → number of rows.
    dropped: dict[str, int] = field(default_factory=dict)
    #: Test of each coefficient: ``estimate``, ``se``, ``t``, ``df`` and ``p`` (df None
    #: and a normal p for Wald z; t on Satterthwaite df as lmerTest otherwise).
    tests: dict[str, dict[str, float | None]] = field(default_factory=dict)
    df_method: str = "wald"

    def band(self, intake, session) -> Band:
        """Expected outcome and lower/upper limits for a case with this intake at this session.

        ``intake`` and ``session`` are numbers or arrays (broadcast against each other).

        Notes
        -----
        With L = log(session), x = (1, intake, L, intake·L) (for the spline
        curve, (1, intake, b(session), intake·b(session)) with b the three
        spline basis functions), z = (1, L) (or (1) without a random slope),
        β the coefficients, C their covariance, G the
        random-effect covariance and σ² the residual variance:

            expected = x'β,   var = x'Cx + z'Gz + σ²,
            limits   = expected ± q · √var,   q = Φ⁻¹((1 + coverage) / 2).

        This is a prediction interval for one score of a new case: it includes
        how far cases stray from the average curve (G), session-to-session
        noise (σ²) and the uncertainty of the curve itself (C).
        """
        intake = np.asarray(intake, dtype=float)
        session = np.asarray(session, dtype=float)
        if not (np.all(np.isfinite(intake)) and np.all(np.isfinite(session))):
            raise InputError("intake and session must be finite numbers")
        if np.any(session < 1):
            raise InputError("session numbers start at 1")
        intake, session = np.broadcast_arrays(intake, session)
        log_s = np.log(session)
        x = _design(self.curve, self.knots, intake, session)
        beta = np.array([self.coefficients[name] for name in _names(self.curve)])
        expected = x @ beta
        z = np.stack([np.ones_like(log_s), log_s], axis=-1)[..., : self.cov_random.shape[0]]
        variance = (np.einsum("...i,ij,...j->...", x, self.cov_coefficients, x)
                    + np.einsum("...i,ij,...j->...", z, self.cov_random, z)
                    + self.residual_variance)
        half = stats.norm.ppf((1 + self.coverage) / 2) * np.sqrt(variance)
        return Band(intake=intake, session=session, expected=expected,
                    lower=expected - half, upper=expected + half, coverage=self.coverage)

    def not_on_track(self, intake, session, observed, higher_is_better: bool = True) -> np.ndarray:
        """Whether each observed score falls on the wrong side of the band.

        Not on track means below the lower limit when higher scores are better,
        above the upper limit when lower scores are better. A missing observed
        score (NaN) is never flagged.
        """
        observed = np.asarray(observed, dtype=float)
        band = self.band(intake, session)
        if higher_is_better:
            return np.asarray(observed < band.lower)
        return np.asarray(observed > band.upper)

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "formula": f"outcome ~ intake * {_CURVE_TERM[self.curve]} + "
                       + ("(1 + log(session) | case)" if self.random_slope else "(1 | case)"),
            "curve": self.curve,
            "knots": list(self.knots),
            "held_out": self.held_out,
            "coefficients": dict(self.coefficients),
            "cov_coefficients": self.cov_coefficients.tolist(),
            "cov_random": self.cov_random.tolist(),
            "residual_variance": self.residual_variance,
            "random_slope": self.random_slope,
            "coverage": self.coverage,
            "n_cases": self.n_cases,
            "n_obs": self.n_obs,
            "intake_range": list(self.intake_range),
            "session_range": list(self.session_range),
            "intake_quartiles": list(self.intake_quartiles),
            "dropped": dict(self.dropped),
            "df_method": self.df_method,
            "tests": {name: dict(test) for name, test in self.tests.items()},
        }

    @classmethod
    def from_dict(cls, values: Mapping) -> ExpectedResponseModel:
        """Rebuild a model stored with `to_dict` (e.g. a reference model shipped with a clinic)."""
        try:
            curve = values.get("curve", "log")
            if curve not in CURVES:
                raise ValueError(f"unknown curve {curve!r}")
            return cls(coefficients={k: float(values["coefficients"][k]) for k in _names(curve)},
                       curve=curve, knots=tuple(map(float, values.get("knots", ()))),
                       cov_coefficients=np.array(values["cov_coefficients"], dtype=float),
                       cov_random=np.array(values["cov_random"], dtype=float),
                       residual_variance=float(values["residual_variance"]),
                       random_slope=bool(values["random_slope"]),
                       coverage=float(values["coverage"]), n_cases=int(values["n_cases"]),
                       n_obs=int(values["n_obs"]),
                       intake_range=tuple(map(float, values["intake_range"])),
                       session_range=tuple(map(float, values["session_range"])),
                       intake_quartiles=tuple(map(float, values["intake_quartiles"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"not a stored expected-response model ({exc})") from None


def fit_expected_response(frame: pd.DataFrame, client: str, session: str, outcome: str,
                          min_cases: int = MIN_CASES, coverage: float = DEFAULT_COVERAGE,
                          min_sessions: int = MIN_SESSIONS,
                          df: str = "wald", curve: str = "log",
                          held_out: bool = False) -> ExpectedResponseModel:
    """Fit the expected treatment response on completed cases.

    Parameters
    ----------
    frame : long-format table, one row per case session; pass the completed
        cases (e.g. closed cases); rows with a missing outcome are ignored.
    client : column of the case identifier.
    session : column of the session number (1 = first session).
    outcome : column of the outcome score.
    min_cases : fewest completed cases to fit on (default `MIN_CASES`).
    coverage : two-sided coverage of the band (default `DEFAULT_COVERAGE`).
    min_sessions : rated sessions a case needs to count as completed (default
        `MIN_SESSIONS`: the intake and two later scores).
    df : "wald" (default) or "satterthwaite": how ``tests`` tests each
        coefficient (normal z, or t on Satterthwaite df as lmerTest).
    curve : "log" (default), "spline" (see `CURVES`), or "auto": fit both,
        measure each one's held-out coverage and keep the curve whose coverage
        strays least from ``coverage`` in its worst session group (log on a tie).
    held_out : also measure the held-out coverage of the fitted curve (always
        done with "auto"); see `held_out_coverage`.

    Returns
    -------
    ExpectedResponseModel

    Raises
    ------
    NotEnoughDataError
        Fewer than ``min_cases`` completed cases; the message says how many there
        are and how many are needed.
    InputError
        Missing or non-numeric columns, session numbers below 1, a case with the
        same session twice, or an invalid ``coverage``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rows = [(case, s, 3 + np.log(s) + rng.normal(0, 0.5) + case % 3 * 0.3)
    ...         for case in range(40) for s in range(1, 7)]
    >>> frame = pd.DataFrame(rows, columns=["case", "session", "score"])
    >>> model = fit_expected_response(frame, "case", "session", "score")
    >>> model.n_cases, model.curve
    (40, 'log')
    >>> band = model.band(intake=3.5, session=[2, 6])
    >>> band.expected.round(2), band.lower.round(2), band.upper.round(2)
    (array([4.1, 5.1]), array([3.39, 4.4 ]), array([4.81, 5.81]))

    Notes
    -----
    A case's intake is its first score (at its lowest session number). The model
    is fitted to the scores after intake:

        y_is = β0 + β1·intake_i + (β2 + β3·intake_i)·log(s) + u_0i + u_1i·log(s) + e_is

    with (u_0i, u_1i) ~ N(0, G) and e ~ N(0, σ²), by REML (lme4:
    ``y ~ intake * log(session) + (1 + log(session) | case)``). When the model with
    a case-specific slope cannot be fitted or puts a variance on the boundary, the
    slope is dropped (``(1 | case)``). Using the intake as a covariate, not as the
    first response, keeps the curve from being pulled toward a score it is
    conditioned on. log(session) gives the negatively accelerated course typical
    of psychotherapy: most change early, less later.

    References
    ----------
    Finch, A. E., Lambert, M. J., & Schaalje, B. G. (2001). Psychotherapy quality
    control: the statistical generation of expected recovery curves for
    integration into an early warning system. Clinical Psychology &
    Psychotherapy, 8(4), 231–242.

    Lambert, M. J., Whipple, J. L., Bishop, M. J., Vermeersch, D. A., Gray, G. V.,
    & Finch, A. E. (2002). Comparison of empirically-derived and rationally-derived
    methods for identifying patients at risk for treatment failure. Clinical
    Psychology & Psychotherapy, 9(3), 149–164.
    """
    if not 0 < coverage < 1:
        raise InputError(f"coverage must be between 0 and 1 (got {coverage})")
    if curve not in (*CURVES, "auto"):
        raise InputError(f"curve must be one of {', '.join(CURVES)} or auto, got {curve!r}")
    if df not in ("wald", "satterthwaite"):
        # Kenward–Roger is checked against pbkrtest on the within/between models only.
        raise InputError(f"df must be wald or satterthwaite here, got {df!r}")
    if min_sessions < 2:
        raise InputError("a completed case needs at least 2 rated sessions (intake and one more)")
    data, dropped = _cases(frame, client, session, outcome)
    counts = data.groupby("case")["score"].transform("size")
    short = counts < min_sessions
    if short.any():
        cases = data.loc[short, "case"].nunique()
        dropped[f"{cases} case{'s' if cases > 1 else ''} with fewer than {min_sessions} rated "
                "sessions (not completed)"] = int(short.sum())
    data = data[~short]
    n_cases = int(data["case"].nunique())
    if n_cases < max(min_cases, 2):
        raise NotEnoughDataError(
            f"the expected treatment response needs at least {max(min_cases, 2)} completed cases "
            f"(an intake score and at least {min_sessions - 1} later scores each); the data have "
            f"{n_cases}")
    first = data.groupby("case")["session"].transform("min")
    intake = data[data["session"] == first].set_index("case")["score"]
    data = data.assign(intake=data["case"].map(intake))
    follow = data[data["session"] > first]
    if np.ptp(follow["session"].to_numpy()) == 0:
        raise InputError("all later scores are at the same session; the course over sessions "
                         "cannot be fitted", column=session)
    if np.ptp(intake.to_numpy()) == 0:
        raise InputError("every case has the same intake score; its effect cannot be fitted",
                         column=outcome)

    checks, models = {}, {}
    if curve == "auto" or held_out:
        for name in (CURVES if curve == "auto" else (curve,)):
            models[name], theta = _fit(follow, name, coverage, df)
            checks[name] = held_out_coverage(follow, name, coverage, start=theta)
    if curve == "auto":
        curve = min(CURVES, key=lambda name: (_worst_gap(checks[name], coverage),
                                              CURVES.index(name)))
    model = models[curve] if curve in models else _fit(follow, curve, coverage, df)[0]
    return dataclasses.replace(
        model, n_cases=n_cases, intake_range=(float(intake.min()), float(intake.max())),
        intake_quartiles=tuple(float(q) for q in np.quantile(intake, [0.25, 0.5, 0.75])),
        dropped=dropped, held_out=checks)


_CURVE_TERM = {"log": "log(session)", "spline": "ns(session, knots at tertiles)"}


def _names(curve: str) -> tuple[str, ...]:
    return COEFFICIENTS if curve == "log" else SPLINE_COEFFICIENTS


def spline_knots(sessions) -> tuple[float, ...]:
    """Knots of the spline curve: the lowest, the tertiles and the highest session."""
    sessions = np.asarray(sessions, dtype=float)
    knots = np.unique(np.quantile(sessions, [0.0, 1 / 3, 2 / 3, 1.0]))
    if len(knots) < 4:
        raise InputError("the spline curve needs later scores at four or more different "
                         "sessions; use the log curve")
    return tuple(float(k) for k in knots)


def natural_spline_basis(x, knots) -> np.ndarray:
    """The natural cubic spline basis (without the constant) at x: x and K − 2 more columns.

    Notes
    -----
    With knots ξ_1 < … < ξ_K, d_k(x) = ((x − ξ_k)³₊ − (x − ξ_K)³₊) / (ξ_K − ξ_k) and
    N_(k+2)(x) = d_k(x) − d_(K−1)(x), k = 1 … K − 2 (Hastie, Tibshirani & Friedman,
    2009, eq. 5.4–5.5): cubic between the knots, linear beyond the outer ones. The
    columns are scaled by the squared knot span so they stay of the size of x.
    """
    x = np.asarray(x, dtype=float)
    knots = np.asarray(knots, dtype=float)
    last = knots[-1]

    def d(k):
        return ((np.clip(x - knots[k], 0, None) ** 3 - np.clip(x - last, 0, None) ** 3)
                / (last - knots[k]))

    span = (last - knots[0]) ** 2
    columns = [x] + [(d(k) - d(len(knots) - 2)) / span for k in range(len(knots) - 2)]
    return np.stack(columns, axis=-1)


def _design(curve: str, knots, intake, session) -> np.ndarray:
    intake = np.asarray(intake, dtype=float)
    session = np.asarray(session, dtype=float)
    if curve == "log":
        shape = np.log(session)[..., None]
    else:
        shape = natural_spline_basis(session, knots)
    ones = np.ones_like(intake)[..., None]
    return np.concatenate([ones, intake[..., None], shape, intake[..., None] * shape], axis=-1)


def _fit(follow: pd.DataFrame, curve: str, coverage: float, df: str,
         start: np.ndarray | None = None) -> tuple[ExpectedResponseModel, np.ndarray]:
    """Fit one curve to the follow-up scores (columns case, session, score, intake).

    Returns the model and θ of its random-slope fit (a start for refits on part of
    the data: one search from a nearby optimum instead of several)."""
    session = follow["session"].to_numpy(float)
    knots = spline_knots(session) if curve == "spline" else ()
    X = _design(curve, knots, follow["intake"].to_numpy(float), session)
    names = _names(curve)
    y = follow["score"].to_numpy(float)
    units = follow["case"].to_numpy()
    log_s = np.log(session)
    fit = fit_reml(y, X, names, units=units, Z=np.column_stack([np.ones_like(log_s), log_s]),
                   df=df, starts=None if start is None else [start])
    slope_theta = fit.theta
    random_slope = fit.converged and not fit.singular
    if not random_slope:
        fit = fit_reml(y, X, names, units=units, Z=np.ones_like(log_s), df=df)
    dfs = fit.df if fit.df is not None else [None] * len(names)
    tests = {name: {"estimate": float(b), "se": float(se), "t": float(t),
                    "df": None if d is None else float(d), "p": float(p)}
             for name, b, se, t, d, p in zip(names, fit.fe, fit.se, fit.t, dfs, fit.p)}
    intakes = follow.groupby("case")["intake"].first()
    return ExpectedResponseModel(
        coefficients=dict(zip(names, map(float, fit.fe))),
        cov_coefficients=fit.cov_fe, cov_random=fit.cov_re, residual_variance=fit.scale,
        random_slope=random_slope, coverage=float(coverage), n_cases=int(len(intakes)),
        n_obs=int(len(follow)),
        intake_range=(float(intakes.min()), float(intakes.max())),
        session_range=(float(session.min()), float(session.max())),
        intake_quartiles=tuple(float(q) for q in np.quantile(intakes, [0.25, 0.5, 0.75])),
        tests=tests, df_method=df, curve=curve, knots=knots), slope_theta


def held_out_coverage(follow: pd.DataFrame, curve: str, coverage: float,
                      folds: int = HELD_OUT_FOLDS, seed: int = 0,
                      start: np.ndarray | None = None) -> dict:
    """Share of held-out cases' scores that fall inside the band, overall and by session.

    Parameters
    ----------
    follow : the follow-up scores, columns ``case``, ``session``, ``score``, ``intake``.
    curve : "log" or "spline".
    coverage : the band's nominal coverage.
    folds : the cases are split at random (``seed``) into this many groups; each
        group's scores are checked against the band of the model fitted on the
        other groups (so a case never tests a model it helped to fit).
    start : θ of the random-slope fit on all cases, where each fold's search starts.

    Returns
    -------
    dict
        ``overall`` coverage and ``n`` scores, and ``by_session``: for each session
        group of `COVERAGE_GROUPS` with scores, its ``coverage`` and ``n``.
    """
    cases = np.array(sorted(follow["case"].unique()))
    group = dict(zip(np.random.default_rng(seed).permutation(cases),
                     np.arange(len(cases)) % folds))
    fold = follow["case"].map(group).to_numpy()
    inside = np.zeros(len(follow), dtype=bool)
    for k in range(folds):
        test = fold == k
        model, _ = _fit(follow[~test], curve, coverage, "wald", start=start)
        rows = follow[test]
        band = model.band(rows["intake"].to_numpy(float), rows["session"].to_numpy(float))
        score = rows["score"].to_numpy(float)
        inside[test] = (score >= band.lower) & (score <= band.upper)
    session = follow["session"].to_numpy(float)
    by_session = {}
    for low, high in COVERAGE_GROUPS:
        chosen = (session >= low) & (session <= (np.inf if high is None else high))
        if chosen.any():
            label = f"{low}+" if high is None else f"{low}–{high}"
            by_session[label] = {"coverage": float(inside[chosen].mean()),
                                 "n": int(chosen.sum())}
    return {"overall": float(inside.mean()), "n": int(len(inside)), "by_session": by_session}


def _worst_gap(check: dict, coverage: float) -> float:
    """The largest distance from the nominal coverage over the session groups."""
    return max(abs(group["coverage"] - coverage) for group in check["by_session"].values())


def _cases(frame: pd.DataFrame, client: str, session: str, outcome: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise InputError("expected a table (pandas DataFrame) of sessions")
    missing = [c for c in (client, session, outcome) if c not in frame.columns]
    if missing:
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)} (the table has: "
            f"{', '.join(map(str, frame.columns))})", column=missing[0])
    data = pd.DataFrame({"case": frame[client].to_numpy(),
                         "session": numeric_column(frame[session], session),
                         "score": numeric_column(frame[outcome], outcome)})
    data["case"] = data["case"].where(data["case"].isna(), data["case"].astype(str).str.strip())
    data = data.replace({"case": {"": np.nan}})
    names = {"case": client, "session": session, "score": outcome}
    dropped = {f"no value for '{names[role]}'": int(count)
               for role, count in data.isna().sum().items() if count}
    data = data.dropna()
    if (data["session"] < 1).any():
        bad = data.loc[data["session"] < 1, "session"].iloc[0]
        raise InputError(f"session numbers start at 1 (found {bad:g})", column=session)
    duplicated = data.duplicated(["case", "session"])
    if duplicated.any():
        row = data[duplicated].iloc[0]
        raise InputError(f"case {row['case']} has session {row['session']:g} more than once",
                         column=session)
    return data, dropped


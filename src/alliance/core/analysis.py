"""Alliance → outcome: the within/between multilevel model.

A client's alliance score at a session mixes two things: how good this client's
alliance is in general (a trait of the client, their therapist and their
pairing) and how good it is this week compared with the client's usual level.
The first varies *between* clients, the second *within* a client. They answer
different questions ("do clients with better alliances do better?" versus "when
a client's alliance improves, does their outcome follow?") and can have
different sizes, even different signs, so the model estimates them separately.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .errors import InputError, NotEnoughDataError
from .mixed import fit_reml, numeric_column

#: Fewest clients (with usable rows) the model is fitted on. Below this the
#: client-level variance, and with it every standard error, is not estimable in
#: any useful sense. It is a floor, not a recommendation: power analyses for
#: these models usually call for 50 clients or more.
MIN_CLIENTS = 10

#: Fewest therapists for the model with a therapist level (random intercept per
#: therapist). A variance estimated from fewer groups is little more than a guess.
MIN_THERAPISTS = 3

#: Fixed-effect terms, in the order they are reported.
TERMS = ("intercept", "within", "between", "outcome_lag", "session")

_Z95 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class FixedEffect:
    """One fixed effect: estimate, standard error, Wald z, p and 95 % confidence interval.

    With Satterthwaite or Kenward–Roger degrees of freedom (``df`` set) ``z`` is
    lmerTest's t statistic (estimate / se; with Kenward–Roger the se comes from
    the adjusted covariance), ``p`` comes from the t distribution on ``df``
    degrees of freedom and the interval uses its quantile.

    ``z`` is what lme4 prints as "t value". ``p`` and the interval use the normal
    distribution (large-sample Wald), as ``confint(fit, method = "Wald")`` does.
    """

    estimate: float
    se: float
    z: float
    p: float
    ci_low: float
    ci_high: float
    #: Satterthwaite or Kenward–Roger denominator degrees of freedom (None for Wald z).
    df: float | None = None

    def to_dict(self) -> dict:
        return {"estimate": self.estimate, "se": self.se, "z": self.z, "p": self.p,
                "ci": [self.ci_low, self.ci_high], "df": self.df}


@dataclass(frozen=True)
class ModelData:
    """The rows the within/between model is fitted on, and how they were made.

    ``data`` has the columns ``client``, ``outcome``, ``predictor``, ``person_mean``,
    ``within``, ``between``, and ``therapist``, ``session``, ``outcome_lag`` when used.
    """

    data: pd.DataFrame
    n_rows: int
    n_dropped: int
    grand_mean: float
    lag: bool
    #: Why rows were left out: reason → number of rows (a row missing two values
    #: counts under both; see `dropped_reasons`).
    dropped: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class WithinBetweenResult:
    """Result of `within_between`.

    ``fixed_effects`` maps each term (``intercept``, ``within``, ``between``,
    and ``outcome_lag`` / ``session`` when used) to a `FixedEffect`.
    ``variance_components`` holds the variances of the random intercepts
    (``client``, and ``therapist`` with a therapist level) and of the residual.
    """

    fixed_effects: dict[str, FixedEffect]
    variance_components: dict[str, float]
    n_obs: int
    n_clients: int
    n_therapists: int | None
    n_rows: int
    n_dropped: int
    outcome: str
    predictor: str
    lag: bool
    formula: str
    grand_mean: float
    reml_criterion: float
    converged: bool
    singular: bool
    notes: tuple[str, ...] = field(default=())
    method: str = "REML"
    #: Why rows were left out: reason → number of rows.
    dropped: dict[str, int] = field(default_factory=dict)
    #: "wald" (z and normal p), "satterthwaite" (t on Satterthwaite df, as lmerTest) or
    #: "kenward-roger" (t on Kenward–Roger df with the adjusted se, as lmerTest/pbkrtest).
    df_method: str = "wald"

    @property
    def summary(self) -> str:
        """The main findings in plain language."""
        return _summary(self)

    def to_dict(self) -> dict:
        return {
            "fixed_effects": {term: fe.to_dict() for term, fe in self.fixed_effects.items()},
            "variance_components": dict(self.variance_components),
            "n_obs": self.n_obs,
            "n_clients": self.n_clients,
            "n_therapists": self.n_therapists,
            "n_rows": self.n_rows,
            "n_dropped": self.n_dropped,
            "dropped": dict(self.dropped),
            "method": self.method,
            "df_method": self.df_method,
            "outcome": self.outcome,
            "predictor": self.predictor,
            "lag": self.lag,
            "formula": self.formula,
            "between_centred_at": self.grand_mean,
            "reml_criterion": self.reml_criterion,
            "converged": self.converged,
            "singular": self.singular,
            "notes": list(self.notes),
            "summary": self.summary,
        }


def within_between_data(frame: pd.DataFrame, outcome: str, predictor: str, client: str,
                        therapist: str | None = None, session: str | None = None,
                        lag: bool = False) -> ModelData:
    """Build the rows of the within/between model (see `within_between` for the rules).

    Raises
    ------
    InputError
        A column is missing, named twice, or holds text where numbers belong; or
        (lag form) a client has the same session number twice.
    NotEnoughDataError
        No row has all the values the model needs.
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError("expected a table (pandas DataFrame) of sessions")
    roles = {"outcome": outcome, "predictor": predictor, "client": client,
             "therapist": therapist, "session": session}
    used = {role: column for role, column in roles.items() if column is not None}
    missing = [column for column in used.values() if column not in frame.columns]
    if missing:
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)} (the table has: "
            f"{', '.join(map(str, frame.columns))})", column=missing[0])
    columns = list(used.values())
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise InputError(f"column '{repeated[0]}' is given for more than one role "
                         f"({', '.join(r for r, c in used.items() if c == repeated[0])})",
                         column=repeated[0])

    data = pd.DataFrame({role: frame[column].to_numpy() for role, column in used.items()})
    for role in ("outcome", "predictor", "session"):
        if role in data:
            data[role] = numeric_column(data[role], used[role])
    for role in ("client", "therapist"):
        if role in data:
            ids = data[role]
            data[role] = ids.where(ids.isna(), ids.astype(str).str.strip()).replace("", np.nan)
    n_rows = len(data)
    dropped = {f"no value for '{used[role]}'": int(count)
               for role, count in data.isna().sum().items() if count}
    data = data.dropna()
    n_dropped = n_rows - len(data)
    if data.empty:
        raise NotEnoughDataError(f"no row has values for all of {', '.join(map(repr, columns))}")

    if lag:
        before = len(data)
        data = _pair_with_next(data, session_column=session)
        if before > len(data):
            dropped["a client's last usable session (no next session to predict)"] = \
                before - len(data)
    # Person mean over the predictor values that enter the model; the between part
    # is centred at the mean of the person means (each client counted once).
    person_mean = data.groupby("client", sort=False)["predictor"].transform("mean")
    grand_mean = float(data.groupby("client", sort=False)["predictor"].mean().mean()) \
        if len(data) else float("nan")
    data = data.assign(person_mean=person_mean, within=data["predictor"] - person_mean,
                       between=person_mean - grand_mean).reset_index(drop=True)
    return ModelData(data=data, n_rows=n_rows, n_dropped=n_dropped, grand_mean=grand_mean,
                     lag=lag, dropped=dropped)


def within_between(frame: pd.DataFrame, outcome: str, predictor: str, client: str,
                   therapist: str | None = None, session: str | None = None,
                   lag: bool = False, df: str = "wald") -> WithinBetweenResult:
    """Fit the within/between multilevel model of a predictor (alliance) on an outcome.

    Parameters
    ----------
    frame : long-format table, one row per client session.
    outcome : column of the outcome (e.g. ``wellbeing``).
    predictor : column of the predictor (e.g. ``alliance``).
    client : column of the client identifier.
    therapist : optional column of the therapist identifier; adds a therapist
        level (clients nested in therapists).
    session : optional column of the session number; adds a linear session term
        and (lag form) orders each client's sessions.
    lag : predict the outcome at the client's next session from the predictor at
        this session, controlling for the outcome at this session.
    df : "wald" (default): each fixed effect is tested with the normal
        distribution (Wald z). "satterthwaite": a t test on Satterthwaite
        degrees of freedom, as lmerTest's ``summary`` (better with few clients
        or therapists); see `alliance.core.mixed.satterthwaite_df`.
        "kenward-roger": a t test on Kenward–Roger degrees of freedom with the
        adjusted standard error, as ``summary(fit, ddf = "Kenward-Roger")``; see
        `alliance.core.mixed.kenward_roger`.

    Returns
    -------
    WithinBetweenResult

    Raises
    ------
    InputError
        Missing or non-numeric columns, a constant predictor or outcome, or terms
        that cannot be told apart.
    NotEnoughDataError
        Fewer than `MIN_CLIENTS` clients (or `MIN_THERAPISTS` therapists) with
        usable rows.

    Notes
    -----
    Rows missing the outcome, the predictor, the client (or the therapist or the
    session, when given) are dropped first and counted in ``n_dropped``. Then, for
    client i at row t, with x̄_i the client's mean predictor over the rows in the
    model and x̄ the mean of the x̄_i over clients:

        within_it  = x_it − x̄_i            (person-mean-centred)
        between_i  = x̄_i − x̄              (person mean, grand-mean-centred)

        y_it = β0 + βw·within_it + βb·between_i [+ βs·session_it] + u_i + e_it

    with u_i ~ N(0, τ²), e_it ~ N(0, σ²). With a therapist level, u is replaced
    by v_j + u_(j)i, a random intercept for therapist j and one for client i within
    therapist j (lme4: ``(1 | therapist) + (1 | therapist:client)``).

    βw is the within-client effect (a session where the alliance is one point
    above the client's own average), βb the between-client effect (a client whose
    average alliance is one point higher). Centring the between part only moves
    the intercept: β0 is the expected outcome of a client with an average mean
    alliance, at a session at their own average (and at session 0 when a session
    term is used).

    Lag form: each client's remaining rows are ordered by session (or kept in
    their order in the table when no session column is given), and each row t is
    paired with the client's next remaining row t+1. The model row has the outcome
    of row t+1 as response and, from row t, the predictor, the outcome (term
    ``outcome_lag``) and the session. A client's last row has no pair. The person
    mean is then taken over the predictor values of the pairs:

        y_i,t+1 = β0 + βw·within_it + βb·between_i + βl·y_it [+ βs·session_it] + u_i + e

    Estimation is by REML, computed as lme4 computes it (`alliance.core.mixed`);
    standard errors come from (X'V⁻¹X)⁻¹. Results agree with
    ``lme4::lmer(..., REML = TRUE)`` to at least 4 significant digits on the
    stored reference data (``tests/reference/multilevel``).

    References
    ----------
    Curran, P. J., & Bauer, D. J. (2011). The disaggregation of within-person and
    between-person effects in longitudinal models of change. Annual Review of
    Psychology, 62, 583–619.

    Falkenström, F., Finkel, S., Sandell, R., Rubel, J. A., & Holmqvist, R. (2017).
    Dynamic models of individual change in psychotherapy process research. Journal
    of Consulting and Clinical Psychology, 85(6), 537–549.

    Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear
    mixed-effects models using lme4. Journal of Statistical Software, 67(1), 1–48.
    """
    prepared = within_between_data(frame, outcome, predictor, client, therapist=therapist,
                                   session=session, lag=lag)
    data = prepared.data
    n_clients = int(data["client"].nunique())
    if n_clients < MIN_CLIENTS:
        raise NotEnoughDataError(
            f"the within/between model needs at least {MIN_CLIENTS} clients with usable rows"
            f"{' (two or more rated sessions each, for the lag form)' if lag else ''}; "
            f"the data have {n_clients}")
    n_therapists = None
    if therapist is not None:
        n_therapists = int(data["therapist"].nunique())
        if n_therapists < MIN_THERAPISTS:
            raise NotEnoughDataError(
                f"a therapist level needs at least {MIN_THERAPISTS} therapists with usable rows;"
                f" the data have {n_therapists} (leave out the therapist column to fit without it)")
    _check_variation(data, outcome, predictor)

    terms = ["intercept", "within", "between"]
    if lag:
        terms.append("outcome_lag")
    if session is not None:
        terms.append("session")
    X = np.column_stack([np.ones(len(data))] + [data[t].to_numpy(float) for t in terms[1:]])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise InputError(f"the terms {', '.join(terms[1:])} cannot be told apart in these data "
                         "(one is a combination of the others)")
    if len(data) <= X.shape[1] + 1:
        raise NotEnoughDataError(f"{len(data)} usable observations are too few for "
                                 f"{X.shape[1]} fixed effects")

    y = data["outcome"].to_numpy(float)
    ones = np.ones(len(data))
    if therapist is None:
        fit = fit_reml(y, X, terms, units=data["client"].to_numpy(), Z=ones, df=df)
        variances = {"client": float(fit.cov_re[0, 0]), "residual": fit.scale}
    else:
        # Client within therapist (lme4: therapist:client), so that a client seen by
        # two therapists counts as two units, as lme4 counts them.
        nested = (data["therapist"] + "\x1f" + data["client"]).to_numpy()
        fit = fit_reml(y, X, terms, units=nested, Z=ones, groups=data["therapist"].to_numpy(),
                       df=df)
        variances = {"client": float(fit.cov_re[0, 0]), "therapist": fit.group_variance,
                     "residual": fit.scale}

    effects = {}
    dfs = fit.df if fit.df is not None else [None] * len(terms)
    for term, estimate, se, z, p, term_df in zip(terms, fit.fe, fit.se, fit.t, fit.p, dfs):
        quantile = _Z95 if term_df is None else float(stats.t.ppf(0.975, term_df))
        effects[term] = FixedEffect(estimate=float(estimate), se=float(se), z=float(z),
                                    p=float(p), ci_low=float(estimate - quantile * se),
                                    ci_high=float(estimate + quantile * se),
                                    df=None if term_df is None else float(term_df))
    notes = []
    if fit.singular:
        notes.append("a random-effect variance is estimated as zero (boundary fit); the "
                      "fixed effects are still valid but the model could be simplified")
    if not fit.converged:
        notes.append("the REML optimum was not confirmed (the criterion is not flat there); "
                     "treat the estimates with care")
    return WithinBetweenResult(
        fixed_effects=effects, variance_components=variances, n_obs=len(data),
        n_clients=n_clients, n_therapists=n_therapists, n_rows=prepared.n_rows,
        n_dropped=prepared.n_dropped, outcome=outcome, predictor=predictor, lag=lag,
        formula=_formula(outcome, client, therapist, terms, lag),
        grand_mean=prepared.grand_mean, reml_criterion=fit.reml_criterion,
        converged=fit.converged, singular=fit.singular, notes=tuple(notes),
        dropped=dict(prepared.dropped), df_method=df)


def _pair_with_next(data: pd.DataFrame, session_column: str | None) -> pd.DataFrame:
    """Pair each complete row with the same client's next complete row."""
    if session_column is not None:
        duplicated = data.duplicated(["client", "session"])
        if duplicated.any():
            row = data[duplicated].iloc[0]
            raise InputError(f"client {row['client']} has session {row['session']:g} more than "
                             "once, so the order of their sessions is ambiguous",
                             column=session_column)
        data = data.sort_values(["client", "session"], kind="mergesort")
    else:
        # Keep the table's own order of each client's rows.
        data = data.sort_values("client", kind="mergesort")
    following = data.groupby("client", sort=False)["outcome"].shift(-1)
    data = data.assign(outcome_lag=data["outcome"], outcome=following)
    return data[following.notna()]


def _check_variation(data: pd.DataFrame, outcome: str, predictor: str) -> None:
    if np.ptp(data["predictor"].to_numpy()) == 0:
        raise InputError(f"the predictor has the same value ({data['predictor'].iloc[0]:g}) in "
                         "every usable row, so it cannot predict anything", column=predictor)
    if np.ptp(data["outcome"].to_numpy()) == 0:
        raise InputError(f"the outcome has the same value ({data['outcome'].iloc[0]:g}) in "
                         "every usable row", column=outcome)
    scale = max(1.0, float(np.abs(data["predictor"]).max()))
    if np.abs(data["within"].to_numpy()).max() <= 1e-12 * scale:
        raise InputError("no client's predictor changes from session to session, so the "
                         "within-client part cannot be estimated", column=predictor)
    if np.ptp(data["between"].to_numpy()) <= 1e-12 * scale:
        raise InputError("every client has the same mean predictor, so the between-client part "
                         "cannot be estimated", column=predictor)


def _formula(outcome: str, client: str, therapist: str | None, terms: list[str],
             lag: bool) -> str:
    response = f"{outcome}[next session]" if lag else outcome
    random = (f"(1 | {therapist}) + (1 | {therapist}:{client})" if therapist
              else f"(1 | {client})")
    return f"{response} ~ {' + '.join(terms[1:])} + {random}"


def _summary(result: WithinBetweenResult) -> str:
    fe: Mapping[str, FixedEffect] = result.fixed_effects
    x, y = result.predictor, result.outcome
    when = f"the next session's {y}" if result.lag else y
    given = f", given the {y} at that session" if result.lag else ""

    def change(effect: FixedEffect) -> str:
        direction = "higher" if effect.estimate >= 0 else "lower"
        clear = ("excludes zero" if effect.ci_low > 0 or effect.ci_high < 0
                 else "includes zero")
        return (f"{abs(effect.estimate):.2f} points {direction} (95% CI {effect.ci_low:.2f} to "
                f"{effect.ci_high:.2f}, which {clear})")

    lines = [
        f"Within clients: at sessions where a client's {x} was 1 point above their own "
        f"average, {when} was {change(fe['within'])}{given}.",
        f"Between clients: clients whose average {x} was 1 point higher had {when} "
        f"{change(fe['between'])}{given}.",
        f"Based on {result.n_obs} observations from {result.n_clients} clients"
        + (f" and {result.n_therapists} therapists" if result.n_therapists else "")
        + (f"; {result.n_dropped} rows with missing values were left out" if result.n_dropped
           else "") + ".",
    ]
    return "\n".join(lines)

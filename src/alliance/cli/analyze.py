"""`alliance analyze`: multilevel analyses of long-format session exports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
import numpy as np

from alliance.cli.output import print_json, print_pairs, print_table
from alliance.core.analysis import within_between
from alliance.core.errors import InputError, NotEnoughDataError
from alliance.core.expected import CURVES, DEFAULT_COVERAGE, MIN_CASES, fit_expected_response
from alliance.core.tables import file_line, read_csv

#: Sessions shown by `analyze expected` unless --sessions is given (up to the last fitted one).
DEFAULT_SESSIONS = (2, 3, 4, 6, 8, 10, 12, 16, 20, 26, 32, 40, 52)

DF_OPTION = click.option(
    "--df", type=click.Choice(("wald", "satterthwaite")), default="wald", show_default=True,
    help="Tests of the fixed effects: Wald z (normal), or t on Satterthwaite degrees of "
         "freedom as lmerTest (better with few clients).")

#: within-between also offers Kenward–Roger (checked against pbkrtest on its models).
WITHIN_BETWEEN_DF_OPTION = click.option(
    "--df", type=click.Choice(("wald", "satterthwaite", "kenward-roger")), default="wald",
    show_default=True,
    help="Tests of the fixed effects: Wald z (normal), t on Satterthwaite degrees of "
         "freedom as lmerTest, or t on Kenward–Roger degrees of freedom with the adjusted "
         "standard errors as lmerTest with pbkrtest (both better with few clients).")

_TESTS = {"wald": "Wald z (normal distribution)",
          "satterthwaite": "t on Satterthwaite degrees of freedom (as lmerTest)",
          "kenward-roger": "t on Kenward–Roger degrees of freedom, adjusted standard errors "
                           "(as lmerTest with pbkrtest)"}


@click.group("analyze")
def analyze() -> None:
    """Research analyses of session data (long format: one row per client session).

    \b
    Example:
      alliance analyze within-between sim/sessions.csv --outcome wellbeing \\
          --predictor alliance --client client_id --therapist therapist_id
    """


@analyze.command("within-between")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--outcome", required=True, metavar="COL", help="Outcome column (e.g. wellbeing).")
@click.option("--predictor", required=True, metavar="COL",
              help="Predictor column (e.g. alliance).")
@click.option("--client", required=True, metavar="COL", help="Client identifier column.")
@click.option("--therapist", metavar="COL",
              help="Therapist identifier column: adds a therapist level (clients nested in "
                   "therapists).")
@click.option("--session", metavar="COL",
              help="Session number column: adds a session term, and orders sessions for --lag.")
@click.option("--lag", is_flag=True,
              help="Predict the outcome at the next session from the predictor at this one, "
                   "controlling for the outcome at this one.")
@WITHIN_BETWEEN_DF_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def within_between_command(file, outcome, predictor, client, therapist, session, lag, df,
                           as_json):
    """Within/between multilevel model of a predictor (alliance) on an outcome.

    The predictor is split into its within-client part (session score minus the
    client's mean) and its between-client part (the client's mean, centred at the
    average client), each with its own effect on the outcome; a random intercept
    per client (and per therapist with --therapist). Fitted by REML; estimates
    and standard errors match R's lme4::lmer. Each fixed effect is tested with
    Wald z, or with --df satterthwaite a t test on Satterthwaite degrees of
    freedom matching lmerTest (advisable with few clients or therapists), or with
    --df kenward-roger a t test on Kenward–Roger degrees of freedom with the
    adjusted standard errors, matching lmerTest with pbkrtest. Rows with a
    missing value are left out and counted by reason.

    \b
    Example:
      alliance analyze within-between sim/sessions.csv --outcome wellbeing \\
          --predictor alliance --client client_id --therapist therapist_id \\
          --session session --lag
      alliance analyze within-between small.csv --outcome wellbeing \\
          --predictor alliance --client client_id --df satterthwaite
    """
    _distinct(outcome=outcome, predictor=predictor, client=client, therapist=therapist,
              session=session)
    required = [c for c in (client, therapist) if c]
    numeric = [c for c in (outcome, predictor, session) if c]
    frame = read_csv(file, required=required, numeric=numeric,
                     integer=[session] if session else [])
    if session:
        _check_sessions(frame, file, client, session, first=0)
    with _naming(file):
        result = within_between(frame, outcome, predictor, client, therapist=therapist,
                                session=session, lag=lag, df=df)
    if as_json:
        print_json(result)
        return
    click.echo(f"Model   {result.formula}")
    click.echo(f"        within = {predictor} − client mean; between = client mean − "
               f"{result.grand_mean:.3f} (mean of client means)")
    print_pairs([
        ("Observations", result.n_obs),
        ("Clients", result.n_clients),
        *([("Therapists", result.n_therapists)] if result.n_therapists else []),
        ("Rows left out", result.n_rows - result.n_obs),
        *_dropped_pairs(result.dropped),
        ("Method", result.method),
        ("Tests", _TESTS[df]),
    ])
    click.echo()
    print_table([_effect_row(term, fe.estimate, fe.se, fe.z, fe.df, fe.p,
                             ci=(fe.ci_low, fe.ci_high))
                 for term, fe in result.fixed_effects.items()], title="Fixed effects")
    click.echo()
    print_table([{"component": name, "variance": value, "sd": float(np.sqrt(value))}
                 for name, value in result.variance_components.items()],
                title="Variance components")
    click.echo()
    click.echo(result.summary)
    for note in result.notes:
        click.echo(f"Note: {note}")


@analyze.command("expected")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--client", required=True, metavar="COL", help="Case (client) identifier column.")
@click.option("--session", required=True, metavar="COL", help="Session number column (1 = first).")
@click.option("--outcome", required=True, metavar="COL", help="Outcome column (e.g. wellbeing).")
@click.option("--min-cases", type=click.IntRange(min=2), default=MIN_CASES, show_default=True,
              help="Fewest completed cases to fit on.")
@click.option("--coverage", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=DEFAULT_COVERAGE, show_default=True, help="Two-sided coverage of the band.")
@click.option("--intake", metavar="X,Y,…",
              help="Intake scores to show (default: the quartiles of the fitted cases' intakes).")
@click.option("--sessions", metavar="S,T,…",
              help="Sessions to show (default: 2, 3, 4, 6, 8, … up to the last fitted session).")
@click.option("--curve", type=click.Choice(("auto", *CURVES)), default="auto",
              show_default=True,
              help="Course over sessions: log(session), a natural spline of the session, or "
                   "auto (the one whose held-out coverage is nearer the band's).")
@DF_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def expected_command(file, client, session, outcome, min_cases, coverage, intake, sessions,
                     curve, df, as_json):
    """Expected treatment response: the typical course of the outcome by intake score.

    Fits, on the file's completed cases (an intake and at least two later
    scores), outcome ~ intake × curve(session) with a random intercept (and
    slope, when the data support it) per case by REML, then prints the expected
    score and the band within which an on-track case falls (COVERAGE of the
    time) for a few intake scores and sessions. The curve is log(session) or a
    natural spline of the session; with --curve auto (the default) both are
    fitted and the one whose band covers held-out cases' scores nearer the
    nominal coverage in every session group is kept. The held-out coverage
    (each fifth of the cases checked against a model fitted on the rest) is
    printed by session group. A score beyond the band is "not on track". Refuses to fit with
    fewer than --min-cases cases. The coefficients are tested with Wald z, or
    with --df satterthwaite with t on Satterthwaite degrees of freedom
    (lmerTest's). The output counts the rows left out and says why.

    \b
    Example:
      alliance analyze expected sim/sessions.csv --client client_id \\
          --session session --outcome wellbeing --intake 3,5,7 --sessions 2,4,8,12
    """
    intakes = _numbers(intake, "--intake") if intake else None
    shown = _numbers(sessions, "--sessions") if sessions else None
    if shown and min(shown) < 1:
        raise click.BadParameter("session numbers start at 1", param_hint="--sessions")
    _distinct(client=client, session=session, outcome=outcome)
    frame = read_csv(file, required=[client], numeric=[session, outcome], integer=[session])
    _check_sessions(frame, file, client, session, first=1)
    with _naming(file):
        model = fit_expected_response(frame, client, session, outcome, min_cases=min_cases,
                                      coverage=coverage, df=df, curve=curve, held_out=True)
    intakes = intakes or sorted({round(q, 1) for q in model.intake_quartiles})
    shown = shown or [s for s in DEFAULT_SESSIONS if s <= model.session_range[1]] or [2]
    grid_intake, grid_session = np.meshgrid(intakes, shown, indexing="ij")
    band = model.band(grid_intake.ravel(), grid_session.ravel())
    if as_json:
        print_json({"model": model.to_dict(), "band": band.to_dict()})
        return
    c = model.coefficients
    if model.curve == "log":
        click.echo(f"Expected {outcome} = {c['intercept']:.3f} {_signed(c['intake'])}·intake "
                   f"+ ({c['log_session']:.3f} {_signed(c['intake_log_session'])}·intake)"
                   "·log(session)")
    else:
        knots = ", ".join(f"{k:g}" for k in model.knots)
        click.echo(f"Expected {outcome} = {c['intercept']:.3f} {_signed(c['intake'])}·intake "
                   f"+ a natural spline of the session (knots {knots}) varying with intake")
    print_pairs([
        ("Completed cases", model.n_cases),
        ("Scores after intake", model.n_obs),
        ("Curve", _CURVE_WORDS[model.curve] + (" (chosen by held-out coverage)"
                                                if curve == "auto" else "")),
        ("Random effects", "intercept and slope per case" if model.random_slope
         else "intercept per case"),
        ("Residual SD", float(np.sqrt(model.residual_variance))),
        ("Intake scores seen", f"{model.intake_range[0]:g} to {model.intake_range[1]:g}"),
        ("Sessions seen", f"{model.session_range[0]:g} to {model.session_range[1]:g}"),
        ("Rows left out", sum(model.dropped.values())),
        *_dropped_pairs(model.dropped),
        ("Method", model.method),
        ("Tests", _TESTS[df]),
    ])
    click.echo()
    print_table([_effect_row(name, t["estimate"], t["se"], t["t"], t["df"], t["p"])
                 for name, t in model.tests.items()], title="Coefficients")
    click.echo()
    rows = []
    for j, s in enumerate(shown):
        row = {"session": f"{s:g}"}
        for i, value in enumerate(intakes):
            k = i * len(shown) + j
            row[f"intake {value:g}"] = (f"{band.expected[k]:.2f} "
                                        f"({band.lower[k]:.2f} to {band.upper[k]:.2f})")
        rows.append(row)
    print_table(rows, title=f"Expected {outcome} (and its {coverage:.0%} band) by intake score")
    click.echo()
    print_table(_coverage_rows(model.held_out),
                title=f"Held-out coverage of the {coverage:.0%} band (share of held-out cases' "
                      "scores inside it)")
    click.echo()
    click.echo(f"A score below the band (when higher {outcome} is better) or above it (when lower "
               "is better) is not on track.")


_CURVE_WORDS = {"log": "log(session)", "spline": "natural spline of the session"}


def _coverage_rows(held_out: dict) -> list[dict]:
    rows = []
    for curve, check in held_out.items():
        row = {"curve": curve, "all sessions": check["overall"]}
        for group, values in check["by_session"].items():
            row[f"sessions {group}"] = values["coverage"]
        rows.append(row)
    return rows


def _dropped_pairs(dropped: dict[str, int]) -> list[tuple[str, int]]:
    """One line per reason a row was left out (a row missing two values counts twice)."""
    return [(f"  {reason}", count) for reason, count in dropped.items()]


def _effect_row(term, estimate, se, statistic, df, p, ci=None) -> dict:
    row = {"term": term, "estimate": estimate, "se": se}
    if df is None:
        row["z"] = statistic
    else:
        row["t"] = statistic
        row["df"] = df
    if ci is not None:
        row["ci_low"], row["ci_high"] = ci
    row["p"] = "<.001" if p < 0.001 else f"{p:.3f}"
    return row


def _distinct(**roles: str | None) -> None:
    given = [column for column in roles.values() if column]
    if len(set(given)) < len(given):
        options = [f"--{role}" for role, column in roles.items() if column]
        raise click.UsageError(f"{', '.join(options[:-1])} and {options[-1]} must be different "
                               "columns")


def _check_sessions(frame, file: str, client: str, session: str, *, first: int) -> None:
    """Point at the first session number below ``first`` or repeated for a client."""
    numbers = frame[session]
    low = (numbers < first).to_numpy()
    if low.any():
        problem = ("session numbers cannot be negative" if first == 0
                   else f"session numbers start at {first}")
        raise InputError(problem, file=file, line=file_line(frame, int(np.flatnonzero(low)[0])),
                         column=session)
    # Rows without a client or a session number are left out by the models; any other
    # repeat would count one session twice.
    keyed = frame[[client, session]].dropna()
    twice = keyed.duplicated()
    if twice.any():
        row = keyed.index[np.flatnonzero(twice.to_numpy())[0]]
        raise InputError(f"client {frame.at[row, client]!r} has a second row for session "
                         f"{int(frame.at[row, session])}", file=file,
                         line=file_line(frame, int(frame.index.get_loc(row))), column=session)


@contextmanager
def _naming(file: str) -> Iterator[None]:
    """Name the file in problems the models find in its data."""
    try:
        yield
    except InputError as exc:
        if exc.file is not None:
            raise
        raise InputError(exc.problem, file=file, column=exc.column) from None
    except NotEnoughDataError as exc:
        raise NotEnoughDataError(f"{file}: {exc}") from None


def _signed(value: float) -> str:
    return f"{'−' if value < 0 else '+'} {abs(value):.3f}"


def _numbers(text: str, option: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"expected numbers separated by commas, got {text!r}",
                                 param_hint=option) from None
    if not values:
        raise click.BadParameter("give at least one number", param_hint=option)
    return values


COMMANDS = [analyze]

"""`alliance simulate`: a synthetic clinic with known ruptures, repairs and dropouts."""

from __future__ import annotations

import datetime as dt

import click

from alliance.cli.output import print_json, print_pairs
from alliance.core.simulator import simulate_clinic, summarize_clinic, write_clinic
from alliance.core.simulator_drift import simulate_drift_clinic

#: The generators `--generator` chooses from (docs/simulator.md describes both).
GENERATORS = ("standard", "drift")


@click.command("simulate")
@click.option("--clients", type=click.IntRange(min=1), default=200, show_default=True,
              help="Number of clients.")
@click.option("--sessions", type=click.IntRange(min=1), default=20, show_default=True,
              help="Scheduled sessions per client who does not drop out.")
@click.option("--seed", type=click.IntRange(min=0), default=1, show_default=True,
              help="Seed of the random generator; the same seed writes identical files.")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=str),
              help="Folder to write sessions.csv, ruptures.csv and clients.csv into.")
@click.option("--therapists", type=click.IntRange(min=1), default=None,
              help="Number of therapists [default: one per 20 clients].")
@click.option("--noise", type=click.FloatRange(min=0, max=10), default=1.0, show_default=True,
              help="Multiplier of session-to-session noise; 0 makes the planted ruptures the "
                   "only drops (exact recovery).")
@click.option("--resolution", type=float, default=0.5, show_default=True,
              help="Step of the 0–10 check-in scale (0.5, 0.25, 0.1 …).")
@click.option("--start-date", type=click.DateTime(formats=["%Y-%m-%d"]), default="2024-01-08",
              show_default=True, help="First possible intake date (YYYY-MM-DD).")
@click.option("--generator", type=click.Choice(GENERATORS), default="standard",
              show_default=True,
              help="standard: the calibrated clinic; drift: a second model written separately "
                   "(AR(1) noise, drift, half-point answers with a ceiling, unequal "
                   "within-client SDs, one alliance question), for checking rules on data "
                   "they were not tuned on.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def simulate(clients: int, sessions: int, seed: int, out: str, therapists: int | None,
             noise: float, resolution: float, start_date: dt.datetime, generator: str,
             as_json: bool) -> None:
    """Simulate a clinic: clients nested in therapists, session-by-session client
    and therapist alliance (bond, goals, tasks), wellbeing, no-shows and dropouts,
    with planted V-shaped ruptures, some repaired.

    Writes OUT/sessions.csv (one row per scheduled session, the long format the
    other commands read), OUT/ruptures.csv (the planted ruptures: session,
    subscale, depth, repaired, repaired_session) and OUT/clients.csv (each
    client's true alliance, therapist effect, dropout). Calibrated so that mean
    alliance correlates with wellbeing change near r = .28 and about 45% of
    clients have a rupture. See docs/simulator.md.

    The planted ruptures are part of the generative model (a dip in the true
    alliance with a known onset, and a repair at a known session), so they are a
    truth to check the rules against (`alliance evaluate signals`).

    \b
    Example:
      alliance simulate --clients 200 --sessions 20 --seed 1 --out sim/
      alliance simulate --clients 500 --seed 1 --generator drift --out drift/
    """
    if generator == "drift":
        source = click.get_current_context().get_parameter_source
        if any(source(name).name != "DEFAULT" for name in ("noise", "resolution")):
            raise click.UsageError("--noise and --resolution belong to the standard generator")
        clinic = simulate_drift_clinic(clients, sessions, seed, n_therapists=therapists,
                                       start_date=start_date.date())
    else:
        clinic = simulate_clinic(clients, sessions, seed, n_therapists=therapists,
                                 start_date=start_date.date(), noise=noise,
                                 resolution=resolution)
    paths = write_clinic(clinic, out)
    summary = summarize_clinic(clinic)
    if as_json:
        print_json({**summary.to_dict(), "seed": seed, "generator": generator,
                    "files": {name: str(path) for name, path in paths.items()}})
        return
    print_pairs([
        ("rows (scheduled sessions)", summary.rows),
        ("clients", summary.clients),
        ("therapists", summary.therapists),
        ("sessions attended", f"{summary.attended_share:.1%}"),
        ("check-ins unanswered", f"{summary.unanswered_share:.1%}"),
        ("clients who dropped out", f"{summary.dropout_share:.1%}"),
        ("clients with a rupture", f"{summary.rupture_share:.1%}"),
        ("ruptures planted (repaired)", f"{summary.ruptures} ({summary.repaired_share:.0%})"
         if summary.ruptures else "0"),
        ("alliance–outcome r", summary.alliance_outcome_r),
        ("seed", seed),
        ("generator", generator),
    ])
    for path in paths.values():
        click.echo(f"wrote {path}")


COMMANDS = [simulate]

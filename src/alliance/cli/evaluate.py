"""`alliance evaluate`: how well the signal rules find what is known to be there."""

from __future__ import annotations

import click
import numpy as np

from alliance.cli.output import print_json, print_table
from alliance.core.errors import InputError
from alliance.core.evaluation import WITHIN, evaluate_ruptures
from alliance.core.tables import file_line, read_csv


@click.group("evaluate")
def evaluate() -> None:
    """Check signal rules against a known truth (for example a simulated clinic)."""


@evaluate.command("signals")
@click.argument("file", type=click.Path(path_type=str))
@click.option("--truth", "truth_file", required=True, type=click.Path(path_type=str),
              help="CSV of the true ruptures: client_id, session (the onset) and optionally "
                   "repaired (1/0), e.g. the ruptures.csv of `alliance simulate`.")
@click.option("--score", default="alliance", show_default=True, metavar="COLUMN",
              help="Client-rated score the rules watch.")
@click.option("--client", default="client_id", show_default=True, metavar="COLUMN",
              help="Column of the client identifier in FILE.")
@click.option("--session", default="session", show_default=True, metavar="COLUMN",
              help="Column of the session number in FILE.")
@click.option("--rule", "rules", multiple=True, metavar="RULE",
              help="Rule to evaluate, repeatable: sd1, sd2, rci, with /mean3 for the mean of "
                   "3 previous scores and +confirm to wait for a second session "
                   "(e.g. sd2/mean3, sd1+confirm). Default: sd1 and sd2 with both references, "
                   "and rci with both when --sd and --reliability are given.")
@click.option("--within", type=click.IntRange(min=0), default=WITHIN, show_default=True,
              help="A detection matches a true rupture with onset o when it falls at "
                   "sessions o … o + WITHIN of the same client.")
@click.option("--window", type=click.IntRange(min=1), default=3, show_default=True,
              help="The engine's repair window (rated sessions).")
@click.option("--sd", type=float, help="SD of the score (rule rci).")
@click.option("--reliability", type=float, help="Reliability of the score (rule rci).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def signals(file: str, truth_file: str, score: str, client: str, session: str,
            rules: tuple[str, ...], within: int, window: int, sd: float | None,
            reliability: float | None, as_json: bool) -> None:
    """Precision, recall, lag and false alerts of each rupture rule on FILE (long
    format, one row per client session) against the true ruptures in TRUTH.

    Matching: a detection for a client at session d matches a true rupture of that
    client with onset o when o ≤ d ≤ o + WITHIN. Precision = matching detections /
    all detections; recall = true ruptures with at least one match / all true
    ruptures; lag = d − o of the earliest match (median over found ruptures); false
    alerts = detections that match nothing, per 100 rated sessions of FILE. Repair
    agreement: for found ruptures whose engine state is repaired or unresolved (not
    pending), the share whose state equals the truth's repaired column.

    \b
    Example:
      alliance simulate --clients 500 --seed 1 --generator drift --out sim/
      alliance evaluate signals sim/sessions.csv --truth sim/ruptures.csv
      alliance evaluate signals sim/sessions.csv --truth sim/ruptures.csv --rule sd2 --json
    """
    if (sd is None) != (reliability is None):
        raise click.UsageError("--sd and --reliability go together (rule rci)")
    if any(r.startswith("rci") for r in rules) and sd is None:
        raise click.UsageError("rule rci needs --sd and --reliability")
    sessions = read_csv(file, required=[client, session, score], numeric=[score],
                        integer=[session])
    if sessions[score].isna().all():
        raise InputError("no rated sessions (every cell is empty)", file=file, column=score)
    truth = read_csv(truth_file, required=["client_id", "session"], integer=["session"],
                     allow_missing=False)
    if "repaired" in truth.columns:
        flags = truth["repaired"].astype(str).str.strip().str.lower()
        bad = ~flags.isin(["1", "0", "true", "false"])
        if bad.any():
            raise InputError("repaired must be 1/0 or true/false", file=truth_file,
                             column="repaired",
                             line=file_line(truth, int(np.flatnonzero(bad.to_numpy())[0])))
    scores = evaluate_ruptures(sessions, truth, rules=list(rules) or None, score=score,
                               client=client, session=session, within=within, window=window,
                               sd=sd, reliability=reliability)
    if as_json:
        print_json({"file": file, "truth": truth_file, "score": score, "within": within,
                    "window": window, "rules": [s.to_dict() for s in scores]})
        return
    print_table([{"rule": s.name, "precision": s.precision, "recall": s.recall,
                  "median lag": s.median_lag, "false /100": s.false_per_100,
                  "alerts": s.alerts, "found": f"{s.found}/{s.planted}",
                  "repair agreement": s.repair_agreement} for s in scores], digits=2)
    click.echo(f"matching: a detection at sessions onset … onset + {within}; "
               f"{scores[0].rated_sessions} rated sessions")


COMMANDS = [evaluate]

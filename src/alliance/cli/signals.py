"""`alliance signals`: ruptures (and, with --all, every other signal) in a sessions CSV."""

from __future__ import annotations

import csv
import json
from collections import Counter

import click
import numpy as np
import pandas as pd

from alliance.cli.options import dask_address
from alliance.cli.output import print_table, to_plain
from alliance.core.errors import InputError, NotEnoughDataError
from alliance.core.signals import (SIGNAL_TYPES, Signal, SignalSettings, detect_ruptures,
                                   detect_signals)
from alliance.core.signals.ruptures import (DEFAULT_RULE, REFERENCES, RULES, RUPTURE_RULES,
                                            STATES)
from alliance.core.tables import file_line, is_parquet, iter_parquet, read_table

#: Optional numeric columns of the long format that --all uses when present.
THERAPIST, ATTENDED, DATE = "therapist_alliance", "attended", "date"


@click.command("signals")
@click.argument("file", type=click.Path(path_type=str))
@click.option("--score", required=True, metavar="COLUMN",
              help="Client-rated score to watch (e.g. alliance, bond, goals, tasks).")
@click.option("--client", default="client_id", show_default=True, metavar="COLUMN",
              help="Column of the client identifier.")
@click.option("--session", default="session", show_default=True, metavar="COLUMN",
              help="Column of the session number.")
@click.option("--rule", type=click.Choice(RULES), default=DEFAULT_RULE, show_default=True,
              help="; ".join(f"{r.id}: {r.technical}" for r in RUPTURE_RULES.values())
                   + " (rci needs --sd and --reliability). The default is chosen on the "
                     "evaluation in docs/signals.md.")
@click.option("--reference", type=click.Choice(REFERENCES), default="previous", show_default=True,
              help="Compare with the previous rated score or the mean of up to 3 previous.")
@click.option("--window", type=click.IntRange(min=1), default=3, show_default=True,
              help="Rated sessions after a rupture in which a repair counts.")
@click.option("--sd", type=float, help="SD of the score (rule rci).")
@click.option("--reliability", type=float, help="Reliability of the score (rule rci).")
@click.option("--pooled-sd", type=float,
              help="Clinic pooled within-client SD (rules sd1/sd2); default: estimated from FILE.")
@click.option("--all", "all_signals", is_flag=True,
              help="Also every other signal the file's columns allow (low alliance, "
                   "discrepancy with therapist_alliance, disengagement with attended/date, "
                   "not on track with --outcome).")
@click.option("--low-cutoff", type=float,
              help="With --all: the measure's cutoff for low alliance (default: the clinic's "
                   "10th percentile at the same session number).")
@click.option("--outcome", metavar="COLUMN",
              help="With --all: outcome column for 'not on track' (higher = better); the "
                   "expected band is fitted on the file's cases.")
@click.option("--batch-rows", type=click.IntRange(min=1), metavar="N",
              help="Parquet data larger than memory: read N rows at a time (the data sorted "
                   "by client) and write the ruptures as CSV to --out or standard output.")
@click.option("--dask", "dask", metavar="ADDRESS", callback=dask_address,
              help="Run on a Dask cluster: the scheduler's address (host:port), or local:N "
                   "for N worker processes on this machine. Parquet data every worker can "
                   "read, partitioned by client (need not be sorted); the ruptures are "
                   "written as CSV to --out or standard output. --batch-rows sets the rows "
                   "of a partition (default 1,000,000). Needs pip install 'alliance[dask]'.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=str),
              help="With --batch-rows or --dask: the CSV file to write the ruptures to.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def signals(file: str, score: str, client: str, session: str, rule: str, reference: str,
            window: int, sd: float | None, reliability: float | None, pooled_sd: float | None,
            all_signals: bool, low_cutoff: float | None, outcome: str | None,
            batch_rows: int | None, dask: str | int | None, out: str | None,
            as_json: bool) -> None:
    """Find alliance ruptures and their repair in a long-format CSV or Parquet file
    (one row per client session), with the exact rule of docs/signals.md.

    At each rated session t ≥ 2 the score a_t is compared with the reference
    (the previous score, or the mean of up to 3 previous): sd1/sd2 fire when
    a_t ≤ ref − m·s_t (s_t: the client's SD of earlier scores shrunk toward the
    pooled SD), rci when ref − a_t > 1.96·S_diff. A rupture is repaired at the
    first of the next --window rated sessions back at the reference, unresolved
    when none is, pending while the window is still open.

    \b
    Example:
      alliance signals sessions.csv --score alliance --rule sd2
      alliance signals sessions.csv --score bond --rule rci --sd 1.8 --reliability 0.85 --json
      alliance signals sessions.csv --score alliance --all --outcome wellbeing
      alliance signals sessions.parquet --score alliance --batch-rows 1000000 --out ruptures.csv
      alliance signals sessions/ --score alliance --dask scheduler:8786 --out ruptures.csv
    """
    if rule == "rci" and (sd is None or reliability is None):
        raise click.UsageError("--rule rci needs --sd and --reliability")
    if rule != "rci" and (sd is not None or reliability is not None):
        raise click.UsageError("--sd and --reliability are used only with --rule rci")
    if rule == "rci" and pooled_sd is not None:
        raise click.UsageError("--pooled-sd is used only with --rule sd1 or sd2")
    if not all_signals and (low_cutoff is not None or outcome is not None):
        raise click.UsageError("--low-cutoff and --outcome are used only with --all")
    if len({score, client, session}) < 3 or outcome in (client, session):
        raise click.UsageError("--score, --client and --session (and --outcome) must be "
                               "different columns")
    if out is not None and batch_rows is None and dask is None:
        raise click.UsageError("--out is used only with --batch-rows or --dask")
    if dask is not None:
        if all_signals:
            raise click.UsageError("--all needs the whole clinic at once (percentiles and the "
                                   "expected model); it is not available with --dask")
        if not is_parquet(file):
            raise click.UsageError("--dask reads Parquet data (a .parquet file or a folder of "
                                   "them) at a path every worker can read")
        _signals_on_cluster(file, score, client, session, rule, reference, window, sd,
                            reliability, pooled_sd, batch_rows, dask, out, as_json)
        return
    if batch_rows is not None:
        if all_signals:
            raise click.UsageError("--all needs the whole clinic at once (percentiles and the "
                                   "expected model); it is not available with --batch-rows")
        if not is_parquet(file):
            raise click.UsageError("--batch-rows reads Parquet data (a .parquet file or a "
                                   "folder of them)")
        _signals_in_batches(file, score, client, session, rule, reference, window, sd,
                            reliability, pooled_sd, batch_rows, out, as_json)
        return

    frame = _read(file, score, client, session, all_signals, outcome)
    result = detect_ruptures(frame[client].array, frame[session].to_numpy(),
                             frame[score].to_numpy(), rule=rule, reference=reference,
                             window=window, pooled_sd=pooled_sd, sd=sd, reliability=reliability)
    report = {"file": file, "score": score, **result.to_dict()}
    notes: list[str] = []
    if all_signals:
        fixed = result.parameters.get("pooled_sd") if rule != "rci" else None
        settings = SignalSettings(client=client, session=session, score=score,
                                  therapist_score=THERAPIST, attended=ATTENDED, date=DATE,
                                  outcome=outcome or "wellbeing", rule=rule, reference=reference,
                                  window=window, pooled_sd=fixed, sd=sd, reliability=reliability,
                                  low_cutoff=low_cutoff)
        expected = _expected_model(frame, client, session, outcome, notes) if outcome else None
        others = [t for t in SIGNAL_TYPES if t != "rupture"]
        found = detect_signals(frame, settings, types=others, expected=expected)
        report["signals"] = found
        report["signal_counts"] = dict(Counter(s.type for s in found))
        if notes:
            report["notes"] = notes
    if as_json:
        _print_json(report)
        return
    _print_report(report, result, notes)


def _print_json(report: dict) -> None:
    """JSON with one rupture or signal per line: readable, and fast for a whole clinic."""
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    click.echo("{")
    last = len(report) - 1
    for n, (key, value) in enumerate(report.items()):
        end = "" if n == last else ","
        if not (isinstance(value, list) and value):
            click.echo(f"  {encode(key)}: {encode(to_plain(value))}{end}")
            continue
        click.echo(f"  {encode(key)}: [")
        for start in range(0, len(value), 5000):
            chunk = value[start:start + 5000]
            lines = ["    " + encode(item.to_dict() if isinstance(item, Signal) else item)
                     for item in chunk]
            more = "," if start + 5000 < len(value) else ""
            click.echo(",\n".join(lines) + more)
        click.echo(f"  ]{end}")
    click.echo("}")


def _signals_in_batches(file, score, client, session, rule, reference, window, sd, reliability,
                        pooled_sd, batch_rows, out, as_json) -> None:
    """Ruptures of Parquet data in bounded memory (alliance.core.partitioned)."""
    from alliance.core.partitioned import ruptures_in_batches

    def batches():
        for batch in iter_parquet(file, required=[client, session, score], numeric=[score],
                                  integer=[session], allow_missing=[score],
                                  columns=[client, session, score], batch_rows=batch_rows):
            if batch[session].isna().any() or (batch[session] < 0).any():
                raise InputError("session numbers must be present and not negative", file=file,
                                 column=session)
            if batch[client].isna().any():
                raise InputError("empty client identifier", file=file, column=client)
            yield batch

    _write_ruptures(lambda: ruptures_in_batches(
        batches, client, session, score, rule=rule, reference=reference, window=window,
        pooled_sd=pooled_sd, sd=sd, reliability=reliability), file, score, out, as_json)


def _signals_on_cluster(file, score, client, session, rule, reference, window, sd, reliability,
                        pooled_sd, batch_rows, address, out, as_json) -> None:
    """Ruptures of Parquet data on a Dask cluster, partitioned by client (alliance.core.cluster)."""
    from alliance.core.cluster import PIECE_ROWS, connect, ruptures_on_cluster

    with connect(address) as dask_client:
        _write_ruptures(lambda: ruptures_on_cluster(
            dask_client, file, client, session, score, rule=rule, reference=reference,
            window=window, pooled_sd=pooled_sd, sd=sd, reliability=reliability,
            rows=batch_rows or PIECE_ROWS), file, score, out, as_json)


def _write_ruptures(run, file, score, out, as_json) -> None:
    """Write the rupture tables of a partitioned run as one CSV, then its summary."""
    try:
        summary, tables = run()
        handle = open(out, "w", newline="", encoding="utf-8") if out else None
        try:
            header = True
            for table in tables:
                text = table.to_csv(index=False, header=header)
                header = False
                (handle.write(text) if handle else click.echo(text, nl=False))
        finally:
            if handle:
                handle.close()
    except InputError as exc:
        if exc.file is not None:
            raise
        raise InputError(exc.problem, file=file, column=exc.column) from None
    except OSError as exc:
        raise InputError(f"cannot write the file ({exc.strerror or exc})", file=out) from None
    report = {"file": file, "score": score, **summary.to_dict(), "ruptures_file": out}
    if as_json:
        _print_json(report)
    elif out:
        counts = ", ".join(f"{summary.counts[s]} {s}" for s in STATES)
        click.echo(f"{file}: {summary.n_clients} clients, {summary.n_rated} rated sessions of "
                   f"'{score}', {sum(summary.counts.values())} ruptures ({counts}); wrote {out}")


def _read(file: str, score: str, client: str, session: str, all_signals: bool,
          outcome: str | None) -> pd.DataFrame:
    header = _parquet_columns(file) if is_parquet(file) else _header(file)
    numeric = [score]
    if all_signals:
        # The outcome is required (read_csv names it when missing); the others are optional.
        numeric += [c for c in (THERAPIST, ATTENDED) if c in header]
        numeric += [outcome] if outcome else []
    numeric = list(dict.fromkeys(c for c in numeric if c not in (client, session)))
    # Without --all only the three columns are used: the others are not kept in memory.
    frame = read_table(file, required=[client, session, score], numeric=numeric,
                       integer=[session], allow_missing=numeric,
                       columns=None if all_signals else [client, session, score])
    if frame[score].isna().all():
        raise InputError("no rated sessions (every cell is empty)", file=file, column=score)
    negative = (frame[session] < 0).to_numpy()
    if negative.any():
        raise InputError("session numbers cannot be negative", file=file,
                         line=file_line(frame, int(np.flatnonzero(negative)[0])), column=session)
    ids = frame[client]
    empty = ids.isna()          # empty and blank cells are read as missing
    if empty.any():
        raise InputError("empty client identifier", file=file,
                         line=file_line(frame, int(np.flatnonzero(empty.to_numpy())[0])),
                         column=client)
    twice = frame.duplicated([client, session])
    if twice.any():
        row = int(np.flatnonzero(twice.to_numpy())[0])
        raise InputError(f"client {ids.iloc[row]!r} has a second row for session "
                         f"{int(frame[session].iloc[row])}", file=file,
                         line=file_line(frame, row), column=session)
    if all_signals and ATTENDED in frame.columns:
        came = frame[ATTENDED]
        bad = came.notna() & ~came.isin([0, 1])
        if came.isna().any() or bad.any():
            row = int(np.flatnonzero((came.isna() | bad).to_numpy())[0])
            raise InputError("attended must be 1 or 0", file=file, line=file_line(frame, row),
                             column=ATTENDED)
    if all_signals and DATE in frame.columns:
        frame[DATE] = _dates(frame, file)
    return frame


def _header(file: str) -> list[str]:
    try:
        with open(file, newline="", encoding="utf-8-sig") as handle:
            return [c.strip() for c in next(csv.reader(handle), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []  # read_csv reports the problem precisely


def _parquet_columns(file: str) -> list[str]:
    import pyarrow.dataset as ds

    try:
        return list(ds.dataset(file, format="parquet").schema.names)
    except Exception:  # noqa: BLE001 (read_table reports the problem precisely)
        return []


def _dates(frame: pd.DataFrame, file: str) -> pd.Series:
    values = frame[DATE]
    text = values.astype(object).where(values.notna(), None)
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna() & values.notna() & (values.astype(str).str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"{values.iloc[row]!r} is not a date (YYYY-MM-DD)", file=file,
                         line=file_line(frame, row), column=DATE)
    return parsed


def _expected_model(frame, client, session, outcome, notes):
    from alliance.core.expected import fit_expected_response

    try:
        return fit_expected_response(frame, client=client, session=session, outcome=outcome)
    except NotEnoughDataError as exc:
        notes.append(f"not on track skipped: {exc}")
        return None


def _print_report(report: dict, result, notes: list[str]) -> None:
    counts = result.counts()
    p = result.parameters
    how = (f"rule {result.rule} (m = {p['m']}), pooled SD {p['pooled_sd']:.3f} "
           f"({p['pooled_sd_source']})" if result.rule != "rci" else
           f"rule rci, S_diff {p['s_diff']:.3f} (SD {p['sd']:g}, reliability {p['reliability']:g})")
    click.echo(f"{report['file']}: {result.n_clients} clients, {result.n_rated} rated sessions "
               f"of '{report['score']}', {len(result.ruptures)} ruptures ("
               + ", ".join(f"{counts[s]} {s}" for s in STATES)
               + f"); {how}, reference {p['reference']}, window {p['window']}.")
    click.echo()
    columns = ["client_id", "session", "reference", "score", "threshold", "state",
               "repaired_session"]
    print_table(result.records(), columns, digits=2)
    if "signals" in report:
        click.echo()
        summary = ", ".join(f"{n} {t}" for t, n in report["signal_counts"].items()) or "none"
        click.echo(f"Other signals: {summary}.")
        rows = [{"client_id": s.client_id, "session": s.session, "type": s.type,
                 "explanation": s.explanation} for s in report["signals"]]
        if rows:
            click.echo()
            print_table(rows)
    for note in notes:
        click.echo(f"note: {note}")


COMMANDS = [signals]

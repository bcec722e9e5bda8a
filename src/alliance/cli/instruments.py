"""`alliance instruments` (list, show, validate) and `alliance score`."""

from __future__ import annotations

from functools import partial

import click
import pandas as pd

from alliance.cli.options import dask_address
from alliance.cli.output import print_json, print_pairs, print_table
from alliance.core.instruments import (Instrument, LikertScale, bundled_instruments,
                                       get_instrument, load_definition)
from alliance.core.scoring import score_frame
from alliance.core.errors import InputError
from alliance.core.tables import FIRST_DATA_LINE, is_parquet, iter_parquet, read_table, write_csv


@click.group("instruments")
def instruments() -> None:
    """Instrument definitions: the bundled ones, and checking your own.

    An instrument definition is a TOML file (format: docs/instruments.md).
    Published instruments are bundled as scoring facts without item text; they
    can be scored but not administered until a clinic attaches licensed text.

    \b
    Example:
      alliance instruments list
      alliance instruments show wai-sr
    """


@instruments.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_instruments(as_json: bool) -> None:
    """List the bundled instruments.

    \b
    Example:
      alliance instruments list --json
    """
    rows = [{"id": i.id, "version": i.version, "title": i.title, "respondent": i.respondent,
             "items": len(i.items), "administrable": i.can_administer,
             "own_wording": i.own_wording} for i in bundled_instruments()]
    if as_json:
        print_json(rows)
        return
    print_table(rows, ["id", "version", "title", "respondent", "items", "administrable"])


@instruments.command("show")
@click.argument("instrument", metavar="ID_OR_FILE")
@click.option("--json", "as_json", is_flag=True, help="Print the full definition as JSON.")
def show(instrument: str, as_json: bool) -> None:
    """Describe an instrument: items, scales, scores, norms, cutoffs, citation, licence.

    ID_OR_FILE is a bundled instrument id (see `alliance instruments list`) or
    the path of a definition file.

    \b
    Example:
      alliance instruments show alliance-client
    """
    definition = get_instrument(instrument)
    if as_json:
        data = definition.model_dump(mode="json")
        data["can_administer"] = definition.can_administer
        data["administration_problem"] = definition.administration_problem
        data["score_ranges"] = {s: list(definition.score_range(s)) for s in definition.score_ids}
        print_json(data)
        return
    _describe(definition)


@instruments.command("validate")
@click.argument("file", type=click.Path(path_type=str))
def validate(file: str) -> None:
    """Check an instrument definition file; print OK or what is wrong and where.

    \b
    Example:
      alliance instruments validate my-checkin.toml
    """
    definition = load_definition(file)
    click.echo(f"OK: {file} defines '{definition.id}' version {definition.version} "
               f"({len(definition.items)} items; scores: {', '.join(definition.score_ids)})")
    if not definition.can_administer:
        click.echo(f"note: {definition.administration_problem}")


@click.command("score")
@click.argument("file", type=click.Path(path_type=str))
@click.option("--instrument", "reference", required=True, metavar="ID_OR_FILE",
              help="Bundled instrument id or path of a definition file.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=str),
              help="Write the scores CSV here instead of printing it.")
@click.option("--id-columns", default=None, metavar="A,B",
              help="Columns to copy into the output (default: every column that is not an "
                   "item or open question).")
@click.option("--batch-rows", type=click.IntRange(min=1), metavar="N",
              help="Parquet data larger than memory: score N rows at a time, writing as it goes.")
@click.option("--dask", "dask", metavar="ADDRESS", callback=dask_address,
              help="Score on a Dask cluster: the scheduler's address (host:port), or local:N "
                   "for N worker processes on this machine. Parquet data every worker can "
                   "read; the scores come back in the data's order and are written as with "
                   "--batch-rows, which sets the rows of a partition (default 1,000,000). "
                   "Needs pip install 'alliance[dask]'.")
def score(file: str, reference: str, out: str | None, id_columns: str | None,
          batch_rows: int | None, dask: str | int | None) -> None:
    """Score a wide CSV or Parquet file: one row per administration, one column per item id.

    The output has the id columns, one column per subscale and the total, their
    POMP (pomp_<score>, 0–100), n_answered, scorable (1 or 0), reason (why a
    score is missing) and, for instruments with cutoffs, cutoff_<score> (the
    furthest cutoff reached). Empty cells are unanswered items; a missing item
    column, text in a cell or an answer off the scale is an error naming the
    line and column (in Parquet data, the row). With --batch-rows the Parquet
    data are scored N rows at a time and written as they are scored, to --out
    (CSV, or Parquet when it ends in .parquet) or standard output, so memory
    stays bounded whatever their size.

    \b
    Example:
      alliance score waisr.csv --instrument wai-sr --id-columns client_id,session --out scores.csv
      alliance score big.parquet --instrument wai-sr --batch-rows 1000000 --out scores.parquet
      alliance score answers/ --instrument wai-sr --dask scheduler:8786 --out scores.parquet
    """
    definition = get_instrument(reference)
    item_ids = definition.item_ids
    keep = ([c.strip() for c in id_columns.split(",") if c.strip()]
            if id_columns is not None else None)
    if dask is not None:
        if not is_parquet(file):
            raise click.UsageError("--dask reads Parquet data (a .parquet file or a folder of "
                                   "them) at a path every worker can read")
        from alliance.core.cluster import PIECE_ROWS, connect, map_pieces

        with connect(dask) as client:
            results = map_pieces(client, file, partial(_scored, definition, keep=keep, file=file),
                                 read={"required": [*(keep or []), *item_ids],
                                       "numeric": item_ids},
                                 rows=batch_rows or PIECE_ROWS)
            _write_scored(definition, results, file, out)
        return
    if batch_rows is not None:
        if not is_parquet(file):
            raise click.UsageError("--batch-rows reads Parquet data (a .parquet file or a "
                                   "folder of them)")
        batches = iter_parquet(file, required=[*(keep or []), *item_ids], numeric=item_ids,
                               batch_rows=batch_rows)
        _write_scored(definition, (_scored(definition, batch, keep, file) for batch in batches),
                      file, out)
        return
    frame = read_table(file, required=[*(keep or []), *item_ids], numeric=item_ids)
    result, incomplete = _scored(definition, frame, keep, file)
    if out:
        write_csv(result, out)
        click.echo(f"Scored {len(result)} administration{'s' if len(result) != 1 else ''} with "
                   f"{definition.name} ({incomplete} not fully scorable); wrote {out}", err=True)
    else:
        click.echo(result.to_csv(index=False), nl=False)


def _scored(definition: Instrument, frame: pd.DataFrame, keep: list[str] | None,
            file: str) -> tuple[pd.DataFrame, int]:
    """The output rows for a frame of administrations, and how many are not fully scorable."""
    if keep is None:
        skip = set(definition.item_ids) | {q.id for q in definition.open_questions}
        keep = [c for c in frame.columns if c not in skip]
    parquet = "first_row" in frame.attrs
    try:
        scores = score_frame(definition, frame, file=file,
                             first_line=frame.attrs.get("first_row", 0) + FIRST_DATA_LINE)
    except InputError as exc:
        if not parquet or exc.line is None or exc.line == 1:
            raise
        # Parquet has rows, not lines: line L of a CSV file is data row L − 1.
        raise InputError(f"{exc.problem} (row {exc.line - 1})", file=exc.file,
                         column=exc.column) from None
    incomplete = int((~scores["scorable"]).sum())
    scores["scorable"] = scores["scorable"].astype(int)
    # An id column may share a score's name (a "total" from another system): keep both.
    scores = scores.rename(columns={c: f"{c}_score" for c in scores.columns if c in keep})
    return pd.concat([frame[keep], scores.round(6)], axis=1), incomplete


def _write_scored(definition: Instrument, scored, file: str, out: str | None) -> None:
    """Write scored batches (pairs of `_scored`) as each is done (bounded memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    total = incomplete = 0
    writer = handle = None
    try:
        for n, (result, missing) in enumerate(scored):
            total, incomplete = total + len(result), incomplete + missing
            if out and out.lower().endswith(".parquet"):
                table = pa.Table.from_pandas(result, preserve_index=False)
                writer = writer or pq.ParquetWriter(out, table.schema)
                writer.write_table(table.cast(writer.schema))
            elif out:
                handle = handle or open(out, "w", newline="", encoding="utf-8")
                handle.write(result.to_csv(index=False, header=n == 0))
            else:
                click.echo(result.to_csv(index=False, header=n == 0), nl=False)
    except OSError as exc:
        raise InputError(f"cannot write the file ({exc.strerror or exc})", file=out) from None
    finally:
        if writer is not None:
            writer.close()
        if handle is not None:
            handle.close()
    if out:
        click.echo(f"Scored {total} administration{'s' if total != 1 else ''} with "
                   f"{definition.name} ({incomplete} not fully scorable); wrote {out}", err=True)


# ------------------------------------------------------------------ showing


def _text(texts: dict[str, str], languages) -> str:
    from alliance.core.instruments import text_in

    return text_in(texts, *languages) or "(no text)"


def _describe(definition: Instrument) -> None:
    languages = definition.administrable_languages() or list(definition.languages)
    heading = f"{definition.title} ({definition.id}, version {definition.version})"
    click.echo(heading)
    click.echo("=" * len(heading))
    if definition.description:
        click.echo(definition.description)
    click.echo()
    print_pairs([
        ("respondent", definition.respondent),
        ("direction", "higher is better" if definition.higher_is_better else "higher is worse"),
        ("languages", ", ".join(definition.languages)),
        ("wording", definition.wording_notice),
        ("can be administered", "yes" if definition.can_administer
         else f"no: {definition.administration_problem}"),
    ])

    click.echo("\nResponse scales")
    for name, scale in definition.scales.items():
        line = f"  {name}: {scale.kind} {scale.describe_range()}"
        if isinstance(scale, LikertScale):
            labels = [f"{a.value:g} = {_text(a.label, languages)}" for a in scale.anchors
                      if a.label]
            if labels:
                line += "; " + ", ".join(labels)
        else:
            if scale.low_label or scale.high_label:
                line += (f"; {scale.min:g} = {_text(scale.low_label, languages)}, "
                         f"{scale.max:g} = {_text(scale.high_label, languages)}")
        click.echo(line)

    click.echo()
    membership = {item_id: s.id for s in definition.subscales
                  for item_id in definition.score_items(s.id)}
    print_table([{"item": item.id, "subscale": membership.get(item.id, ""),
                  "scale": item.scale, "reversed": item.reverse,
                  "text": _text(item.text, languages)} for item in definition.items],
                title="Items")
    if definition.open_questions:
        click.echo("\nOpen questions (not scored)")
        for question in definition.open_questions:
            click.echo(f"  {question.id}: {_text(question.text, languages)}")

    click.echo()
    rows = []
    for score_id in definition.score_ids:
        spec = definition.score_definition(score_id)
        low, high = definition.score_range(score_id)
        rows.append({"score": score_id, "title": spec.title, "method": spec.method,
                     "items": ", ".join(definition.score_items(score_id)),
                     "range": f"{low:g}–{high:g}",
                     "max_missing": definition.max_missing(score_id)})
    print_table(rows, title="Scores")
    click.echo(f"Missing data: {definition.missing_data.rule} — a score is computed when at "
               "most max_missing of its items are unanswered (sums are prorated), else it is "
               "not scorable.")
    if definition.missing_data.note:
        click.echo(f"  {definition.missing_data.note}")
    if definition.norms:
        click.echo()
        print_table([{"score": n.score, "population": n.population, "n": n.n, "mean": n.mean,
                      "sd": n.sd, "reliability": n.reliability, "source": n.source}
                     for n in definition.norms], title="Norms", digits=2)
    if definition.cutoffs:
        click.echo("\nCutoffs")
        for cutoff in definition.cutoffs:
            click.echo(f"  {cutoff.score} {cutoff.describe()} [source: {cutoff.source}]")
    click.echo()
    pairs = [("citation", definition.citation or "–"), ("licence", definition.licence)]
    if definition.scoring_source:
        pairs.append(("scoring source", definition.scoring_source))
    if definition.text_source:
        pairs.append(("item text from", definition.text_source))
    print_pairs(pairs)

COMMANDS = [instruments, score]

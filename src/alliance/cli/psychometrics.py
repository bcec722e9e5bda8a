"""`alliance psychometrics`, `alliance rci` and `alliance cutoff`: reliability and change."""

from __future__ import annotations

import click
import numpy as np

from alliance.cli.output import format_cell, print_json, print_pairs, print_table
from alliance.core.change import clinical_cutoff, clinically_significant, reliable_change
from alliance.core.columns import read_numeric_columns
from alliance.core.psychometrics import MISSING, reliability, reliability_by_group
from alliance.core.errors import InputError, NotEnoughDataError


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


@click.command("psychometrics", short_help="Alpha, omega and item statistics of a scale.")
@click.argument("file", type=click.Path(path_type=str))
@click.option("--items", required=True, metavar="A,B,C",
              help="Comma-separated item columns that form the scale.")
@click.option("--reverse", default="", metavar="B",
              help="Comma-separated items to reverse-key as min + max − answer (needs --min, --max).")
@click.option("--min", "minimum", type=float, help="Lowest possible answer (e.g. 1).")
@click.option("--max", "maximum", type=float, help="Highest possible answer (e.g. 5).")
@click.option("--missing", type=click.Choice(MISSING), default="listwise", show_default=True,
              help="Missing answers: leave out rows with any (listwise), or compute each "
                   "covariance on the rows that answered both items (pairwise, psych's default).")
@click.option("--group", "group", default=None, metavar="COLUMN",
              help="Also compute everything within each value of this column (a language, "
                   "a site), e.g. to check a translation.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def psychometrics(file: str, items: str, reverse: str, minimum: float | None,
                  maximum: float | None, missing: str, group: str | None,
                  as_json: bool) -> None:
    """Reliability of a scale: Cronbach's alpha with its 95% interval, omega total,
    and per item the corrected item–total correlation and alpha if deleted.

    FILE is a wide CSV file, one row per respondent. With --missing listwise (the
    default) rows with a missing answer to any selected item are left out and
    counted, and the numbers match R's psych::alpha and psych::omega(x, nfactors
    = 1) on those complete rows. With --missing pairwise every answer is used and
    the numbers match psych::alpha and psych::omega with their defaults on the
    whole file (pairwise covariances; the Feldt interval's n counts every row
    with an answer). The output states which was used.

    With --group COLUMN the same numbers are also computed on the rows of each
    value of COLUMN; a group too small for them gets a note instead, and rows
    with a blank COLUMN count only in the whole-file numbers.

    \b
    Example:
      alliance psychometrics waisr.csv --items wai01,wai02,wai03,wai04 --reverse wai03 --min 1 --max 5
      alliance psychometrics waisr.csv --items wai01,wai02,wai03,wai04 --missing pairwise
      alliance psychometrics waisr.csv --items wai01,wai02,wai03,wai04 --group language
    """
    names = _names(items)
    to_reverse = _names(reverse)
    if to_reverse and (minimum is None or maximum is None):
        raise click.UsageError("--reverse needs --min and --max (reversed answer = min + max − answer)")
    if minimum is not None and maximum is not None and not maximum > minimum:
        raise click.UsageError(f"--max ({maximum:g}) must be greater than --min ({minimum:g})")
    if group is not None and group in names:
        raise click.UsageError(f"--group {group} is also one of the --items")
    data = read_numeric_columns(file, names) if group is None else None
    if data is None:
        # Not a plain file, or groups wanted: pandas reads it (or says what is wrong,
        # where). Imported here, as it takes longer than the whole command on a plain file.
        from alliance.core.tables import file_line, read_csv

        frame = read_csv(file, required=names + ([group] if group is not None else []),
                         numeric=names)
        data = {name: frame[name].to_numpy(dtype=float) for name in names}
        line = lambda row: file_line(frame, row)  # noqa: E731
    else:
        line = lambda row: row + 2  # noqa: E731 (a plain file: the header, then a row a line)
    if minimum is not None and maximum is not None:
        _check_range(data, names, minimum, maximum, file, line)
    try:
        if group is None:
            result = reliability(data, names, reverse=to_reverse, min=minimum, max=maximum,
                                 missing=missing)
        else:
            by_group = reliability_by_group(frame, group, names, reverse=to_reverse,
                                            min=minimum, max=maximum, missing=missing)
            result = by_group.overall
    except InputError as exc:
        # Name the file in problems of its data (a column); option problems stay as they are.
        if exc.column is None or exc.file is not None:
            raise
        raise InputError(exc.problem, file=file, column=exc.column) from None
    except NotEnoughDataError as exc:
        raise NotEnoughDataError(f"{file}: {exc}") from None
    if as_json:
        print_json(result if group is None else by_group)
        return
    if missing == "listwise":
        counts = [("missing answers", "listwise (rows with any missing answer left out)"),
                  ("complete rows (n)", result.n),
                  ("rows dropped (missing answers)", result.n_dropped)]
    else:
        counts = [("missing answers", "pairwise (each covariance on the rows answering both)"),
                  ("rows (n, every row as psych counts)", result.n),
                  ("complete rows", result.n_complete),
                  ("fewest rows behind a covariance", result.n_pairwise_min)]
    print_pairs([
        ("file", file),
        *counts,
        ("items (k)", result.k),
        ("Cronbach's alpha", result.alpha),
        (f"alpha {result.confidence:.0%} interval (Feldt)", list(result.alpha_ci)),
        ("omega total (one factor)", result.omega_total),
    ])
    click.echo()
    print_table([{"item": f"{s.item} (reversed)" if s.reversed else s.item,
                  "r_drop": s.r_drop, "alpha_if_deleted": s.alpha_if_deleted,
                  "loading": s.loading} for s in result.items])
    for note in result.notes:
        click.echo(f"note: {note}")
    if group is not None:
        _print_groups(by_group)


def _print_groups(by_group) -> None:
    """One summary row per group, then the item statistics of every group."""
    click.echo()
    summary, items, notes = [], [], []
    for g in by_group.groups:
        r = g.result
        summary.append({by_group.column: g.group, "rows": g.rows,
                        "n": None if r is None else r.n,
                        "alpha": None if r is None else r.alpha,
                        "alpha_95%_interval": None if r is None else list(r.alpha_ci),
                        "omega_total": None if r is None else r.omega_total})
        if r is None:
            notes.append(f"{by_group.column} {g.group}: {g.note}")
            continue
        items += [{by_group.column: g.group,
                   "item": f"{s.item} (reversed)" if s.reversed else s.item,
                   "r_drop": s.r_drop, "alpha_if_deleted": s.alpha_if_deleted,
                   "loading": s.loading} for s in r.items]
        notes += [f"{by_group.column} {g.group}: {note}" for note in r.notes]
    print_table(summary, title=f"By {by_group.column}")
    if items:
        click.echo()
        print_table(items)
    if by_group.rows_without_group:
        notes.append(f"{by_group.rows_without_group} row(s) with a blank {by_group.column} "
                     "count only in the whole-file numbers")
    for note in notes:
        click.echo(f"note: {note}")


def _check_range(data, names, minimum, maximum, file, line) -> None:
    """Point at the first answer outside the scale range by file, line and column."""
    for name in names:
        values = data[name]
        outside = ~np.isnan(values) & ((values < minimum) | (values > maximum))
        if outside.any():
            row = int(np.flatnonzero(outside)[0])
            raise InputError(f"{values[row]:g} is outside the scale range "
                             f"{minimum:g}–{maximum:g}", file=file, line=line(row), column=name)


@click.command("rci", short_help="Reliable change index of one client.")
@click.option("--pre", type=float, required=True, help="Score before (e.g. at intake).")
@click.option("--post", type=float, required=True, help="Score after (e.g. at the last session).")
@click.option("--sd", type=float, required=True,
              help="Standard deviation of pre-treatment scores (or of a norm sample).")
@click.option("--reliability", type=float, required=True,
              help="Reliability of the measure (e.g. alpha or test–retest), above 0 and below "
                   "1; above 0.99 gets a note.")
@click.option("--lower-is-better", is_flag=True, help="Lower scores are better (symptom scales).")
@click.option("--cutoff", type=float, default=None,
              help="Also classify as recovered / improved / unchanged / deteriorated "
                   "with this clinical cutoff (see 'alliance cutoff').")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def rci(pre: float, post: float, sd: float, reliability: float, lower_is_better: bool,
        cutoff: float | None, as_json: bool) -> None:
    """Reliable change index (Jacobson & Truax, 1991): is the change from PRE to
    POST larger than measurement error would produce (|RCI| > 1.96)?

    S_diff = SD · √2 · √(1 − reliability); RCI = (post − pre) / S_diff. As the
    reliability nears 1, S_diff nears 0 and the index grows without bound; a
    reliability above 0.99 is computed with a note (in "notes" with --json).

    \b
    Example:
      alliance rci --pre 18 --post 27 --sd 7.5 --reliability 0.85
      alliance rci --pre 20 --post 8 --sd 5 --reliability 0.84 --lower-is-better --cutoff 9.44
    """
    higher_is_better = not lower_is_better
    if cutoff is None:
        result = reliable_change(pre, post, sd, reliability, higher_is_better=higher_is_better)
        change = result
    else:
        result = clinically_significant(pre, post, sd, reliability, cutoff,
                                        higher_is_better=higher_is_better)
        change = result.change
    if as_json:
        print_json(result)
        return
    pairs = [
        ("change", f"{format_cell(change.change)} ({pre:g} → {post:g}; "
                   f"{'higher' if higher_is_better else 'lower'} is better)"),
        ("S_diff", change.s_diff),
        ("RCI", change.rci),
        ("reliable", f"{format_cell(change.reliable)} (|RCI| > {change.critical_z:g}: a change of "
                     f"more than {change.min_reliable_change:.2f} points)"),
        ("direction", change.direction),
    ]
    if cutoff is not None:
        pairs += [("cutoff", cutoff),
                  ("post beyond cutoff", result.post_functional),
                  ("category", result.category)]
    print_pairs(pairs)
    for note in change.notes:
        click.echo(f"note: {note}")


@click.command("cutoff", short_help="Clinical cutoff (Jacobson & Truax a, b or c).")
@click.option("--m0", type=float, help="Mean of the functional (non-clinical) norm sample.")
@click.option("--sd0", type=float, help="SD of the functional norm sample.")
@click.option("--m1", type=float, help="Mean of the dysfunctional (clinical) sample.")
@click.option("--sd1", type=float, help="SD of the dysfunctional sample.")
@click.option("--lower-is-better", is_flag=True, help="Lower scores are better (symptom scales).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def cutoff(m0: float | None, sd0: float | None, m1: float | None, sd1: float | None,
           lower_is_better: bool, as_json: bool) -> None:
    """Clinical cutoff between the dysfunctional and the functional range
    (Jacobson & Truax, 1991).

    With both norms: c = (SD0·M1 + SD1·M0) / (SD0 + SD1). With only the
    dysfunctional norm: a = M1 + 2·SD1 toward functioning. With only the
    functional norm: b = M0 − 2·SD0 toward dysfunction.

    \b
    Example:
      alliance cutoff --m0 30 --sd0 6 --m1 18 --sd1 7.5
      alliance cutoff --m1 15 --sd1 5 --lower-is-better
    """
    result = clinical_cutoff(m0=m0, sd0=sd0, m1=m1, sd1=sd1, higher_is_better=not lower_is_better)
    if as_json:
        print_json(result)
        return
    meaning = {"a": "2 SD beyond the dysfunctional mean, toward functioning",
               "b": "2 SD from the functional mean, toward dysfunction",
               "c": "equally far (in SD units) from both means"}
    side = "above" if result.higher_is_better else "below"
    pairs = [("cutoff", f"{result.value:.3f} (criterion {result.criterion}: "
                        f"{meaning[result.criterion]})"),
             ("functional range", f"scores {side} {result.value:.3f}")]
    pairs += [(f"criterion {name}", getattr(result, name)) for name in ("a", "b", "c")]
    print_pairs(pairs)


COMMANDS = [psychometrics, rci, cutoff]

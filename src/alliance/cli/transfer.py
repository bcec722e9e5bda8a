"""`alliance import history` and `alliance export research`: data in from another system,
pseudonymised data out for research. Both work on the web application's database."""

from __future__ import annotations

import datetime as dt

import click

from alliance.cli.server import setup_django


@click.group("import")
def import_group() -> None:
    """Bring data from another system into a clinic.

    \b
    Example:
      alliance import history old-system.csv --clinic riverside-counselling --dry-run
    """


@import_group.command("history")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--clinic", "clinic_ref", required=True, metavar="SLUG",
              help="The clinic: its name as a slug (riverside-counselling) or its id.")
@click.option("--dry-run", is_flag=True, help="Check the file and count what would be added; "
                                              "write nothing.")
def import_history_command(file: str, clinic_ref: str, dry_run: bool) -> None:
    """Import clients, cases, sessions and answers from a CSV file (long format).

    One row per item answer or score of one session (columns: client, therapist,
    session, date, instrument, item, value; optional case, case_start, case_end,
    case_status, modality, session_status, respondent; see docs/interop.md). Every
    row is checked first and every problem listed with its line and column;
    nothing is written unless the whole file is good. Importing the same file
    again adds nothing. Signals are recomputed afterwards.

    \b
    Example:
      alliance import history old-system.csv --clinic riverside-counselling
    """
    setup_django()
    from alliance.web.audit.services import record
    from alliance.web.interop import history

    clinic = history.find_clinic(clinic_ref)
    try:
        result = history.import_history(file, clinic, dry_run=dry_run)
    except history.HistoryImportError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        if exc.more:
            click.echo(f"(stopped after {len(exc.problems)} problems)", err=True)
        record(None, "import", outcome="failure", clinic=clinic, actor="command line",
               detail=f"history {file}: {len(exc.problems)} problems, nothing imported")
        raise click.ClickException(f"{len(exc.problems)}{'+' if exc.more else ''} problem(s) "
                                   "found; nothing was imported.") from None
    if not dry_run:
        record(None, "import", clinic=clinic, actor="command line",
               detail=f"history {file}: {result.summary()}")
    click.echo(("Dry run: " if dry_run else "") + result.summary())
    if result.recomputed:
        click.echo("Signals recomputed for the clinic's cases.")


@click.group("export")
def export_group() -> None:
    """Take data out of a clinic: pseudonymised research exports.

    \b
    Example:
      alliance export research --clinic riverside-counselling --out export/
    """


@export_group.command("research")
@click.option("--clinic", "clinic_ref", required=True, metavar="SLUG",
              help="The clinic: its name as a slug (riverside-counselling) or its id.")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder to write the tables and the data dictionary into.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "both"]), default="csv",
              show_default=True, help="File format of the tables.")
@click.option("--key", default="research", show_default=True,
              help="Export key: the same key gives the same research codes in later "
                   "exports; another key gives unrelated codes.")
@click.option("--therapist", "therapists", multiple=True, metavar="EMAIL",
              help="Only the cases of this therapist (repeat for several).")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]),
              help="Only sessions on or after this date (YYYY-MM-DD).")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]),
              help="Only sessions on or before this date (YYYY-MM-DD).")
@click.option("--instrument", "instrument_ids", multiple=True, metavar="ID",
              help="Only this instrument's answers (repeat for several).")
@click.option("--include-text", is_flag=True,
              help="Also export free-text answers (answers.csv, and the intake's hopes in "
                   "intake.csv; what clients wrote about their culture only when the clinic's "
                   "settings allow it). They may identify people; the export is recorded in "
                   "the audit trail as including them.")
def export_research_command(clinic_ref, out, fmt, key, therapists, date_from, date_to,
                            instrument_ids, include_text) -> None:
    """Export a clinic's data for research: pseudonymised, long format, with a dictionary.

    Writes sessions.csv (one row per session, every score as a column, e.g.
    alliance_client_total), items.csv (one row per item answer), intake.csv (one
    row per case's intake: preferences, readiness), dictionary.csv and
    dictionary.md (every column: meaning, unit, range, instrument versions), and
    with --include-text answers.csv. Clients, cases and therapists appear as
    random research codes, kept per export key; no names, contact details or
    dates (days since the case started instead). See docs/interop.md.

    \b
    Example:
      alliance export research --clinic riverside-counselling --out export/ --format both
      alliance analyze within-between export/sessions.csv --outcome wellbeing_total \\
          --predictor alliance_client_total --client client --therapist therapist
    """
    setup_django()
    from alliance.core.errors import InputError
    from alliance.web.audit.services import record
    from alliance.web.clinics.models import StaffMember
    from alliance.web.instruments import unknown_instrument_ids
    from alliance.web.interop import research
    from alliance.web.interop.history import find_clinic

    clinic = find_clinic(clinic_ref)
    therapist_ids = None
    if therapists:
        found = dict(StaffMember.objects.filter(clinic=clinic, user__email__in=therapists)
                     .values_list("user__email", "pk"))
        unknown = [t for t in therapists if t not in found]
        if unknown:
            raise InputError(f"no staff member {unknown[0]!r} in {clinic.name}")
        therapist_ids = tuple(found.values())
    unknown = unknown_instrument_ids(list(instrument_ids))
    if unknown:
        raise InputError(f"unknown instrument {unknown[0]!r}")
    selection = research.Selection(
        therapist_ids=therapist_ids, instrument_ids=tuple(instrument_ids) or None,
        date_from=date_from.date() if date_from else None,
        date_to=date_to.date() if date_to else None)
    description = (f"Research export of {clinic.name} ({selection.describe()}), key "
                   f"'{key}', {dt.date.today().isoformat()}.")
    written = research.write_files(out, clinic, fmt, key=key, selection=selection,
                                   include_text=include_text, description=description)
    paths = written.paths
    record(None, "export", clinic=clinic, actor="command line",
           detail=f"research export ({selection.describe()}; key {key}; "
                  f"{written.rows['sessions']} sessions"
                  f"{'; with free text' if include_text else ''})")
    for path in paths:
        click.echo(f"wrote {path}")


COMMANDS = [import_group, export_group]

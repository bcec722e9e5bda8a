"""`alliance report`: the PDF reports from the command line, on the server's database.

The web application offers the same reports to signed-in staff; this is for the people who
run the server (a monthly clinic report by cron, a case report for a records request).
Each report written is recorded in the audit trail as an export by the command line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from alliance.cli.server import setup_django

ACTOR = "command line (alliance report)"


def _day(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-03-31") from None


def _write(out: Path, content: bytes) -> None:
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"Wrote {out} ({len(content) // 1024 + 1} KB).")


@click.group()
def report() -> None:
    """PDF reports: a clinic report, and a case report for the record or for the client.

    \b
    Example:
      alliance report clinic --clinic "Riverside Counselling" --out clinic.pdf
      alliance report case --case 42 --for-client --out summary.pdf
    """


@report.command()
@click.option("--clinic", "which", required=True, metavar="ID_OR_NAME",
              help="The clinic's id, or its exact name.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The PDF file to write.")
@click.option("--date", "today", callback=_day, metavar="YYYY-MM-DD",
              help="The date printed on the report (default: today).")
def clinic(which: str, out: Path, today: dt.date | None) -> None:
    """The clinic report of a whole clinic, as its administrators see it.

    Alliance and outcome histograms, signal rates per 100 sessions, the share of ruptures
    repaired, and therapists compared on outcome change adjusted for intake severity.

    \b
    Example:
      alliance report clinic --clinic "Riverside Counselling" --out clinic.pdf
      alliance report clinic --clinic 3 --date 2026-03-31 --out q1.pdf
    """
    setup_django()
    from alliance.web.audit.services import record
    from alliance.web.clinics.models import Clinic, StaffMember
    from alliance.web.reports import clinic as clinic_report

    found = Clinic.objects.filter(pk=int(which)) if which.isdigit() else \
        Clinic.objects.filter(name=which)
    if found.count() != 1:
        raise click.ClickException(f"no clinic with the id or name {which!r}"
                                   if not found.exists() else
                                   f"several clinics are named {which!r}; give the id")
    target = found.get()
    # The administrators' view of the clinic: a role, not a person (nothing is saved).
    viewer = StaffMember(clinic=target, role=StaffMember.Role.ADMIN,
                         display_name="the clinic's administrators")
    loaded = clinic_report.load(viewer, today=today)
    content = clinic_report.render(loaded)
    _write(out, content)
    record(None, "export", None, detail=f"clinic report ({loaded.scope}) to {out.name}",
           clinic=target, actor=ACTOR)


@report.command()
@click.option("--case", "case_id", required=True, type=int, help="The case's id.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The PDF file to write.")
@click.option("--for-client", is_flag=True,
              help="The summary to share with the client (kind wording, no clinician-only "
                   "content) instead of the report for the record.")
@click.option("--date", "today", callback=_day, metavar="YYYY-MM-DD",
              help="The date printed on the report (default: today).")
def case(case_id: int, out: Path, for_client: bool, today: dt.date | None) -> None:
    """A case report: for the record (everything), or the summary for the client.

    \b
    Example:
      alliance report case --case 42 --out case-42.pdf
      alliance report case --case 42 --for-client --out summary.pdf
    """
    setup_django()
    from alliance.web.audit.services import record
    from alliance.web.care.models import Case
    from alliance.web.reports import case as case_report

    try:
        target = Case.objects.select_related("client__clinic", "therapist").get(pk=case_id)
    except Case.DoesNotExist:
        raise click.ClickException(f"no case with the id {case_id}") from None
    variant = case_report.CLIENT if for_client else case_report.RECORD
    content = case_report.render(case_report.load(target, variant, today=today))
    _write(out, content)
    record(None, "export", target, detail=f"case report ({variant}) to {out.name}",
           clinic=target.client.clinic, actor=ACTOR)


COMMANDS = [report]

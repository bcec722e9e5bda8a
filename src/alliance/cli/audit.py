"""`alliance audit`: check the audit trail's hash chain and export events."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys

import click

from alliance.cli.server import setup_django

EXPORT_FIELDS = ["id", "at", "action", "outcome", "actor_id", "actor_name", "clinic_id",
                 "target_type", "target_id", "client_id", "detail", "address", "prev_hash",
                 "hash"]


@click.group()
def audit() -> None:
    """The audit trail: who read, changed or exported client data, and every sign-in.

    \b
    Example:
      alliance audit verify
      alliance audit export --since 2026-01-01 --until 2026-03-31 --format csv --out q1.csv
    """


def _anchor(ctx, param, value):
    if value is None:
        return None
    number, _, digest = value.partition(":")
    if not number.isdigit() or len(digest) != 64:
        raise click.BadParameter("give ID:HASH as printed by an earlier 'alliance audit verify'")
    return int(number), digest.lower()


@audit.command()
@click.option("--anchor", callback=_anchor, metavar="ID:HASH",
              help="An event id and hash printed by an earlier verify (kept outside the "
                   "database); fails if that event is gone or changed.")
def verify(anchor) -> None:
    """Check that no event was altered or deleted; exit status 1 if one was.

    Without --anchor, checks against the anchor the server keeps in its data folder (the
    latest event it committed), so a trail cut short at its end is found too. Prints each
    problem (event id, time, what is wrong), or the number of events and the last event's
    id and hash: write these down elsewhere as well to anchor later checks.

    \b
    Example:
      alliance audit verify
      alliance audit verify --anchor 1234:9f2c…(64 hex digits)
    """
    setup_django()
    from alliance.web.audit import anchors
    from alliance.web.audit.chain import verify as verify_chain

    kept = None if anchor else anchors.latest()
    report = verify_chain(anchor=anchor or kept)
    if kept is not None:
        click.echo(f"Checked against the anchor kept in {anchors.anchor_file()} "
                   f"(event {kept[0]}).")
    if report.intact:
        if report.last is None:
            click.echo("The audit trail is empty.")
        else:
            click.echo(f"The audit trail is intact: {report.count} events.")
            click.echo(f"Last event: {report.last.id} at "
                       f"{report.last.at.isoformat(timespec='seconds')}, hash {report.last.hash}")
            click.echo(f"Anchor for a later check: --anchor {report.last.id}:{report.last.hash}")
        return
    click.echo(f"The audit trail is broken: {len(report.problems)} problem(s) in "
               f"{report.count} events.", err=True)
    for problem in report.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)


@audit.command()
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day (the clinic's with --clinic, else UTC), inclusive.")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day (the clinic's with --clinic, else UTC), inclusive.")
@click.option("--clinic", "clinic_id", type=int, default=None, help="Only this clinic's events.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--out", type=click.File("w", encoding="utf-8"), default="-",
              help="File to write (default: standard output).")
def export(since, until, clinic_id, fmt, out) -> None:
    """Write the events of a date range as CSV or JSON (with their hashes).

    \b
    Example:
      alliance audit export --since 2026-01-01 --until 2026-01-31 --out january.csv
    """
    setup_django()
    from alliance.web import localtime
    from alliance.web.audit.models import Event
    from alliance.web.clinics.models import Clinic

    if since and until and until < since:
        raise click.BadParameter("--until is before --since", param_hint="--until")
    # Each event's time with its clinic's UTC offset; events of no clinic (a failed sign-in
    # of an unknown address, the command line's) in UTC. Days are the clinic's with --clinic.
    zones = {clinic.pk: localtime.zone(clinic) for clinic in Clinic.objects.all()}
    if clinic_id is not None and clinic_id not in zones:
        raise click.BadParameter(f"no clinic with the id {clinic_id}", param_hint="--clinic")
    days = zones[clinic_id] if clinic_id is not None else dt.UTC
    events = Event.objects.order_by("id")
    if since:
        events = events.filter(at__gte=since.replace(tzinfo=days))
    if until:
        events = events.filter(at__lt=(until + dt.timedelta(days=1)).replace(tzinfo=days))
    if clinic_id is not None:
        events = events.filter(clinic_id=clinic_id)
    rows = ({**row, "at": localtime.isoformat(row["at"],
                                              tz=zones.get(row["clinic_id"], dt.UTC))}
            for row in events.values(*EXPORT_FIELDS).iterator(chunk_size=2000))
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        # Notes and actors hold what visitors typed (a sign-in e-mail): no formulas.
        from alliance.core.tables import neutralise_cell

        writer.writerows({key: neutralise_cell(value) for key, value in row.items()}
                         for row in rows)
    else:
        json.dump(list(rows), out, ensure_ascii=False, indent=1)
        out.write("\n")


COMMANDS = [audit]

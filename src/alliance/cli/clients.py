"""`alliance client`: a client's data from the server's command line (docs/privacy.md).

For the operator of the server, who handles a privacy request that the client's therapist
cannot (administrators see no case records on the site). Each run is recorded in the audit
trail with the operating-system user who ran it.
"""

from __future__ import annotations

import getpass
import json

import click

from alliance.cli.server import setup_django

CLINIC_HELP = "The client's clinic: its number (id) or its exact name."


def _actor(command: str) -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown user"
    return f"command line ({command}, {user})"


def _find(clinic: str, code: str):
    from alliance.web.clinics.models import Clinic
    from alliance.web.privacy import services

    found = Clinic.objects.filter(pk=int(clinic)) if clinic.isdigit() else \
        Clinic.objects.filter(name=clinic)
    match list(found[:2]):
        case [one]:
            pass
        case []:
            raise click.ClickException(f"no clinic {clinic!r} (give its id or exact name)")
        case _:
            raise click.ClickException(f"several clinics are called {clinic!r}; give its id")
    try:
        return one, services.find_client(one, code)
    except services.PrivacyError as error:
        raise click.ClickException(str(error)) from None


@click.group()
def client() -> None:
    """A client's data: export everything held about them, or erase it.

    \b
    Example:
      alliance client export C-4F7Q2 --clinic 1 --out client.json
      alliance client erase C-4F7Q2 --clinic "Riverside Counselling"
    """


@client.command("export")
@click.argument("code")
@click.option("--clinic", required=True, help=CLINIC_HELP)
@click.option("--out", type=click.File("w", encoding="utf-8"), default="-",
              help="Write the JSON document to this file [default: standard output].")
def export_command(code: str, clinic: str, out) -> None:
    """Export everything held about the client CODE as one JSON document.

    The document (format alliance-client-export) is described in docs/privacy.md. It holds
    what the client and their therapist wrote: keep it as safely as the database.

    \b
    Example:
      alliance client export C-4F7Q2 --clinic 1 --out client.json
    """
    setup_django()
    from alliance.web.audit.services import record
    from alliance.web.privacy import services

    found_clinic, found = _find(clinic, code)
    document = services.export_client(found)
    record(None, "export", found, actor=_actor("client export"), clinic=found_clinic,
           detail="client data export (JSON)")
    json.dump(document, out, ensure_ascii=False, indent=2)
    out.write("\n")


@client.command("erase")
@click.argument("code")
@click.option("--clinic", required=True, help=CLINIC_HELP)
@click.option("--confirm", "confirm_code", default=None, metavar="CODE",
              help="The client's code again, to confirm without a prompt.")
def erase_command(code: str, clinic: str, confirm_code: str | None) -> None:
    """Erase the client CODE's data, keeping scores, dates and sessions under a pseudonym.

    Removes the code, the e-mail address, everything written, the portal account and the
    links (the rule is in docs/privacy.md). It cannot be undone: export first if the
    client asked for a copy. Asks for the code again unless --confirm gives it.

    \b
    Example:
      alliance client erase C-4F7Q2 --clinic 1
      alliance client erase C-4F7Q2 --clinic 1 --confirm C-4F7Q2
    """
    setup_django()
    from alliance.web.audit.services import record
    from alliance.web.privacy import services

    found_clinic, found = _find(clinic, code)
    if confirm_code is None:
        confirm_code = click.prompt("This cannot be undone. Type the client's code to confirm")
    try:
        erased = services.erase_client(found, confirm_code=confirm_code)
    except services.PrivacyError as error:
        raise click.ClickException(str(error)) from None
    record(None, "erase", erased.client, actor=_actor("client erase"), clinic=found_clinic,
           detail="client data erased (pseudonymised)")
    click.echo(f"Erased. The client's records are kept under the pseudonym {erased.pseudonym}"
               + (f"; {erased.cases_closed} active case closed." if erased.cases_closed else "."))


COMMANDS = [client]

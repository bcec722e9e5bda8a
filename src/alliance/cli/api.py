"""`alliance api-token`: create, list and revoke the REST API's tokens (docs/api.md).

The same operations as the page /clinic/api-tokens/ (where each therapist or supervisor
creates their own tokens), for set-up scripts on the server itself.
"""

from __future__ import annotations

import datetime as dt

import click

from alliance.cli.server import setup_django


@click.group("api-token")
def api_token() -> None:
    """Create, list and revoke tokens for the REST API.

    A token acts as one therapist or supervisor of their clinic, read-only or read-write,
    and is shown once. Creating, revoking and using tokens is recorded in the audit trail.

    \b
    Example:
      alliance api-token create --as therapist@riverside.example --name "Reports" --scope read
      alliance api-token list
      alliance api-token revoke 3
    """


def _member(email: str):
    from alliance.web.clinics.models import StaffMember

    member = (StaffMember.objects.select_related("clinic", "user")
              .filter(user__email__iexact=email).first())
    if member is None:
        raise click.BadParameter(f"no staff member has the address {email!r}",
                                 param_hint="--as")
    return member


@api_token.command("create")
@click.option("--as", "email", required=True,
              help="E-mail address of the therapist or supervisor the token acts as.")
@click.option("--name", required=True, help="What will use the token.")
@click.option("--scope", type=click.Choice(["read", "write"]), default="read",
              show_default=True, help="read: only reads; write: also the changes the API "
                                      "offers, in this person's own cases.")
@click.option("--expires", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day the token works (YYYY-MM-DD, in the clinic's time zone) "
                   "[default: until revoked].")
def create(email: str, name: str, scope: str, expires: dt.datetime | None) -> None:
    """Create a token and print it (it is shown only this once).

    \b
    Example:
      alliance api-token create --as therapist@riverside.example --name "Reports" \\
          --scope write --expires 2027-06-30
    """
    setup_django()
    from alliance.web import localtime
    from alliance.web.api import tokens
    from alliance.web.api.forms import end_of

    member = _member(email)
    try:
        issued = tokens.create_token(member.clinic, member, name=name, scope=scope,
                                     expires_at=(end_of(expires.date(), member.clinic)
                                                 if expires else None))
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    api_token = issued.api_token
    click.echo(f"Created token {api_token.pk} of {member.clinic.name}: "
               f"{api_token.get_scope_display().lower()} as {member.display_name}"
               + (f", until {localtime.format_datetime(api_token.expires_at, member.clinic)} "
                  f"({member.clinic.time_zone})." if expires else "."),
               err=True)
    click.echo("Keep it safe; it is not shown again:", err=True)
    click.echo(issued.token)


@api_token.command("list")
@click.option("--clinic", default=None, help="Only the tokens of the clinic with this name.")
def list_tokens(clinic: str | None) -> None:
    """List tokens: id, state, scope, who they act as, expiry and last use (never the token).

    \b
    Example:
      alliance api-token list --clinic "Riverside Counselling"
    """
    setup_django()
    from alliance.web import localtime
    from alliance.web.api.models import ApiToken

    found = ApiToken.objects.select_related("clinic", "staff").order_by("clinic__name", "pk")
    if clinic is not None:
        found = found.filter(clinic__name=clinic)
    rows = list(found)
    if not rows:
        click.echo("No API tokens.", err=True)
        return
    for token in rows:
        # In the token's clinic's time zone, as its pages show them.
        expires = (f"{localtime.local(token.expires_at, token.clinic):%Y-%m-%d}"
                   if token.expires_at else "-")
        used = (f"{localtime.local(token.last_used_at, token.clinic):%Y-%m-%d %H:%M}"
                if token.last_used_at else "never")
        click.echo(f"{token.pk}\t{token.state()}\t{token.scope}\t{token.clinic.name}\t"
                   f"{token.staff.display_name}\t{token.name}\t{token.hint}…\t"
                   f"expires {expires}\tlast used {used}")


@api_token.command("revoke")
@click.argument("token_id", type=click.IntRange(min=1))
def revoke(token_id: int) -> None:
    """Revoke a token by its id (from `alliance api-token list`): it stops working at once.

    \b
    Example:
      alliance api-token revoke 3
    """
    setup_django()
    from alliance.web.api import tokens
    from alliance.web.api.models import ApiToken

    try:
        api_token = ApiToken.objects.select_related("clinic").get(pk=token_id)
    except ApiToken.DoesNotExist:
        raise click.ClickException(f"There is no API token {token_id}.") from None
    try:
        tokens.revoke_token(api_token)
    except tokens.TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Revoked token {api_token.pk} ({api_token.name}).")


COMMANDS = [api_token]

"""Creating, revoking and checking API tokens; each step is recorded in the audit trail.

Used by the clinic admin's page, by `alliance api-token` and by the API's authentication.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.utils import timezone

from alliance.web.api.models import TOKEN_PREFIX, ApiToken, hash_token
from alliance.web.audit.services import record
from alliance.web.clinics.models import Clinic, StaffMember
from alliance.web.errors import DomainError

# secrets.token_urlsafe(32) gives 43 characters; anything much longer is not ours.
MAX_TOKEN_LENGTH = 80
# Writing "last used" once a minute is precise enough and spares a write on every request.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


class TokenError(DomainError):
    """A token cannot be created or revoked as asked."""


class TokenInvalid(DomainError):
    """The token given with a request does not work (unknown, revoked, expired)."""


@dataclass(frozen=True)
class IssuedToken:
    """A new token. `token` exists only here: show it once."""

    token: str
    api_token: ApiToken


def create_token(clinic: Clinic, staff: StaffMember, *, name: str, scope: str,
                 expires_at: dt.datetime | None = None, by: StaffMember | None = None,
                 request=None, now=None) -> IssuedToken:
    """A new token of `clinic` acting as `staff` (a therapist or supervisor of the clinic).

    `by` is who creates it: only `staff` themselves (on their API tokens page), or nobody
    (the server's command line, `alliance api-token`). Nobody creates a token that acts as
    someone else: an administrator would otherwise read case records through it.
    """
    now = now or timezone.now()
    name = " ".join((name or "").split())
    if not name:
        raise TokenError("Please name the token after what will use it.")
    if len(name) > 100:
        raise TokenError("Please keep the name under 100 characters.")
    if scope not in ApiToken.Scope.values:
        raise TokenError(f"The scope is 'read' or 'write', not {scope!r}.")
    if staff.clinic_id != clinic.pk:
        raise TokenError("A token acts as a member of its own clinic.")
    if by is not None and by.pk != staff.pk:
        raise TokenError("A token acts as the person who creates it: ask "
                         f"{staff.display_name} to create it on their API tokens page.")
    if not staff.is_active:
        raise TokenError(f"{staff.display_name} is deactivated.")
    if not staff.can_treat:
        # Administrators see no case records, so a token acting as one would see nothing.
        raise TokenError("A token acts as a therapist or a supervisor: the API serves case "
                         "records, which administrators do not see.")
    if expires_at is not None and expires_at <= now:
        raise TokenError("The expiry must be in the future.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    api_token = ApiToken.objects.create(
        clinic=clinic, staff=staff, name=name, scope=scope, token_hash=hash_token(token),
        hint=token[:len(TOKEN_PREFIX) + 4], created_by=by, expires_at=expires_at)
    record(request, "token_created", api_token, clinic=clinic, actor=_actor(by),
           detail=f"{api_token.get_scope_display()} as {staff.display_name}: {name}")
    return IssuedToken(token=token, api_token=api_token)


def revoke_token(api_token: ApiToken, *, by: StaffMember | None = None, request=None,
                 now=None) -> ApiToken:
    if api_token.revoked_at is not None:
        raise TokenError("This token is already revoked.")
    api_token.revoked_at = now or timezone.now()
    api_token.revoked_by = by
    api_token.save(update_fields=["revoked_at", "revoked_by"])
    record(request, "token_revoked", api_token, clinic=api_token.clinic, actor=_actor(by),
           detail=api_token.name)
    return api_token


def authenticate(token: str, *, request=None, now=None) -> ApiToken:
    """The live token with this value, whose person is still active; else TokenInvalid.

    A failed attempt with a known token is recorded (with its clinic); one with an unknown
    token names no clinic, so it is recorded without one.
    """
    now = now or timezone.now()
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.startswith(TOKEN_PREFIX):
        _failed(request, None, "malformed token")
        raise TokenInvalid("The API token is not valid.")
    api_token = (ApiToken.objects.select_related("clinic", "staff__user", "staff__clinic",
                                                 "created_by__user")
                 .filter(token_hash=hash_token(token)).first())
    if api_token is None:
        _failed(request, None, "unknown token")
        raise TokenInvalid("The API token is not valid.")
    state = api_token.state(now)
    if state != "live":
        _failed(request, api_token, f"{state} token")
        raise TokenInvalid(f"The API token is {state}.")
    staff = api_token.staff
    if not staff.is_active or not staff.user.is_active or staff.clinic_id != api_token.clinic_id:
        _failed(request, api_token, "the token's staff member is deactivated")
        raise TokenInvalid("The API token's staff member is deactivated.")
    if not acts_as_its_creator(api_token):
        # Made by someone else for this person (before that was refused): never used.
        _failed(request, api_token, "the token was created by someone other than the person "
                                    "it acts as")
        raise TokenInvalid(f"The API token was not created by {staff.display_name}: they "
                           "create their own on their API tokens page.")
    if api_token.last_used_at is None or api_token.last_used_at <= now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
        api_token.last_used_at = now
    record(request, "token_used", api_token, clinic=api_token.clinic, actor=staff.user,
           detail=f"{_where(request)}; {created_by(api_token)}".lstrip("; "))
    return api_token


def acts_as_its_creator(api_token: ApiToken) -> bool:
    """Created by the person it acts as, or on the server's command line (no creator)."""
    return api_token.created_by_id is None or api_token.created_by_id == api_token.staff_id


def created_by(api_token: ApiToken) -> str:
    """Who created the token, for the audit trail of every request made with it."""
    who = (api_token.created_by.user.username if api_token.created_by_id
           else "the command line")
    return f"token {api_token.pk} created by {who}"


def _failed(request, api_token: ApiToken | None, why: str) -> None:
    record(request, "token_invalid", api_token, outcome="failure",
           clinic=api_token.clinic if api_token else None,
           detail=f"{why}; {_where(request)}".rstrip("; "))


def _where(request) -> str:
    return f"{request.method} {request.path}" if request is not None else ""


def _actor(by: StaffMember | None):
    # Without a staff member the change came from the server's command line.
    return by.user if by is not None else "alliance api-token (command line)"


def tokens_of(clinic: Clinic):
    return ApiToken.objects.filter(clinic=clinic).select_related("staff", "created_by")


def tokens_for(staff: StaffMember):
    """The tokens `staff` may see and revoke: an administrator all of the clinic's, anyone
    else their own (acting as them)."""
    found = tokens_of(staff.clinic)
    return found if staff.is_admin else found.filter(staff=staff)

"""Recording audit events: `record(request, action, target)` from anywhere that reads or
exports client data or authenticates someone, and `record_change(action, target, by=…)` from
the services that change it.

Vocabulary (`ACTIONS`, the only values `action` accepts):

- data: read, create, update, delete, export, erase, import;
- sign-in: login, login_failed, lockout, logout, session_expired;
- two-factor: otp_verified, otp_failed, otp_enrolled, otp_reset;
- passwords: password_changed, password_reset_requested;
- tokens (check-in links, sign-in links, API tokens): token_invalid, token_created,
  token_revoked, token_used;
- operations: backup, restore.

`outcome` is success, failure or denied. `detail` is a short note in plain words; it must not
hold client data (names, answers): the trail names records by type and id only.

Appending takes one indexed lookup (the last event, by primary key) and one insert, inside a
short transaction that serialises writers: on PostgreSQL a transaction-level advisory lock,
on SQLite the write lock every (IMMEDIATE) transaction takes. Called inside a longer
transaction, the event commits (or rolls back) with it, and the lock is held until then.
"""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, transaction
from django.utils import timezone

from alliance.web.audit.models import GENESIS_HASH, Event
from alliance.web.identity import account_for, staff_for

ACTIONS = frozenset({
    "read", "create", "update", "delete", "export", "erase", "import",
    "login", "login_failed", "lockout", "logout", "session_expired",
    "otp_verified", "otp_failed", "otp_enrolled", "otp_reset",
    "password_changed", "password_reset_requested",
    "token_invalid", "token_created", "token_revoked", "token_used",
    "backup", "restore",
})
OUTCOMES = frozenset(Event.Outcome.values)

# pg_advisory_xact_lock key for appending ("alli" in ASCII); any constant unique to us.
_PG_LOCK_KEY = 0x616C6C69

_DETAIL_MAX = Event._meta.get_field("detail").max_length

# The request being handled (set by middleware.AuditRequestMiddleware), for record_read.
_current_request: ContextVar = ContextVar("alliance_audit_request", default=None)


def record(request, action, target=None, *, outcome="success", detail="", clinic=None,
           actor=None) -> Event:
    """Append one event and return it.

    `request` may be None (commands, background work); then pass `actor` (a user, a record
    that acted, such as a check-in link, or a short description) and `clinic`. With a
    request, the actor is the signed-in user and the clinic theirs, unless given.
    `target` is the model instance acted on (or None).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; see alliance.web.audit.services")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}; use one of {sorted(OUTCOMES)}")
    user = getattr(request, "user", None) if request is not None else None
    if actor is None and getattr(user, "is_authenticated", False):
        actor = user
    actor_id, actor_name = _actor(actor)
    clinic_id = _pk(clinic) if clinic is not None else _clinic_id(request, user, target)
    target_type, target_id = "", ""
    if target is not None:
        target_type, target_id = target._meta.label_lower, str(target.pk)
    if request is not None and target_type:
        # Lets record_pending_reads skip a read this event already accounts for.
        request.__dict__.setdefault("_audit_targets", set()).add((target_type, target_id))
    event = Event(action=action, outcome=outcome, actor_id=actor_id, actor_name=actor_name,
                  clinic_id=clinic_id, target_type=target_type, target_id=target_id,
                  client_id=_client_id(target), detail=str(detail)[:_DETAIL_MAX],
                  address=client_address(request))
    _append(event)
    # The anchor outside the database follows the trail once the event is committed.
    from alliance.web.audit import anchors

    anchors.keep_after_commit(event)
    return event


def record_change(action, target, *, by, detail="", clinic=None) -> Event:
    """A change, recorded by the service that makes it: the web page, the API and the
    client's own pages then describe one act in the same words.

    `by` is who acted: a staff member, a user, or a record that acted (a check-in link).
    The request being handled, when there is one, gives the address.
    """
    request = _current_request.get()
    actor = getattr(by, "user", by) if by is not None else None
    signed_in = getattr(getattr(request, "user", None), "is_authenticated", False)
    if actor is not None and not hasattr(actor, "get_username") and signed_in:
        actor = request.user  # e.g. a client acting in the portal: their own account
    return record(request, action, target, detail=detail, clinic=clinic, actor=actor)


def record_read(user, target) -> None:
    """A read through the scoping layer: noted now, recorded when the page is done.

    Recorded once per record and page view (GET, HEAD), and only if nothing else in the same
    request recorded an event about that record (an export of a case reads it too): one
    action, one event. A form submission records the change it makes instead. Outside a
    request (commands, tests of the scoping rules) nothing is recorded: the request is what
    a person did.
    """
    request = _current_request.get()
    if request is None or request.method not in ("GET", "HEAD"):
        return
    request.__dict__.setdefault("_audit_reads", {}).setdefault(
        (target._meta.label_lower, str(target.pk)), target)


def record_pending_reads(request) -> None:
    """Called by the middleware after the view: the reads not covered by another event."""
    pending = request.__dict__.pop("_audit_reads", None)
    if not pending:
        return
    recorded = request.__dict__.get("_audit_targets", set())
    for key, target in pending.items():
        if key not in recorded:
            record(request, "read", target)


def record_denied(action, target=None, *, detail="") -> None:
    """A refusal by the scoping layer (out of scope, or not the case's therapist), for any
    method, so that probing for other clients' records shows in the trail."""
    request = _current_request.get()
    if request is not None:
        record(request, action, target, outcome="denied", detail=detail)


_COLUMNS = ("id", "at", "action", "outcome", "actor_id", "actor_name", "clinic_id",
            "target_type", "target_id", "client_id", "detail", "address", "prev_hash", "hash")


def _append(event: Event) -> None:
    # Plain SQL rather than the ORM: this runs on every page view, and the ORM's save()
    # costs more than the two statements themselves. No savepoint inside a caller's
    # transaction: the event commits or rolls back with it.
    table = connection.ops.quote_name(Event._meta.db_table)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK_KEY])
        cursor.execute(f"SELECT id, hash FROM {table} ORDER BY id DESC LIMIT 1")
        last = cursor.fetchone()
        event.id, event.prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
        event.at = timezone.now()
        event.hash = event.compute_hash()
        values = [getattr(event, column) for column in _COLUMNS]
        values[1] = connection.ops.adapt_datetimefield_value(event.at)
        cursor.execute(f"INSERT INTO {table} ({', '.join(_COLUMNS)}) "
                       f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})", values)
    event._state.adding = False


def client_address(request) -> str:
    """The client's IP address: REMOTE_ADDR, or behind our proxy the address it saw.

    Only when SECURE_PROXY_SSL_HEADER says a proxy is in front (ALLIANCE_BEHIND_PROXY) is
    X-Forwarded-For used, and then only its last entry, the one our proxy appended: earlier
    entries come from the client and can be forged.
    """
    if request is None:
        return ""
    meta = request.META
    address = meta.get("REMOTE_ADDR", "")
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            address = forwarded
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return ""


def _pk(value):
    return getattr(value, "pk", value)


def _actor(actor) -> tuple[int | None, str]:
    if actor is None:
        return None, ""
    if isinstance(actor, str):
        return None, actor[:150]
    if hasattr(actor, "get_username"):
        return actor.pk, actor.get_username()[:150]
    # A record that acted (e.g. a check-in link): named by what it is and its id.
    return None, f"{actor._meta.verbose_name} {actor.pk}"[:150]


def _clinic_id(request, user, target) -> int | None:
    # Staff: their clinic; clients in the portal: their client's; else the target's own.
    if user is not None:
        staff = staff_for(user)
        if staff is not None:
            return staff.clinic_id
        account = getattr(request, "portal_account", None) or account_for(user)
        if account is not None:
            return account.client.clinic_id
    return _cached_attr(target, ("clinic_id",), ("client", "clinic_id"),
                        ("case", "client", "clinic_id"),
                        ("session", "case", "client", "clinic_id"))


def _client_id(target) -> int | None:
    if target is None:
        return None
    if target._meta.label_lower == "care.client":
        return target.pk
    return _cached_attr(target, ("client_id",), ("case", "client_id"),
                        ("session", "case", "client_id"))


def _cached_attr(obj, *paths):
    """The first value found along one of `paths` without a query (only loaded relations)."""
    if obj is None:
        return None
    for path in paths:
        current = obj
        for name in path[:-1]:
            try:
                field = current._meta.get_field(name)
            except FieldDoesNotExist:
                current = None
                break
            if not field.is_relation or not field.is_cached(current):
                current = None
                break
            current = getattr(current, name)
            if current is None:
                break
        if current is not None and hasattr(current, path[-1]):
            return getattr(current, path[-1])
    return None

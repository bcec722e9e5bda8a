"""The audit trail in words: people by name and role, records by what they are.

An event stores ids ("care.case" 40, actor user 12); the audit page and its export show
"Dr Helen Okafor (supervisor)" and "check-in for session 3 of case R-104". Every name is
looked up in bulk for the rows shown (one query per kind of record), and only inside the
administrator's own clinic; a record since erased keeps its kind and id.
"""

from __future__ import annotations

from collections import defaultdict

from django.apps import apps

# What happened, in words.
ACTION_WORDS = {
    "read": "Viewed", "create": "Added", "update": "Changed", "delete": "Deleted",
    "export": "Exported", "erase": "Erased", "import": "Imported",
    "login": "Signed in", "login_failed": "Sign-in failed", "lockout": "Locked out",
    "logout": "Signed out", "session_expired": "Signed out (session expired)",
    "otp_verified": "Second factor accepted", "otp_failed": "Second factor refused",
    "otp_enrolled": "Second factor set up", "otp_reset": "Second factor reset",
    "password_changed": "Password changed",
    "password_reset_requested": "Password reset requested",
    "token_invalid": "Link or token refused", "token_created": "Link or token issued",
    "token_revoked": "Token revoked", "token_used": "Token used",
    "backup": "Backup made", "restore": "Backup restored",
}
OUTCOME_WORDS = {"success": "", "failure": "failed", "denied": "refused"}


def _case(case) -> str:
    return f"case {case.client.code}"


def _session(session) -> str:
    return f"session {session.number} of {_case(session.case)}"


# target_type → (select_related paths, how to say one record)
_RECORDS = {
    "care.case": (("client",), _case),
    "care.client": ((), lambda c: f"client {c.code}"),
    "care.session": (("case__client",), _session),
    "checkins.administration": (
        ("session__case__client",),
        lambda a: ("check-in" if a.respondent == "client" else "therapist's rating")
        + f" for {_session(a.session)}"),
    "checkins.checkinlink": (("administration__session__case__client",),
                             lambda link: f"check-in link for {_session(link.administration.session)}"),
    "monitoring.signal": (("case__client", "session"),
                          lambda s: f"{s.get_type_display().lower()} signal of {_case(s.case)}"
                          + (f", session {s.session.number}" if s.session else "")),
    "goals.goal": (("case__client",), lambda g: f"a goal of {_case(g.case)}"),
    "goals.task": (("goal__case__client",), lambda t: f"a task of {_case(t.goal.case)}"),
    "clinics.staffmember": ((), lambda m: f"staff member {m.display_name}"),
}


def _fallback(target_type: str, target_id: str) -> str:
    try:
        name = apps.get_model(target_type)._meta.verbose_name
    except (LookupError, ValueError):
        name = target_type
    return f"{name} {target_id}"


def record_names(rows, clinic) -> dict[tuple[str, str], str]:
    """(target_type, target_id) → words, for the rows' targets."""
    wanted = defaultdict(set)
    for row in rows:
        if row.target_type and row.target_id.isdigit():
            wanted[row.target_type].add(int(row.target_id))
    names = {}
    for target_type, ids in wanted.items():
        if target_type not in _RECORDS:
            continue
        related, say = _RECORDS[target_type]
        model = apps.get_model(target_type)
        found = model.objects.filter(pk__in=ids).select_related(*related)
        for record in found:
            names[(target_type, str(record.pk))] = say(record)
    for row in rows:
        key = (row.target_type, row.target_id)
        if row.target_type and key not in names:
            names[key] = _fallback(*key)
    return names


def people(rows, clinic) -> dict[int, str]:
    """actor user id → "Name (role)" for staff, "client C-7KQ4M (client portal)" for clients."""
    from alliance.web.clinics.models import StaffMember
    from alliance.web.portal.models import ClientAccount

    ids = {row.actor_id for row in rows if row.actor_id}
    found = {m.user_id: f"{m.display_name} ({m.get_role_display().lower()})"
             for m in StaffMember.objects.filter(clinic=clinic, user_id__in=ids)}
    for account in ClientAccount.objects.filter(user_id__in=ids - set(found),
                                                client__clinic=clinic).select_related("client"):
        found[account.user_id] = f"client {account.client.code} (client portal)"
    return found


def who(row, people_names: dict, codes: dict) -> str:
    if row.actor_id and row.actor_id in people_names:
        return people_names[row.actor_id]
    name = row.actor_name or ""
    if name.startswith(("check-in link", "checkin link")):
        code = codes.get(row.client_id)
        return f"client {code} (check-in link)" if code else "a client (check-in link)"
    return name or "—"


def describe(rows, clinic) -> None:
    """Give each event row `who`, `what`, `outcome_words`, `record_name` and `client_code`
    (four queries for the rows, however many)."""
    from alliance.web.care.models import Client

    names = people(rows, clinic)
    records = record_names(rows, clinic)
    codes = dict(Client.objects.filter(clinic=clinic, pk__in={r.client_id for r in rows})
                 .values_list("pk", "code"))
    for row in rows:
        row.who = who(row, names, codes)
        row.what = ACTION_WORDS.get(row.action, row.action)
        row.outcome_words = OUTCOME_WORDS.get(row.outcome, row.outcome)
        row.record_name = records.get((row.target_type, row.target_id), "")
        row.client_code = codes.get(row.client_id, "")

"""A client's data: everything held about them in one JSON document, or erased under a
pseudonym. The document's schema and the erasure rule are in docs/privacy.md.

Who may ask is decided by the caller (`alliance.web.privacy.views` for the treating
therapist, `alliance client` on the command line for the server's operator); both record an
audit event ("export", "erase").
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.apps import apps
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from alliance.web import localtime
from alliance.web.care.models import Case, Client
from alliance.web.checkins.models import Administration, CheckinLink
from alliance.web.errors import DomainError
from alliance.web.goals.models import Goal, GoalEvent, ReviewRequest, Task
from alliance.web.intake.models import PREFERENCES, Intake
from alliance.web.monitoring.models import RepairAction, Signal
from alliance.web.portal.models import ClientAccount, ClientFeedback
from alliance.web.safety.models import RiskAlert

EXPORT_FORMAT = "alliance-client-export"
EXPORT_VERSION = 1

# What a required text field says once its words are gone.
REMOVED = "[removed at the client's request]"
PSEUDONYM_PREFIX = "erased-"

# Signals whose explanation and data quote words (a goal's or a task's, the client's own);
# the others are written from scores and dates only and are kept as they are.
_WORDED_SIGNALS = {Signal.Type.GOAL_NOT_AGREED, Signal.Type.GOAL_RATINGS_APART,
                   Signal.Type.GOAL_REVIEW_OVERDUE, Signal.Type.GOAL_PROGRESS_FLAT,
                   Signal.Type.TASK_NOT_DONE, Signal.Type.TASK_UNHELPFUL}
_WORDED_KEYS = {"text", "title", "what", "goal", "task"}


class PrivacyError(DomainError):
    pass


def find_client(clinic, code: str) -> Client:
    try:
        return Client.objects.select_related("clinic").get(clinic=clinic, code=code)
    except Client.DoesNotExist:
        raise PrivacyError(f"No client with the code {code!r} at {clinic.name}.") from None


# -- Export -----------------------------------------------------------------------------------

def _at(value):
    # With the clinic's UTC offset: export_client runs in the clinic's time zone.
    return localtime.isoformat(value)


def _number(session) -> int | None:
    return session.number if session is not None else None


def export_client(client: Client) -> dict:
    """Everything held about `client`, as one JSON-ready document (docs/privacy.md)."""
    with localtime.activated(client.clinic):
        return _export(client)


def _export(client: Client) -> dict:
    cases = (client.cases.select_related("therapist").order_by("start_date", "pk")
             .prefetch_related("sessions__administrations__links"))
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": _at(timezone.now()),
        "clinic": {"id": client.clinic_id, "name": client.clinic.name,
                   "time_zone": client.clinic.time_zone},
        "client": {"id": client.pk, "code": client.code, "name": client.name,
                   "contact_email": client.contact_email, "phone": client.phone,
                   "preferred_contact": client.preferred_contact,
                   "time_zone": client.time_zone,
                   "created_at": _at(client.created_at), "erased_at": _at(client.erased_at)},
        "cases": [_case(case) for case in cases],
        "portal_account": _portal_account(client),
        "audit_events": _audit_events(client),
    }


def _case(case: Case) -> dict:
    sessions = list(case.sessions.all())
    return {
        "id": case.pk,
        "therapist": {"id": case.therapist_id, "name": case.therapist.display_name},
        "modality": case.modality, "status": case.status,
        "start_date": _at(case.start_date), "end_date": _at(case.end_date),
        "created_at": _at(case.created_at),
        "sessions": [{
            "id": s.pk, "number": s.number, "date": _at(s.date), "status": s.status,
            "administrations": [_administration(a) for a in s.administrations.all()],
        } for s in sessions],
        "goals": [_goal(goal) for goal in case.goals.prefetch_related(
            "events", "reviews__session", "tasks__reports__session")],
        "goal_review_requests": [{
            "id": r.pk, "requested_at": _at(r.requested_at), "fulfilled_at": _at(r.fulfilled_at),
        } for r in ReviewRequest.objects.filter(case=case).order_by("requested_at", "pk")],
        "signals": [_signal(signal) for signal in case.signals.select_related("session")
                    .prefetch_related("repair_actions__session", "repair_actions__by")
                    .order_by("created_at", "pk")],
        "portal_feedback": [{"id": f.pk, "text": f.text, "created_at": _at(f.created_at)}
                            for f in case.portal_feedback.order_by("created_at", "pk")],
        "intake": _intake(case),
    }


def _intake(case: Case) -> dict | None:
    intake = Intake.objects.filter(case=case).first()
    if intake is None:
        return None
    return {
        "session": intake.session.number if intake.session else None, "via": intake.via,
        "hopes": intake.hopes, "past_therapy": intake.past_therapy,
        "past_therapy_text": intake.past_therapy_text,
        **{name: getattr(intake, name) for name in PREFERENCES},
        "readiness": intake.readiness, "culture": intake.culture,
        "submitted_at": _at(intake.submitted_at), "updated_at": _at(intake.updated_at),
    }


def _administration(a: Administration) -> dict:
    return {
        "id": a.pk, "instrument": a.instrument_id, "instrument_version": a.instrument_version,
        "respondent": a.respondent, "via": a.via, "created_at": _at(a.created_at),
        "submitted_at": _at(a.submitted_at), "responses": a.responses, "scores": a.scores,
        "answers": a.answers,
        # Link metadata only: the token hash is a credential, never exported.
        "checkin_links": [{
            "id": link.pk, "created_at": _at(link.created_at), "expires_at": _at(link.expires_at),
            "used_at": _at(link.used_at), "revoked_at": _at(link.revoked_at),
            "state": link.state(),
        } for link in a.links.all()],
    }


def _agreement(item) -> dict:
    return {
        "proposed_by": item.proposed_by, "proposed_at": _at(item.proposed_at),
        "client_confirmed_at": _at(item.client_confirmed_at),
        "therapist_confirmed_at": _at(item.therapist_confirmed_at),
        "status": item.status, "status_changed_at": _at(item.status_changed_at),
    }


def _goal(goal: Goal) -> dict:
    return {
        "id": goal.pk, "text": goal.text, **_agreement(goal),
        "revised_at": _at(goal.revised_at), "first_agreed_at": _at(goal.first_agreed_at),
        "history": [{"kind": e.kind, "side": e.side, "task_id": e.task_id,
                     "old_text": e.old_text, "new_text": e.new_text, "at": _at(e.at)}
                    for e in goal.events.all()],
        "reviews": [{"id": r.pk, "side": r.side, "rating": r.rating,
                     "session_number": _number(r.session), "created_at": _at(r.created_at)}
                    for r in goal.reviews.all()],
        "tasks": [_task(task) for task in goal.tasks.all()],
    }


def _task(task: Task) -> dict:
    return {
        "id": task.pk, "what": task.what, "how_often": task.how_often,
        "until": _at(task.until), **_agreement(task),
        "reports": [{"id": r.pk, "done": r.done, "helpful": r.helpful, "side": r.side,
                     "session_number": _number(r.session), "created_at": _at(r.created_at)}
                    for r in task.reports.all()],
    }


def _signal(signal: Signal) -> dict:
    return {
        "id": signal.pk, "type": signal.type, "session_number": _number(signal.session),
        "subject": signal.subject, "rule": signal.rule, "parameters": signal.parameters,
        "data": signal.data, "explanation": signal.explanation, "state": signal.state,
        "dismiss_reason": signal.dismiss_reason, "repair_state": signal.repair_state,
        "is_current": signal.is_current, "created_at": _at(signal.created_at),
        "updated_at": _at(signal.updated_at),
        "repair_actions": [{
            "id": r.pk, "kind": r.kind, "showed_as": r.showed_as, "note": r.note,
            "session_number": _number(r.session), "by": r.by.display_name,
            "created_at": _at(r.created_at),
        } for r in signal.repair_actions.all()],
        **({"risk_response": _risk_response(signal)} if signal.type == Signal.Type.RISK else {}),
    }


def _risk_response(signal: Signal) -> dict | None:
    alert = RiskAlert.objects.filter(signal=signal).select_related("responded_by").first()
    if alert is None:
        return None
    return {"raised_at": _at(alert.raised_at), "escalations": alert.escalations,
            "responded_at": _at(alert.responded_at), "response": alert.response,
            "note": alert.response_note,
            "by": alert.responded_by.display_name if alert.responded_by else None}


def _portal_account(client: Client) -> dict | None:
    account = ClientAccount.objects.select_related("user").filter(client=client).first()
    if account is None:
        return None
    user = account.user
    return {
        "username": user.get_username(), "email": user.email, "is_active": user.is_active,
        "has_password": user.has_usable_password(), "last_login": _at(user.last_login),
        "invited_at": _at(account.invited_at), "access_removed_at": _at(account.access_removed_at),
        # When sign-in links were sent and used; the token hashes are never exported.
        "sign_in_links": [{"created_at": _at(link.created_at), "expires_at": _at(link.expires_at),
                           "used_at": _at(link.used_at)}
                          for link in account.sign_in_links.order_by("created_at", "pk")],
    }


def _audit_filter(client: Client) -> Q:
    about = Q(client_id=client.pk)
    user_id = ClientAccount.objects.filter(client=client).values_list("user_id", flat=True).first()
    if user_id is not None:
        about |= Q(actor_id=user_id)  # what the client did in the portal
    return about


def _audit_events(client: Client) -> list[dict]:
    if not apps.is_installed("alliance.web.audit"):
        return []
    from alliance.web.audit.models import Event

    events = Event.objects.filter(_audit_filter(client)).order_by("id")
    return [{"id": e.id, "at": _at(e.at), "action": e.action, "outcome": e.outcome,
             "actor": e.actor_name, "target_type": e.target_type, "target_id": e.target_id,
             "detail": e.detail} for e in events]


# -- Erasure ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Erased:
    client: Client
    pseudonym: str
    cases_closed: int


def new_pseudonym(clinic) -> str:
    """A random code, unique in the clinic, that says the client's data were erased."""
    while True:
        code = PSEUDONYM_PREFIX + secrets.token_hex(5)
        if not Client.objects.filter(clinic=clinic, code=code).exists():
            return code


def _scrub(value):
    """`value` (a signal's data) without the words it quotes."""
    if isinstance(value, dict):
        return {k: (REMOVED if k in _WORDED_KEYS and isinstance(v, str) else _scrub(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


@transaction.atomic
def erase_client(client: Client, *, confirm_code: str) -> Erased:
    """Erase what identifies the client and what they or their therapist wrote; keep scores,
    dates and the structure of the care under a new random pseudonym (docs/privacy.md).

    `confirm_code` must be the client's current code: erasure cannot be undone.
    """
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.erased_at is not None:
        raise PrivacyError("This client's data have already been erased.")
    if confirm_code.strip() != client.code:
        raise PrivacyError("Type the client's code exactly to confirm the erasure.")
    cases = Case.objects.filter(client=client)
    administrations = Administration.objects.filter(session__case__in=cases)
    # Free text, everywhere it is stored.
    administrations.update(answers=None)
    CheckinLink.objects.filter(administration__in=administrations).delete()
    goals = Goal.objects.filter(case__in=cases)
    goals.update(text=REMOVED)
    GoalEvent.objects.filter(goal__in=goals).update(old_text="", new_text="")
    Task.objects.filter(goal__in=goals).update(what=REMOVED, how_often="")
    signals = Signal.objects.filter(case__in=cases)
    # A feedback signal is the client's words and nothing else.
    signals.filter(type=Signal.Type.CLIENT_FEEDBACK).delete()
    RepairAction.objects.filter(signal__in=signals).update(note="")
    signals.exclude(dismiss_reason="").update(dismiss_reason=REMOVED)
    for signal in signals.filter(type__in=_WORDED_SIGNALS).only("pk", "type", "data"):
        Signal.objects.filter(pk=signal.pk).update(
            explanation=f"{signal.get_type_display()} (its wording was removed at the "
                        "client's request).", data=_scrub(signal.data))
    # A risk signal and its response stay (what was done, by whom, when; the audit trail
    # keeps its own record): only the words go, the comment quoted and the note written.
    RiskAlert.objects.filter(signal__in=signals).update(response_note="")
    for signal in signals.filter(type=Signal.Type.RISK, rule="phrase_list").only("pk", "data"):
        Signal.objects.filter(pk=signal.pk).update(
            explanation="A comment contained a phrase on the clinic's list (its wording was "
                        "removed at the client's request).", data=_scrub(signal.data),
            parameters={})
    ClientFeedback.objects.filter(case__in=cases).delete()
    Intake.objects.filter(case__in=cases).update(hopes="", past_therapy_text="", culture="")
    _remove_portal_account(client)
    # The care is over: an active case is closed today (or on its start date, if later).
    today = timezone.localdate()
    closed = 0
    for case in cases.filter(status=Case.Status.ACTIVE):
        case.status, case.end_date = Case.Status.CLOSED, max(today, case.start_date)
        case.save(update_fields=["status", "end_date"])
        closed += 1
    pseudonym = new_pseudonym(client.clinic)
    client.code, client.contact_email, client.erased_at = pseudonym, "", timezone.now()
    client.name, client.phone, client.time_zone = "", "", ""
    client.save(update_fields=["code", "contact_email", "name", "phone", "time_zone",
                               "erased_at"])
    return Erased(client=client, pseudonym=pseudonym, cases_closed=closed)


def _remove_portal_account(client: Client) -> None:
    account = ClientAccount.objects.select_related("user").filter(client=client).first()
    if account is None:
        return
    user = account.user
    names = {user.get_username(), user.email} - {""}
    account.sign_in_links.all().delete()
    account.delete()
    if apps.is_installed("axes"):
        # Failed sign-ins name the address or user name that was typed.
        for name in ("AccessAttempt", "AccessLog", "AccessFailureLog"):
            apps.get_model("axes", name).objects.filter(username__in=names).delete()
    user.delete()

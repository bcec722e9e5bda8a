"""Risk answers reach a person at once (docs/safety.md).

`check_submission` is the one check every submitted form passes, whichever way it came
(a check-in link, in the room, the therapist's form, the API, the portal's comments): it is
called from `checkins.services` inside the transaction that stores the answers. A risk
answer (an item's answer at or above its `risk_at`, a fact of the instrument) or, when the
clinic keeps a list, a listed phrase in a comment, becomes

- a risk signal (stored here, never by the detectors' recomputation) that stands first on
  the caseload and the case page and stays open until a response is recorded;
- a notice to the treating therapist and the clinic's on-call contacts, planned in the
  outbox and sent at once after the commit (the worker sends any that did not go out);
- escalation: with no response after the clinic's interval, the on-call contacts, the
  therapist and the therapist's supervisors are told again, every interval until answered
  (`escalate_due`, a periodic job of the worker).

An import of old history marks the signal but tells nobody (`notify=False`).
Notices hold no clinical content: that a check-in needs urgent review, and a link.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, timedelta

from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from alliance.core.errors import AllianceError
from alliance.core.instruments import text_in
from alliance.web import instruments
from alliance.web.audit.services import record_change
from alliance.web.checkins import services as checkins
from alliance.web.clinics.models import Clinic, StaffMember
from alliance.web.errors import DomainError
from alliance.web.monitoring.models import Signal
from alliance.web.outreach import channels
from alliance.web.outreach import services as outreach
from alliance.web.outreach.models import Message
from alliance.web.safety.models import ClinicSafety, RiskAlert

logger = logging.getLogger(__name__)

#: The project's own safety question (asked with every check-in when switched on).
SAFETY_QUESTION = checkins.SAFETY_QUESTION
ESCALATION_JOB = "safety-escalation"
ESCALATION_CHECK_EVERY = timedelta(minutes=5)
RESPONSE_NOTE_LENGTH = 2000
# Responses that say too little without a few words of what happened.
NOTE_NEEDED = {RiskAlert.Response.OTHER, RiskAlert.Response.NOT_REACHED,
               RiskAlert.Response.NO_CURRENT_RISK}


class SafetyError(DomainError):
    """A response that cannot be recorded (who, state or content)."""


def settings_for(clinic: Clinic) -> ClinicSafety:
    """The clinic's safety settings (the defaults, unsaved, until an admin saves them)."""
    found = ClinicSafety.objects.filter(clinic=clinic).first()
    return found or ClinicSafety(clinic=clinic)


# --------------------------------------------------------------------------- finding

def _phrase_pattern(phrase: str) -> re.Pattern:
    words = [re.escape(w) for w in phrase.split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", re.IGNORECASE)


def matching_phrases(text: str, phrases: list[str]) -> list[str]:
    """The listed phrases `text` contains as whole words, ignoring case and spacing.

    >>> matching_phrases("I can't go on like this", ["go on", "hopeless"])
    ['go on']
    >>> matching_phrases("a gone case", ["go"])
    []
    """
    return [p for p in phrases if p.strip() and _phrase_pattern(p).search(text or "")]


def _answer_label(instrument, item_id: str, value) -> str:
    scale = instrument.scale_of(item_id)
    for anchor in getattr(scale, "anchors", ()):
        if anchor.value == value:
            label = text_in(anchor.label, instruments.LANGUAGE, *instrument.languages)
            if label:
                return f"{value:g} (“{label}”)"
    return f"{value:g}"


def _answer_findings(administration, instrument) -> list[dict]:
    responses = administration.responses or {}
    return [{"item": item_id, "answer": responses[item_id],
             "threshold": instrument.risk_items[item_id],
             "label": _answer_label(instrument, item_id, float(responses[item_id]))}
            for item_id in instrument.risk_answers(responses)]


def _signal(case, session, *, subject: str, rule: str, parameters: dict, data: dict,
            explanation: str) -> tuple[Signal, bool]:
    return Signal.objects.get_or_create(
        case=case, session=session, type=Signal.Type.RISK, subject=subject[:64],
        defaults={"rule": rule, "parameters": parameters, "data": data,
                  "explanation": explanation})


def check_submission(administrations, *, notify: bool = True, now: datetime | None = None
                     ) -> list[RiskAlert]:
    """Raise a risk alert for each submitted form with a risk answer (or a listed phrase in
    a client's comment). Call inside the transaction that stores the answers: the alert,
    its signal and the planned notices are stored with them, or not at all; the notices go
    out after the commit. Returns the alerts raised now (none twice for one form)."""
    now = now or timezone.now()
    raised = []
    phrases_of: dict[int, list[str]] = {}
    for administration in administrations:
        if not administration.is_submitted:
            continue
        try:
            instrument = instruments.get_instrument(administration.instrument_id)
        except AllianceError:
            continue
        session = administration.session
        case = session.case
        clinic = case.client.clinic
        findings = _answer_findings(administration, instrument)
        if findings:
            items = ", ".join(f"{f['item']} answered {f['label']}" for f in findings)
            raised.append(_raise(case, session, RiskAlert.Reason.ANSWER, now, notify,
                                 subject=instrument.id, rule="risk_item",
                                 parameters={"instrument": instrument.id,
                                             "thresholds": {f["item"]: f["threshold"]
                                                            for f in findings}},
                                 data={"instrument": instrument.id, "answers": findings},
                                 explanation=f"{instrument.name}: {items}, at or above the "
                                             "level at which the instrument asks for an "
                                             "urgent review."))
        if administration.respondent != "client" or not administration.answers:
            continue
        if clinic.pk not in phrases_of:
            phrases_of[clinic.pk] = settings_for(clinic).keyword_list
        for question_id, text in sorted(administration.answers.items()):
            found = matching_phrases(text, phrases_of[clinic.pk])
            if found:
                raised.append(_raise_phrases(case, session, f"phrase:{instrument.id}:"
                                             f"{question_id}", text, found, now, notify))
    return [alert for alert in raised if alert is not None]


def check_comment(case, text: str, *, key: str, session=None,
                  now: datetime | None = None) -> RiskAlert | None:
    """A client's words outside a form's open questions (the portal, the intake): the
    clinic's listed phrases. With `session`, the alert belongs to it (the check-in's next
    page then shows the crisis text)."""
    found = matching_phrases(text, settings_for(case.client.clinic).keyword_list)
    if not found:
        return None
    return _raise_phrases(case, session, f"phrase:{key}", text, found, now or timezone.now(),
                          True)


def _raise_phrases(case, session, subject, text, found, now, notify) -> RiskAlert | None:
    quoted = ", ".join(f"“{p}”" for p in found)
    return _raise(case, session, RiskAlert.Reason.PHRASE, now, notify, subject=subject,
                  rule="phrase_list", parameters={"phrases": found},
                  data={"text": text, "phrases": found},
                  explanation=f"A comment contains {quoted}, on the clinic's list of phrases "
                              "to read at once (an aid to reading, not detection).")


def _raise(case, session, reason, now, notify, **signal) -> RiskAlert | None:
    found, created = _signal(case, session, **signal)
    if not created:
        return None  # this form was checked already
    alert = RiskAlert.objects.create(signal=found, clinic=case.client.clinic, reason=reason,
                                     raised_at=now, notify=notify)
    record_change("create", found, by="Alliance (safety check)", clinic=case.client.clinic,
                  detail="risk signal raised" + ("" if notify else " (imported; nobody told)"))
    if notify:
        planned = plan_notices(alert, now)
        # robust: a failure here is logged and never breaks the client's page; what was
        # not sent stays planned for the worker.
        transaction.on_commit(lambda: send_now([m.pk for m in planned]), robust=True)
    return alert


# --------------------------------------------------------------------------- telling

def _email_key(address: str) -> str:
    return hashlib.sha256(address.lower().encode()).hexdigest()[:16]


def recipients(alert: RiskAlert, *, escalation: bool) -> tuple[list[StaffMember], list[str]]:
    """Who is told: the therapist and the on-call contacts; on escalation also the
    therapist's supervisors. Staff once each; an address once, and not when it is a told
    staff member's own."""
    case = alert.signal.case
    safety = settings_for(case.client.clinic)
    staff = [case.therapist]
    if safety.pk:
        staff += list(safety.on_call_staff.filter(is_active=True).select_related("user"))
    if escalation:
        staff += list(case.therapist.supervisors.filter(is_active=True).select_related("user"))
    unique = list({s.pk: s for s in staff if s.is_active}.values())
    own = {s.user.email.lower() for s in unique if s.user.email}
    addresses = []
    for address in safety.email_list if safety.pk else []:
        if address.lower() not in own and address.lower() not in {a.lower() for a in addresses}:
            addresses.append(address)
    return unique, addresses


def _plan_for(alert: RiskAlert, kind: str, prefix: str, escalation: bool, now) -> list[Message]:
    staff, addresses = recipients(alert, escalation=escalation)
    case = alert.signal.case
    planned = [outreach.plan_staff_notice(s, kind=kind, key=f"{prefix}:staff:{s.pk}", case=case,
                                          detail={"signal": alert.signal_id}, due_at=now)
               for s in staff]
    for address in addresses:
        planned.append(outreach._plan(Message(
            clinic=alert.clinic, kind=kind, case=case, key=f"{prefix}:email:{_email_key(address)}",
            detail={"signal": alert.signal_id, "email": address}, due_at=now)))
    return planned


def plan_notices(alert: RiskAlert, now: datetime) -> list[Message]:
    return _plan_for(alert, Message.Kind.RISK, f"risk:signal:{alert.signal_id}", False, now)


def send_now(message_ids: list[int], now: datetime | None = None) -> None:
    """Try to send the notices at once (after the commit); what fails stays for the worker.

    A message claimed here is sent here; one that fails is marked failed and a fresh copy
    is planned for the worker, so a passing fault of the mail server delays it, not loses it.
    """
    now = now or timezone.now()
    for pk in message_ids:
        if not outreach.claim(pk, now):
            continue
        message = Message.objects.select_related("clinic", "to_staff__user", "case").get(pk=pk)
        try:
            status = outreach.send_one(message, now)
        except Exception:  # never let a notice break the client's page
            logger.exception("risk notice %s could not be sent", pk)
            status = Message.Status.FAILED
        if status == Message.Status.FAILED:
            _retry_later(message, now)


def _retry_later(message: Message, now: datetime) -> None:
    number = Message.objects.filter(key__startswith=message.key + ":retry").count() + 1
    outreach._plan(Message(clinic=message.clinic, kind=message.kind, case=message.case,
                           to_staff=message.to_staff, detail=message.detail,
                           key=f"{message.key}:retry:{number}"[:120],
                           due_at=now + timedelta(minutes=1)))


def send_notice(message: Message, now: datetime) -> str:
    """The outbox's sender of risk notices and escalations (no clinical content)."""
    alert = (RiskAlert.objects.select_related("clinic")
             .filter(signal_id=(message.detail or {}).get("signal")).first())
    if alert is None:
        raise outreach.NotSent("The record it was about no longer exists.")
    if not alert.is_open and message.kind == Message.Kind.ESCALATION:
        raise outreach.NotSent("A response was recorded.")
    to = message.to_staff.user.email if message.to_staff_id else message.detail.get("email", "")
    if message.to_staff_id and not message.to_staff.is_active:
        raise outreach.NotSent("The staff member is no longer active.")
    if not to:
        raise outreach.NotSent("No e-mail address.")
    escalation = message.kind == Message.Kind.ESCALATION
    minutes = settings_for(alert.clinic).escalation_minutes
    context = {"clinic": alert.clinic.name, "escalation": escalation,
               "name": message.to_staff.display_name if message.to_staff_id else "",
               "waiting": _duration(now - alert.raised_at), "minutes": _duration(
                   timedelta(minutes=minutes)),
               "url": outreach.site_url(reverse("safety:alert", args=[alert.pk]))}
    subject = ("Alliance: urgent review still needed (no response recorded)" if escalation
               else "Alliance: a check-in needs urgent review")
    channels.send_email(to=to, subject=subject,
                        text=render_to_string("safety/email/notice.txt", context),
                        html=render_to_string("safety/email/notice.html", context),
                        clinic_name=alert.clinic.name)
    return "E-mailed."


def _duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours, rest = divmod(minutes, 60)
    text = f"{hours} hour{'s' if hours != 1 else ''}"
    return text + (f" {rest} minutes" if rest else "")


# --------------------------------------------------------------------------- escalating

def escalate_due(now: datetime) -> str:
    """Plan the next escalation of every alert still without a response whose interval has
    passed again (escalation n after n intervals; one per interval, however often this
    runs: the outbox's unique keys `escalation:signal:{pk}:{n}:…`)."""
    planned = 0
    minutes_of: dict[int, int] = {}
    for alert in (RiskAlert.objects.filter(responded_at__isnull=True, notify=True)
                  .select_related("signal__case__therapist__user", "signal__case__client__clinic",
                                  "clinic")):
        if alert.clinic_id not in minutes_of:
            minutes_of[alert.clinic_id] = settings_for(alert.clinic).escalation_minutes
        interval = timedelta(minutes=minutes_of[alert.clinic_id])
        due = int((now - alert.raised_at) / interval)
        if due <= alert.escalations:
            continue
        with transaction.atomic():
            if RiskAlert.objects.filter(pk=alert.pk, escalations__lt=due,
                                        responded_at__isnull=True).update(escalations=due) != 1:
                continue  # another worker took it, or a response came in
            _plan_for(alert, Message.Kind.ESCALATION,
                      f"escalation:signal:{alert.signal_id}:{due}", True, now)
            record_change("update", alert.signal, by="Alliance (escalation)", clinic=alert.clinic,
                          detail=f"risk signal escalated ({due}), no response recorded")
        planned += 1
    return f"{planned} risk alerts escalated"


# --------------------------------------------------------------------------- responding

def may_respond(alert: RiskAlert, staff: StaffMember) -> bool:
    """The case's therapist, their supervisors and the clinic's on-call staff."""
    case = alert.signal.case
    if staff.clinic_id != alert.clinic_id or not staff.is_active:
        return False
    if case.therapist_id == staff.pk:
        return True
    if case.therapist.supervisors.filter(pk=staff.pk).exists():
        return True
    safety = settings_for(alert.clinic)
    return bool(safety.pk) and safety.on_call_staff.filter(pk=staff.pk).exists()


def record_response(alert: RiskAlert, *, by: StaffMember, response: str, note: str = "",
                    now: datetime | None = None) -> RiskAlert:
    """What was done about a risk alert, by whom, when. Closes the signal, stops the
    escalation, and is recorded in the audit trail (which keeps it after an erasure)."""
    now = now or timezone.now()
    if not may_respond(alert, by):
        raise SafetyError("Only the therapist, their supervisors and the on-call staff can "
                          "record a response.")
    if response not in RiskAlert.Response.values:
        raise SafetyError("Please choose what was done.")
    note = (note or "").strip()
    if response in NOTE_NEEDED and not note:
        raise SafetyError("Please say in a few words what was done, or why no more is needed.")
    if len(note) > RESPONSE_NOTE_LENGTH:
        raise SafetyError(f"Please keep the note under {RESPONSE_NOTE_LENGTH} characters.")
    with transaction.atomic():
        if RiskAlert.objects.filter(pk=alert.pk, responded_at__isnull=True).update(
                responded_at=now, responded_by=by, response=response, response_note=note) != 1:
            raise SafetyError("A response was already recorded.")
        Signal.objects.filter(pk=alert.signal_id).update(state=Signal.State.RESOLVED,
                                                         changed_by=by, updated_at=now)
        (Message.objects.planned()
         .filter(key__startswith=f"escalation:signal:{alert.signal_id}:")
         .update(status=Message.Status.CANCELLED, outcome="A response was recorded."))
        label = RiskAlert.Response(response).label
        record_change("update", alert.signal, by=by, clinic=alert.clinic,
                      detail=f"risk response recorded: {label} (at {now:%Y-%m-%d %H:%M} UTC)")
    alert.refresh_from_db()
    return alert


def open_alerts_for_supervisor(staff: StaffMember):
    """Open risk alerts on the active cases of a supervisor's supervisees."""
    return (RiskAlert.objects.filter(responded_at__isnull=True,
                                     signal__case__therapist__in=staff.supervisees.all())
            .select_related("signal__case__client", "signal__case__therapist",
                            "signal__session").order_by("raised_at"))


def crisis_text(clinic: Clinic | None) -> str:
    if clinic is None:
        return ClinicSafety(clinic=None).crisis_text_shown
    return settings_for(clinic).crisis_text_shown


def session_has_alert(session_id: int) -> bool:
    """True when a form of this session raised a risk alert (the client's next page shows
    the crisis text)."""
    return RiskAlert.objects.filter(signal__session_id=session_id,
                                    signal__type=Signal.Type.RISK).exists()

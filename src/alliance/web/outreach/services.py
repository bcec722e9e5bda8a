"""The outbox: planning messages, and sending the ones that are due, each exactly once.

Planning creates a `Message` row with the time it is due and a unique `key` (one per
purpose), so planning twice finds the first. Sending claims a due row with one conditional
UPDATE (planned → sending): of several workers, exactly one changes the row and sends it.
A row left "sending" by a worker that died is marked failed after `STALE_AFTER`, never sent
again: a message sent twice is worse than one the therapist sees was not delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alliance.web import languages, localtime
from alliance.web.care.models import Case, Session
from alliance.web.checkins import services as checkins
from alliance.web.checkins.models import Administration
from alliance.web.clinics.models import StaffMember
from alliance.web.errors import DomainError
from alliance.web.outreach import channels, plans, timing
from alliance.web.outreach.channels import DeliveryFailed
from alliance.web.outreach.models import Channel, Message, NoticePreference

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=15)
# A session recorded this long after it took place gets no automatic check-in: the client
# would be asked about a session long past.
LATE_RECORDING = timedelta(days=3)
BATCH = 200


class NotSent(DomainError):
    """The message is no longer needed (answered, case ended, opted out): cancelled."""


def _plan(message: Message) -> Message:
    try:
        with transaction.atomic():
            message.save()
        return message
    except IntegrityError:  # planned already (a second worker, a repeated event)
        return Message.objects.get(key=message.key)


def site_url(path: str) -> str:
    return settings.BASE_URL + path


# --- check-ins to clients ------------------------------------------------------------------

def plan_checkin(session: Session, now: datetime | None = None) -> Message | None:
    """After an attended session is recorded: its check-in, when the plan sends by itself.

    Due at once, or after the plan's delay, moved out of the client's quiet hours. A client
    who opted out gets none; the row says so, for the therapist.
    """
    now = now or timezone.now()
    case = session.case
    plan = plans.plan_for(case)
    if not (plan.is_automatic and session.attended and case.is_active):
        return None
    if session.date < (now - LATE_RECORDING).date():
        return None
    if not plans.instruments_asked(session, plan):
        return None
    return _plan_client_checkin(session, plan, f"checkin:session:{session.pk}", now)


def _plan_client_checkin(session: Session, plan, key: str, now: datetime,
                         detail: dict | None = None) -> Message:
    """A check-in message due after the plan's delay, out of the client's quiet hours; for a
    client who opted out, a row that says so (for the therapist), never sent."""
    client = session.case.client
    channel = plans.channel_for(client, plan)
    message = Message(clinic=client.clinic, kind=Message.Kind.CHECKIN, session=session,
                      case=session.case, to_client=client, key=key,
                      channel=channel or plan.channel, detail=detail or {})
    if channel is None:
        message.status, message.due_at = Message.Status.CANCELLED, now
        message.outcome = "The client asked not to be contacted."
    else:
        due = now + timedelta(hours=plan.delay_hours)
        message.due_at = timing.outside_quiet_hours(due, plans.zone_of(client), plan.quiet_hours)
    return _plan(message)


def plan_closing_checkin(case: Case, now: datetime | None = None) -> Message | None:
    """When a case ends: the questionnaires the plan asks "at the session that ends the
    case" and not yet answered at its last attended session, as one more check-in."""
    now = now or timezone.now()
    plan = plans.plan_for(case)
    if not plan.is_automatic or not any(rule.get("last") for rule in plan.schedule.values()):
        return None
    session = (case.sessions.filter(status=Session.Status.ATTENDED).order_by("-number")
               .first())
    if session is None or session.date < (now - LATE_RECORDING).date():
        return None
    if not _closing_questionnaires(session, plan):
        return None
    return _plan_client_checkin(session, plan, f"checkin:closing:{case.pk}", now,
                                detail={"closing": True})


def _closing_questionnaires(session: Session, plan) -> list[str]:
    answered = set(Administration.objects.filter(session=session, respondent="client",
                                                 submitted_at__isnull=False)
                   .values_list("instrument_id", flat=True))
    return [i for i in plans.instruments_asked(session, plan, last=True)
            if plan.schedule.get(i, {}).get("last") and i not in answered]


def _plan_reminders(message: Message, plan, expires_at: datetime, now: datetime) -> None:
    client = message.to_client
    after = timedelta(hours=plan.reminder_after_hours)
    for number in range(1, plan.reminders + 1):
        due = timing.outside_quiet_hours(now + number * after, plans.zone_of(client),
                                         plan.quiet_hours)
        if due >= expires_at:
            break
        _plan(Message(clinic=message.clinic, kind=Message.Kind.REMINDER, channel=message.channel,
                      session=message.session, case=message.case, to_client=client,
                      key=f"reminder:session:{message.session_id}:{number}", due_at=due,
                      detail=message.detail))


def send_link(issued: checkins.IssuedLink, channel: str, *, reminder: bool = False) -> str:
    """Send a check-in link to the client on `channel`, in the client's language; returns
    where it went, in words (for staff)."""
    with translation.override(languages.of_client(issued.administration.session.case.client)):
        return _send_link(issued, channel, reminder=reminder)


def _send_link(issued: checkins.IssuedLink, channel: str, *, reminder: bool) -> str:
    session = issued.administration.session
    case = session.case
    client = case.client
    problem = plans.address_problem(client, channel)
    if problem:
        raise DeliveryFailed(problem)
    zone = plans.zone_of(client)
    context = {"clinic": client.clinic.name, "therapist": case.therapist.display_name,
               "session_date": localtime.format_date(session.date, style="long"),
               "url": site_url(issued.path),
               "expires": localtime.format_datetime(issued.link.expires_at, tz=zone),
               "reminder": reminder,
               "reply_to": plans.messaging(client.clinic).reply_to}
    if channel == Channel.SMS:
        settings_ = plans.messaging(client.clinic)
        text = (_("%(clinic)s: Reminder: %(therapist)s asks how your session went. A few "
                  "questions: %(url)s (until %(expires)s)") if reminder else
                _("%(clinic)s: %(therapist)s asks how your session went. A few questions: "
                  "%(url)s (until %(expires)s)")) % context
        channels.post_webhook(settings_.sms_webhook_url, settings_.sms_webhook_secret,
                              {"to": client.phone, "text": text, "kind": "checkin",
                               "clinic": client.clinic.name})
        return "Sent as a text message."
    subject = (_("Reminder: %(clinic)s: a short check-in about your session with "
                 "%(therapist)s") if reminder else
               _("%(clinic)s: a short check-in about your session with %(therapist)s")
               ) % context
    channels.send_email(to=client.contact_email, subject=subject,
                        text=render_to_string("outreach/email/checkin.txt", context),
                        html=render_to_string("outreach/email/checkin.html", context),
                        clinic_name=client.clinic.name, reply_to=context["reply_to"])
    return "E-mailed."


def record_sent_by_hand(issued: checkins.IssuedLink, channel: str, by: StaffMember) -> Message:
    """Send a link the therapist created now, and keep the record of it like the others."""
    session = issued.administration.session
    now = timezone.now()
    message = _plan(Message(clinic=session.case.client.clinic, kind=Message.Kind.CHECKIN,
                            channel=channel, session=session, case=session.case,
                            to_client=session.case.client, key=f"checkin:link:{issued.link.pk}",
                            due_at=now, status=Message.Status.SENDING, claimed_at=now))
    try:
        outcome, status = send_link(issued, channel), Message.Status.SENT
    except DeliveryFailed as exc:
        outcome, status = str(exc), Message.Status.FAILED
    Message.objects.filter(pk=message.pk).update(status=status, outcome=outcome,
                                                 sent_at=now if status == "sent" else None)
    message.status, message.outcome = status, outcome
    return message


def _send_checkin(message: Message, now: datetime) -> str:
    session = message.session
    case = session.case
    closing = bool(message.detail.get("closing"))
    if case.client.erased_at is not None:
        raise NotSent("The client's data were erased.")
    if not case.is_active and not closing:
        raise NotSent("The case has ended.")
    plan = plans.plan_for(case)
    channel = plans.channel_for(case.client, plan)
    if channel is None:
        raise NotSent("The client asked not to be contacted.")
    if message.kind == Message.Kind.CHECKIN:
        asked = (_closing_questionnaires(session, plan) if closing
                 else plans.instruments_asked(session, plan))
        if not asked:
            raise NotSent("The measurement plan asks nothing at this session.")
        try:
            issued = checkins.issue_link(session, asked[0], by=None, only=asked, now=now)
        except checkins.CheckinNotPossible as exc:
            raise NotSent(str(exc)) from None
    else:
        if not checkins.is_open(session):
            raise NotSent("The check-in was answered.")
        issued = checkins.another_link(session, now)
        if issued is None:
            raise NotSent("The check-in link has expired.")
    outcome = send_link(issued, channel, reminder=message.kind == Message.Kind.REMINDER)
    if message.kind == Message.Kind.CHECKIN:
        _plan_reminders(message, plan, issued.link.expires_at, now)
    return outcome


def checkin_answered(session: Session) -> int:
    """The session's check-in was answered: reminders still planned are not needed."""
    if checkins.is_open(session):
        return 0
    return (Message.objects.planned()
            .filter(session=session, kind__in=[Message.Kind.CHECKIN, Message.Kind.REMINDER])
            .update(status=Message.Status.CANCELLED, outcome="The check-in was answered."))


def case_ended(case: Case) -> Message | None:
    """The case ended: its planned check-ins and reminders are not sent; the closing
    check-in, if the plan asks one, is planned."""
    (Message.objects.planned()
     .filter(case=case, kind__in=[Message.Kind.CHECKIN, Message.Kind.REMINDER])
     .update(status=Message.Status.CANCELLED, outcome="The case has ended."))
    return plan_closing_checkin(case)


# --- notices to staff ----------------------------------------------------------------------

def preference(staff: StaffMember) -> NoticePreference:
    found = NoticePreference.objects.filter(staff=staff).first()
    return found or NoticePreference(staff=staff)


def plan_staff_notice(staff: StaffMember, *, kind: str, key: str, case: Case | None = None,
                      detail: dict | None = None, due_at: datetime | None = None) -> Message:
    return _plan(Message(clinic=staff.clinic, kind=kind, to_staff=staff, case=case, key=key,
                         detail=detail or {}, due_at=due_at or timezone.now()))


def send_staff_email(staff: StaffMember, subject: str, lines: list[str], path: str) -> str:
    """E-mail a staff member a short notice with a link into Alliance (no clinical content)."""
    if not staff.is_active or not staff.user.email:
        raise NotSent("The staff member is no longer active.")
    context = {"name": staff.display_name, "lines": lines, "url": site_url(path),
               "clinic": staff.clinic.name}
    channels.send_email(to=staff.user.email, subject=subject,
                        text=render_to_string("outreach/email/staff.txt", context),
                        html=render_to_string("outreach/email/staff.html", context),
                        clinic_name=staff.clinic.name)
    return "E-mailed."


# A rupture is news when the answers it comes from arrived this recently (an import of old
# history, or a recomputation after a rule change, notifies nobody).
NEWS_WITHIN = timedelta(days=2)


def plan_rupture_notices(signals, now: datetime | None = None) -> int:
    """E-mail notices of new ruptures to therapists who asked for them."""
    now = now or timezone.now()
    ruptures = [s for s in signals if s.type == "rupture" and s.session_id and s.pk]
    if not ruptures:
        return 0
    recent = set(Administration.objects.filter(
        session_id__in=[s.session_id for s in ruptures], respondent="client",
        submitted_at__gte=now - NEWS_WITHIN).values_list("session_id", flat=True))
    # Only the news: a clinic-wide recomputation finds thousands of old ruptures.
    ruptures = [s for s in ruptures if s.session_id in recent]
    if not ruptures:
        return 0
    cases = {c.pk: c for c in Case.objects.filter(pk__in={s.case_id for s in ruptures})
             .select_related("therapist__clinic")}
    planned = 0
    for signal in ruptures:
        case = cases.get(signal.case_id)
        if case is None or not case.is_active:
            continue
        if not preference(case.therapist).rupture_email:
            continue
        plan_staff_notice(case.therapist, kind=Message.Kind.RUPTURE, case=case,
                          key=f"rupture:signal:{signal.pk}", detail={"signal": signal.pk})
        planned += 1
    return planned


def _send_rupture(message: Message, now: datetime) -> str:
    return send_staff_email(
        message.to_staff, "Alliance: a check-in on one of your cases needs your attention",
        ["A possible rupture was found in a recent check-in on one of your cases.",
         "Open the case to read it and plan how to talk about it:"],
        reverse("care:case", args=[message.case_id]))


def _send_digest(message: Message, now: datetime) -> str:
    from alliance.web.outreach.worklist import worklist_for

    since = now - timedelta(days=1)
    work = worklist_for(message.to_staff, since=since, now=now)
    lines = work.summary_lines()
    if not lines:
        raise NotSent("Nothing new since yesterday.")
    return send_staff_email(message.to_staff, "Alliance: your daily digest",
                            ["Since yesterday:", *lines, "Your worklist:"],
                            reverse("outreach:worklist"))


#: What sends each kind of message; other parts of Alliance add their kinds here.
SENDERS: dict[str, Callable[[Message, datetime], str]] = {
    Message.Kind.CHECKIN: _send_checkin,
    Message.Kind.REMINDER: _send_checkin,
    Message.Kind.RUPTURE: _send_rupture,
    Message.Kind.DIGEST: _send_digest,
}


# --- the worker's part ---------------------------------------------------------------------

def claim(message_id: int, now: datetime) -> bool:
    """Take a planned message for sending; True for exactly one caller."""
    return (Message.objects.filter(pk=message_id, status=Message.Status.PLANNED)
            .update(status=Message.Status.SENDING, claimed_at=now)) == 1


def send_one(message: Message, now: datetime) -> str:
    """Send a claimed message and record how it went; returns its new status."""
    sender = SENDERS.get(message.kind)
    try:
        if sender is None:
            raise DeliveryFailed("Alliance does not know how to send this kind of message.")
        outcome, status = sender(message, now), Message.Status.SENT
    except NotSent as exc:
        outcome, status = str(exc), Message.Status.CANCELLED
    except DeliveryFailed as exc:
        outcome, status = str(exc), Message.Status.FAILED
    except Exception:  # a bug must not stop the other messages
        logger.exception("sending message %s failed", message.pk)
        outcome, status = "An error in Alliance stopped it (see the server log).", "failed"
    Message.objects.filter(pk=message.pk).update(
        status=status, outcome=outcome[:300], sent_at=now if status == "sent" else None)
    return status


def send_due(now: datetime | None = None, *, limit: int = BATCH) -> dict[str, int]:
    """Send the messages that are due (oldest first); returns counts by outcome.

    Reads only planned rows by time (a partial index), so the cost follows the number of
    due messages, not the size of the outbox.
    """
    now = now or timezone.now()
    stale = (Message.objects.filter(status=Message.Status.SENDING, claimed_at__lt=now - STALE_AFTER)
             .update(status=Message.Status.FAILED,
                     outcome="Sending was interrupted; not sent again, to avoid sending twice."))
    counts = {"sent": 0, "failed": 0, "cancelled": 0, "interrupted": stale}
    due = list(Message.objects.due(now).order_by("due_at", "pk").values_list("pk", flat=True)[:limit])
    for pk in due:
        if not claim(pk, now):
            continue  # another worker has it
        message = (Message.objects.select_related("clinic", "session__case__client__clinic",
                                                  "session__case__therapist", "to_client",
                                                  "to_staff__user", "case")
                   .get(pk=pk))
        counts[send_one(message, now)] += 1
    return counts

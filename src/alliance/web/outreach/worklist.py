"""The therapist's worklist: what is new since they last looked, and what waits.

For a therapist: new check-ins, new signals needing attention, check-ins left unanswered,
goal reviews due and messages that could not be delivered, on their active cases. A
supervisor also sees their supervisees' ruptures not yet repaired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Max, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from alliance.web.care.models import Case, Session
from alliance.web.checkins.models import CheckinLink
from alliance.web.clinics.models import StaffMember
from alliance.web.monitoring.models import Signal
from alliance.web.outreach.models import Message, NoticePreference

# Unanswered check-ins older than this are old news (disengagement covers them).
UNANSWERED_WINDOW = timedelta(days=14)


@dataclass
class Worklist:
    since: datetime | None
    new_checkins: list = field(default_factory=list)
    new_signals: list = field(default_factory=list)
    unanswered: list = field(default_factory=list)
    reviews_due: list = field(default_factory=list)
    undelivered: list = field(default_factory=list)
    supervisees_ruptures: list = field(default_factory=list)
    # Risk answers waiting for a response that this person may record (always first).
    risks: list = field(default_factory=list)

    @property
    def new_count(self) -> int:
        return len(self.new_checkins) + len(self.new_signals) + len(self.undelivered)

    @property
    def is_empty(self) -> bool:
        return not (self.new_count or self.unanswered or self.reviews_due
                    or self.supervisees_ruptures or self.risks)

    def summary_lines(self) -> list[str]:
        """Counts in words, for the digest (no clinical content)."""
        lines = []
        for items, one, many in (
                (self.risks, "1 check-in needing urgent review",
                 "{} check-ins needing urgent review"),
                (self.new_checkins, "1 new check-in", "{} new check-ins"),
                (self.new_signals, "1 new signal needing attention",
                 "{} new signals needing attention"),
                (self.unanswered, "1 check-in not answered", "{} check-ins not answered"),
                (self.reviews_due, "1 goal review due", "{} goal reviews due"),
                (self.undelivered, "1 message not delivered", "{} messages not delivered"),
                (self.supervisees_ruptures, "1 unrepaired rupture in your supervisees' cases",
                 "{} unrepaired ruptures in your supervisees' cases")):
            if items:
                lines.append(one if len(items) == 1 else many.format(len(items)))
        return lines


def open_risks_for(staff: StaffMember) -> list:
    """Risk alerts without a response that `staff` may answer: on their own cases, their
    supervisees' cases, and every case of the clinic when they are on call."""
    from alliance.web.safety.models import ClinicSafety, RiskAlert

    rows = RiskAlert.objects.filter(clinic_id=staff.clinic_id, responded_at__isnull=True)
    on_call = ClinicSafety.objects.filter(clinic_id=staff.clinic_id,
                                          on_call_staff=staff).exists()
    if not on_call:
        rows = rows.filter(Q(signal__case__therapist=staff)
                           | Q(signal__case__therapist__in=staff.supervisees.all()))
    return list(rows.select_related("signal__case__client", "signal__case__therapist")
                .order_by("raised_at"))


def _cases(staff: StaffMember):
    return Case.objects.filter(therapist=staff, status=Case.Status.ACTIVE)


def new_count(staff: StaffMember) -> int:
    """The header's number: new check-ins, new signals needing attention and undelivered
    messages since the staff member last opened the worklist (else the last week), in one
    query: it runs on every page."""
    cases = _cases(staff)
    since = Coalesce(Subquery(NoticePreference.objects.filter(staff=staff)
                              .values("worklist_seen_at")[:1]),
                     Value(timezone.now() - timedelta(days=7)))
    types = staff.clinic.attention_type_set
    checkins = (Session.objects.filter(case__in=cases, administrations__respondent="client",
                                       administrations__submitted_at__gt=since)
                .annotate(source=Value("checkin")).values_list("source", "pk").distinct()
                .order_by())
    signals = (Signal.objects.needing_attention(types)
               .filter(case__in=cases, is_current=True, created_at__gt=since)
               .annotate(source=Value("signal")).values_list("source", "pk").order_by())
    undelivered = (Message.objects.filter(case__in=cases, status=Message.Status.FAILED,
                                          created_at__gt=since)
                   .annotate(source=Value("message")).values_list("source", "pk").order_by())
    return checkins.union(signals, undelivered, all=True).count()


def worklist_for(staff: StaffMember, *, since: datetime | None,
                 now: datetime | None = None) -> Worklist:
    now = now or timezone.now()
    cases = _cases(staff)
    since_or_week = since or now - timedelta(days=7)
    work = Worklist(since=since)
    # One entry per check-in (a session's forms are answered together).
    work.new_checkins = list(
        Session.objects.filter(case__in=cases, administrations__respondent="client",
                               administrations__submitted_at__gt=since_or_week)
        .annotate(answered_at=Max("administrations__submitted_at"))
        .select_related("case__client").order_by("-answered_at"))
    work.new_signals = list(
        Signal.objects.needing_attention(staff.clinic.attention_type_set)
        .filter(case__in=cases, is_current=True, created_at__gt=since_or_week)
        .select_related("case__client", "session").order_by("-created_at"))
    # Check-ins still waiting whose every link has run out (or was never sent): one per
    # session, however many forms it holds.
    live = CheckinLink.objects.live(now).values("administration__session_id")
    work.unanswered = list(
        Session.objects.filter(case__in=cases, administrations__respondent="client",
                               administrations__submitted_at__isnull=True,
                               administrations__created_at__gt=now - UNANSWERED_WINDOW)
        .exclude(pk__in=live).distinct().select_related("case__client").order_by("-date"))
    work.reviews_due = list(
        Signal.objects.filter(case__in=cases, type=Signal.Type.GOAL_REVIEW_OVERDUE,
                              state=Signal.State.OPEN, is_current=True)
        .select_related("case__client"))
    work.undelivered = list(
        Message.objects.filter(case__in=cases, status=Message.Status.FAILED,
                               created_at__gt=since_or_week)
        .select_related("case__client", "session"))
    work.risks = open_risks_for(staff)
    if staff.is_supervisor:
        work.supervisees_ruptures = list(
            Signal.objects.unrepaired_ruptures()
            .filter(case__therapist__in=staff.supervisees.all(), case__status="active",
                    is_current=True)
            .select_related("case__client", "case__therapist", "session"))
    return work

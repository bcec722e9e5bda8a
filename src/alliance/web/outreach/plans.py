"""The measurement plan that applies to a case, and what it asks at a session."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction

from alliance.web.care.models import Case, Client, Session
from alliance.web.checkins.services import due_instruments
from alliance.web.clinics.models import Clinic
from alliance.web.outreach import timing
from alliance.web.outreach.models import Channel, ClinicMessaging, MeasurementPlan


def clinic_plan(clinic: Clinic) -> MeasurementPlan:
    """The clinic's plan, created with the defaults (sending by hand) on first use."""
    plan = MeasurementPlan.objects.filter(clinic=clinic, case__isnull=True).first()
    if plan is not None:
        return plan
    try:
        with transaction.atomic():
            return MeasurementPlan.objects.create(clinic=clinic)
    except IntegrityError:  # created meanwhile by another request
        return MeasurementPlan.objects.get(clinic=clinic, case__isnull=True)


def plan_for(case: Case) -> MeasurementPlan:
    """The case's own plan if it has one, else the clinic's."""
    own = MeasurementPlan.objects.filter(case=case).first()
    return own or clinic_plan(case.client.clinic)


def messaging(clinic: Clinic) -> ClinicMessaging:
    found = ClinicMessaging.objects.filter(clinic=clinic).first()
    return found or ClinicMessaging(clinic=clinic)


def attended_number(session: Session) -> int:
    """1 for the case's first attended session, 2 for the second, …"""
    return Session.objects.filter(case_id=session.case_id, status=Session.Status.ATTENDED,
                                  number__lte=session.number).count()


def instruments_asked(session: Session, plan: MeasurementPlan, *, last: bool = False
                      ) -> list[str]:
    """Ids of the client questionnaires the plan asks at this (attended) session."""
    number = attended_number(session)
    return [i.id for i in due_instruments(session)
            if timing.asked_at(plan.schedule.get(i.id), number, last=last)]


def channel_for(client: Client, plan: MeasurementPlan) -> str | None:
    """How to reach the client: their preference, else the plan's; None if they opted out."""
    if client.preferred_contact == Client.Contact.NONE:
        return None
    return client.preferred_contact or plan.channel


def address_problem(client: Client, channel: str) -> str:
    """Why the client cannot be reached on `channel` ("" when they can)."""
    if client.erased_at is not None:
        return "The client's data were erased."
    if channel == Channel.EMAIL and not client.contact_email:
        return "No e-mail address is on file."
    if channel == Channel.SMS and not client.phone:
        return "No phone number is on file."
    return ""


def zone_of(client: Client) -> str:
    """The client's time zone, else the clinic's."""
    return client.time_zone or client.clinic.time_zone or settings.TIME_ZONE

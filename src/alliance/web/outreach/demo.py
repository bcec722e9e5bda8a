"""The demo clinic's measurement plan: check-ins go out by themselves."""

from __future__ import annotations

from alliance.web.clinics.models import Clinic, StaffMember
from alliance.web.outreach.models import MeasurementPlan, NoticePreference


def seed_outreach(clinic: Clinic, therapist: StaffMember) -> MeasurementPlan:
    """Automatic sending with the default reminders, and e-mail notices of new ruptures
    for the first therapist. Without quiet hours, so that a session recorded in the demo
    at any hour shows its e-mail at once (the demo prints e-mails instead of sending)."""
    NoticePreference.objects.create(staff=therapist, rupture_email=True, daily_digest=True)
    return MeasurementPlan.objects.create(clinic=clinic, sending=MeasurementPlan.Sending.AUTOMATIC,
                                          quiet_from=None, quiet_until=None)

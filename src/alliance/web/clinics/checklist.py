"""The first-run checklist a new clinic's administrator sees on the staff page.

Each step is done when the database shows it done, not when someone ticks it: there is
nothing to store, and the list goes away by itself once every step is done.

Adding a step (an extension point): append a `Step` to `STEPS` with a `done(clinic, staff)`
that answers from the database, and the name of the page where the step is done. The
order of `STEPS` is the order shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    why: str
    url_name: str
    done: Callable  # (clinic, staff) -> bool


def _has_clinicians(clinic, staff) -> bool:
    from alliance.web.clinics.models import StaffMember

    return StaffMember.objects.filter(
        clinic=clinic, is_active=True,
        role__in=[StaffMember.Role.THERAPIST, StaffMember.Role.SUPERVISOR]).exists()


def _settings_saved(clinic, staff) -> bool:
    # The instruments are chosen on the settings page; saving it once is the evidence.
    from alliance.web.audit.models import Event

    return Event.objects.filter(clinic_id=clinic.pk, action="update", target_type="clinics.clinic",
                                detail__startswith="clinic settings").exists()


def _plan_saved(clinic, staff) -> bool:
    # Saving the plan's page once (even keeping every default) is the evidence.
    from alliance.web.audit.models import Event

    return Event.objects.filter(clinic_id=clinic.pk, action="update",
                                detail="measurement plan saved").exists()


def _crisis_text(clinic, staff) -> bool:
    from alliance.web.safety.models import ClinicSafety

    safety = ClinicSafety.objects.filter(clinic=clinic).first()
    return safety is not None and bool(safety.crisis_text.strip())


def _two_factor(clinic, staff) -> bool:
    from alliance.web.accounts.twofactor import device_of

    return device_of(staff.user) is not None


STEPS: list[Step] = [
    Step("staff", "Add your therapists and supervisors",
         "Each gets an e-mail to set their own password.", "clinics:staff_create",
         _has_clinicians),
    Step("instruments", "Choose the check-ins and review the signal settings",
         "Which questionnaires clients answer, and when a change counts as a signal. "
         "Saving the settings page once marks this done.", "clinics:settings", _settings_saved),
    Step("plan", "Set the measurement plan",
         "Which check-ins go out after which sessions, whether they go by themselves, the "
         "reminders and quiet hours, and how messages reach clients.", "outreach:plan",
         _plan_saved),
    Step("crisis_text", "Write your crisis text and name who is on call",
         "What a client sees at once after a risk answer (your local emergency numbers, how to "
         "reach the clinic out of hours), and who is told.", "safety:clinic", _crisis_text),
    Step("two_factor", "Set up two-factor sign-in for yourself",
         "An administrator's account can add staff and read the audit trail: protect it "
         "with a code from an app on your phone.", "accounts:two_factor_setup", _two_factor),
]


@dataclass(frozen=True)
class ChecklistItem:
    step: Step
    done: bool
    url: str


def checklist(clinic, staff) -> list[ChecklistItem]:
    """The steps with whether each is done; empty once all are (nothing to show)."""
    items = [ChecklistItem(step, bool(step.done(clinic, staff)), reverse(step.url_name))
             for step in STEPS]
    return [] if all(item.done for item in items) else items

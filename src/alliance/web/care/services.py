"""Care operations: admitting a client, opening and ending cases, recording sessions."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from alliance.web import localtime
from alliance.web.care.events import case_ended, session_recorded
from alliance.web.care.models import CLIENT_NAME_MAX_LENGTH, Case, Client, Session
from alliance.web.clinics.models import StaffMember
from alliance.web.errors import DomainError


class CareError(DomainError):
    """A care change that breaks a rule."""


# Letters and digits that cannot be confused with each other when read aloud or copied.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def suggest_client_code(clinic) -> str:
    """A fresh pseudonymous code such as "C-7KQ4M" that is not yet used at the clinic."""
    while True:
        code = "C-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(5))
        if not Client.objects.filter(clinic=clinic, code=code).exists():
            return code


def admit_client(therapist: StaffMember, *, code: str, contact_email: str = "",
                 modality: str, start_date=None, name: str = "") -> Case:
    """Add a client and open their first case with `therapist`, together."""
    if not therapist.can_treat or not therapist.is_active:
        raise CareError("Only active therapists and supervisors can open cases.")
    code = code.strip()
    if not code:
        raise CareError("The client needs a code.")
    try:
        with transaction.atomic():
            client = Client.objects.create(clinic=therapist.clinic, code=code,
                                           contact_email=contact_email.strip(),
                                           name=name.strip())
            return Case.objects.create(
                client=client, therapist=therapist, modality=modality,
                start_date=start_date or localtime.today(therapist.clinic))
    except IntegrityError:
        raise CareError(f"The code {code} is already in use at your clinic; choose another.") \
            from None


def open_case(client: Client, therapist: StaffMember, *, modality: str, start_date=None) -> Case:
    """A further episode of care for a client already known to the clinic."""
    if client.clinic_id != therapist.clinic_id:
        raise CareError("Client and therapist must belong to the same clinic.")
    if client.cases.filter(status=Case.Status.ACTIVE).exists():
        raise CareError("This client already has an active case.")
    return Case.objects.create(client=client, therapist=therapist, modality=modality,
                               start_date=start_date or localtime.today(client.clinic))


def record_session(case: Case, *, date=None, status: str,
                   number: int | None = None, format: str = "") -> Session:  # noqa: A002
    """Add the next session of a case (numbered 1, 2, … unless a number is given), on
    `date` or today where the clinic is; `format` (in person, video, …) blank when not
    recorded."""
    if format and format not in Session.Format.values:
        raise CareError(f"Unknown session format {format!r}; one of "
                        f"{', '.join(Session.Format.values)}.")
    if not case.is_active:
        raise CareError("Sessions can only be recorded for an active case.")
    date = date or localtime.today(case.clinic)
    if date < case.start_date:
        raise CareError("A session cannot be before the case started.")
    try:
        with transaction.atomic():
            session = Session.objects.create(case=case,
                                             number=number or case.next_session_number(),
                                             date=date, status=status, format=format)
    except IntegrityError:
        raise CareError("This session number is already recorded for the case.") from None
    transaction.on_commit(lambda: session_recorded.send(sender=Session, session=session))
    return session


def rename_client(client: Client, name: str) -> None:
    """Set or clear the name kept with a client (the code does not change)."""
    name = " ".join((name or "").split())
    if len(name) > CLIENT_NAME_MAX_LENGTH:
        raise CareError(f"Please keep the name under {CLIENT_NAME_MAX_LENGTH} characters.")
    client.name = name
    client.save(update_fields=["name"])


def reopen_case(case: Case) -> None:
    """Open an ended case again (ended by mistake, or the client came back soon after).

    The client may have one active case at a time: a client with another active case
    keeps this one ended.
    """
    if case.is_active:
        raise CareError("This case is already active.")
    if case.client.erased_at is not None:
        raise CareError("This client's data were erased; the case cannot be reopened.")
    if case.client.cases.filter(status=Case.Status.ACTIVE).exclude(pk=case.pk).exists():
        raise CareError("This client already has another active case.")
    case.status, case.end_date = Case.Status.ACTIVE, None
    case.save(update_fields=["status", "end_date"])


def end_case(case: Case, *, status: str, end_date=None) -> None:
    """Close a case, or record that it ended early."""
    if status not in (Case.Status.CLOSED, Case.Status.DROPPED_OUT):
        raise CareError("Choose how the case ended.")
    end_date = end_date or localtime.today(case.clinic)
    if end_date < case.start_date:
        raise CareError("A case cannot end before it started.")
    case.status = status
    case.end_date = end_date
    case.save(update_fields=["status", "end_date"])
    transaction.on_commit(lambda: case_ended.send(sender=Case, case=case))

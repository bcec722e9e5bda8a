"""Clients, their cases (episodes of care) and sessions.

Views never query these directly: every query for client data goes through
`alliance.web.scoping`, which limits it to what the user may see.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from alliance.web.clinics.models import Clinic, StaffMember
from alliance.web.crypto import EncryptedTextField


#: The longest name (or name the client uses) kept with a client.
CLIENT_NAME_MAX_LENGTH = 120

#: New client codes: letters A–Z, digits, '.', '_' and '-', starting with a letter or digit.
#: Codes end up in file names, headers and spreadsheets; nothing else is needed for a
#: pseudonym. Codes stored before this rule keep working (downloads build safe names).
CLIENT_CODE_MAX_LENGTH = 32
_CLIENT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
CLIENT_CODE_RULE = ("use only letters A–Z, digits, '.', '_' and '-' (no spaces), starting with "
                    "a letter or a digit")


def language_choices() -> list[tuple[str, str]]:
    """The languages a client's pages can be in (settings.LANGUAGES, each named in itself)."""
    return list(settings.LANGUAGES)


def client_code_problem(code: str) -> str | None:
    """Why `code` cannot be a new client code, or None."""
    if not code:
        return "empty client code"
    if len(code) > CLIENT_CODE_MAX_LENGTH:
        return f"a client code has at most {CLIENT_CODE_MAX_LENGTH} characters"
    if not _CLIENT_CODE.fullmatch(code):
        return f"{code!r} is not a valid client code: {CLIENT_CODE_RULE}"
    return None


def validate_client_code(code: str) -> None:
    problem = client_code_problem(code)
    if problem:
        raise ValidationError(problem[0].upper() + problem[1:] + ".")


class Client(models.Model):
    """A person in care, known by a pseudonymous code unique within the clinic."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="clients")
    code = models.CharField(max_length=32, help_text="A pseudonymous code, not the client's name.")
    class Contact(models.TextChoices):
        CLINIC_DEFAULT = "", "As the clinic's measurement plan says"
        EMAIL = "email", "E-mail"
        SMS = "sms", "Text message"
        NONE = "none", "No messages (the client opted out)"

    contact_email = models.EmailField(blank=True, help_text="Used only to send check-in links.")
    # Optional, for the staff who see the case: the code stays the client's identity in
    # every export (research, FHIR, PDFs) and in the audit trail. Encrypted text is longer
    # than what was typed: max_length limits the form only.
    name = EncryptedTextField(max_length=CLIENT_NAME_MAX_LENGTH, blank=True,
                              help_text="The client's name, or the name they use (optional).")
    # Free text at rest (docs/privacy.md); used only to send check-in links by text message.
    phone = EncryptedTextField(blank=True, help_text="Used only to send check-in links.")
    preferred_contact = models.CharField(max_length=8, choices=Contact, blank=True, default="")
    # Quiet hours are kept in the client's time zone; empty: the clinic's.
    time_zone = models.CharField(max_length=64, blank=True)
    # The language of the client's check-ins, portal and e-mails; empty: their browser's
    # (alliance.web.languages).
    language = models.CharField(
        max_length=8, blank=True, default="", choices=language_choices,
        help_text="The language of the client's check-ins, portal and e-mails. Empty: the "
                  "language of their browser.")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the client's data were erased under a pseudonym (docs/privacy.md).
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "code"], name="client_code_unique_in_clinic"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def label(self) -> str:
        """"Sam Rivera (C-7KQ4M)" with a name, else the code: for pages in scope only."""
        return f"{self.name} ({self.code})" if self.name else self.code


class Case(models.Model):
    """An episode of care: one client with one therapist."""

    class Modality(models.TextChoices):
        CBT = "cbt", "CBT"
        PSYCHODYNAMIC = "psychodynamic", "Psychodynamic"
        HUMANISTIC = "humanistic", "Humanistic"
        INTEGRATIVE = "integrative", "Integrative"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"
        DROPPED_OUT = "dropped_out", "Ended early"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="cases")
    therapist = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="cases")
    modality = models.CharField(max_length=16, choices=Modality)
    # The active time zone's day: the clinic's in its requests and tasks (clinics.middleware);
    # care.services gives the clinic's day itself.
    start_date = models.DateField(default=timezone.localdate)
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date", "-pk"]
        indexes = [models.Index(fields=["therapist", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="case_ends_after_it_starts"),
        ]

    def __str__(self) -> str:
        return f"{self.client.code} with {self.therapist.display_name}"

    @property
    def clinic(self) -> Clinic:
        return self.client.clinic

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    def clean(self) -> None:
        if (self.client_id and self.therapist_id
                and self.client.clinic_id != self.therapist.clinic_id):
            raise ValidationError("Client and therapist must belong to the same clinic.")

    def next_session_number(self) -> int:
        last = self.sessions.aggregate(models.Max("number"))["number__max"]
        return (last or 0) + 1


class Session(models.Model):
    """One scheduled session of a case, numbered 1, 2, … within the case."""

    class Status(models.TextChoices):
        ATTENDED = "attended", "Attended"
        CANCELLED = "cancelled", "Cancelled"
        NO_SHOW = "no_show", "Did not attend"

    class Format(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video"
        PHONE = "phone", "Phone"
        TEXT = "text", "Text (chat or messages)"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sessions")
    number = models.PositiveIntegerField()
    date = models.DateField(default=timezone.localdate)   # the clinic's day, as start_date
    status = models.CharField(max_length=12, choices=Status, default=Status.ATTENDED)
    # How the session took place. Blank is "not recorded" (sessions from before the
    # field, imports without it); the session form asks for it with nothing pre-selected.
    format = models.CharField(max_length=10, choices=Format, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"],
                                    name="session_number_unique_in_case"),
            models.CheckConstraint(condition=models.Q(number__gte=1),
                                   name="session_number_positive"),
        ]

    def __str__(self) -> str:
        return f"Session {self.number} ({self.date:%Y-%m-%d})"

    @property
    def attended(self) -> bool:
        return self.status == self.Status.ATTENDED

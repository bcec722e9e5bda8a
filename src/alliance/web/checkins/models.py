"""Administrations (one filled-in form) and the one-time links clients fill them in with."""

from __future__ import annotations

import hashlib
import re

from django.db import models
from django.utils import timezone

from alliance.web.care.models import Session
from alliance.web.clinics.models import StaffMember
from alliance.web.crypto import EncryptedJSONField


class Administration(models.Model):
    """One form of one instrument, for one session and one respondent.

    It exists before it is answered: creating a check-in link creates the pending
    administration the link is bound to. `submitted_at` is set when the answers arrive.
    """

    class Respondent(models.TextChoices):
        CLIENT = "client", "Client"
        THERAPIST = "therapist", "Therapist"

    class Via(models.TextChoices):
        LINK = "link", "Link sent to the client"
        IN_ROOM = "in_room", "In the room, on the clinic's device"
        STAFF = "staff", "Entered by staff"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="administrations")
    instrument_id = models.CharField(max_length=64)
    instrument_version = models.CharField(max_length=32)
    respondent = models.CharField(max_length=12, choices=Respondent)
    via = models.CharField(max_length=12, choices=Via)
    # Item id → answer (a number, or null when skipped).
    responses = models.JSONField(null=True, blank=True)
    # The core scoring engine's result: scores per subscale and total, raw and POMP.
    scores = models.JSONField(null=True, blank=True)
    # Open question id → text, encrypted at rest (what the client wrote).
    answers = EncryptedJSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The language the form was shown in, a BCP 47 tag ("en", "pt-BR"); blank when not
    # recorded (answers from before the field, imports without a language column).
    # Psychometrics split by it to check a translation.
    language = models.CharField(max_length=35, blank=True, default="")

    class Meta:
        ordering = ["session", "instrument_id"]
        constraints = [
            # One form per instrument, respondent and session: a new link re-uses the
            # pending administration instead of collecting a second set of answers.
            models.UniqueConstraint(fields=["session", "instrument_id", "respondent"],
                                    name="one_administration_per_session_instrument_respondent"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} ({self.respondent}) for {self.session}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


def language_tag_problem(text: str) -> str | None:
    """Why `text` is not a BCP 47 language tag of the usual shape ("en", "pt-BR"), or None."""
    if len(text) > 35 or not _LANGUAGE_TAG.fullmatch(text):
        return f"{text!r} is not a language tag such as en, de or pt-BR"
    return None


def hash_token(token: str) -> str:
    """SHA-256 of a link token, as stored. The token itself is never stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class CheckinLinkQuerySet(models.QuerySet):
    def live(self, now=None):
        """Links that can still be used: not used, not revoked, not expired."""
        now = now or timezone.now()
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class CheckinLink(models.Model):
    """A one-time capability to answer one administration (docs/design.md section 7).

    The URL carries a random token of 256 bits; only its SHA-256 is stored, so a copy of
    the database does not hold usable links. Opening the link shows the form; submitting
    consumes it with one conditional UPDATE, so of two concurrent submits exactly one wins.
    """

    administration = models.ForeignKey(Administration, on_delete=models.CASCADE,
                                       related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # Set when a newer link for the same administration replaces this one.
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CheckinLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Check-in link for {self.administration}"

    def state(self, now=None) -> str:
        """'used', 'revoked', 'expired' or 'live'."""
        now = now or timezone.now()
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        return "live"

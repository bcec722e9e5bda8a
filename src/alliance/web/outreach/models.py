"""Measurement plans, the outbox of messages, periodic jobs and staff notice preferences.

Every message Alliance sends by itself is first a row of `Message` (the outbox): planned
with the time it is due, then claimed by exactly one worker with a conditional UPDATE,
sent, and marked sent or failed. Addresses are read when the message is sent, never
stored here, and no message holds answers or scores.
"""

from __future__ import annotations

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from alliance.web.care.models import Case, Client, Session
from alliance.web.clinics.models import Clinic, StaffMember
from alliance.web.crypto import EncryptedTextField


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "Text message (through the clinic's gateway)"


class MeasurementPlan(models.Model):
    """Which check-ins go out after which sessions, how, and with which reminders.

    One per clinic (`case` empty); a case may have its own, which then replaces the
    clinic's for that case. `schedule` maps an instrument id to when it is asked:
    ``{"every": n, "first": bool, "last": bool}`` (every n-th attended session counting
    from the first, the first session, the session that ends the case); an instrument
    not listed is asked at every attended session.
    """

    class Sending(models.TextChoices):
        AUTOMATIC = "automatic", "By itself, after each attended session is recorded"
        BY_HAND = "by_hand", "Only when the therapist sends it"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="plans")
    case = models.OneToOneField(Case, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="plan")
    schedule = models.JSONField(default=dict, blank=True)
    sending = models.CharField(max_length=12, choices=Sending, default=Sending.BY_HAND)
    channel = models.CharField(
        max_length=8, choices=Channel, default=Channel.EMAIL,
        help_text="For clients who have not chosen how they want to be contacted.")
    delay_hours = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(72)],
        help_text="Hours after the session is recorded before the check-in goes out "
                  "(0: at once).")
    reminder_after_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(24 * 14)],
        help_text="Hours without an answer before a reminder goes out.")
    reminders = models.PositiveSmallIntegerField(
        default=2, validators=[MaxValueValidator(5)],
        help_text="At most this many reminders per check-in (0: none).")
    quiet_from = models.TimeField(
        null=True, blank=True, default=dt.time(21, 0),
        help_text="No message is sent between this time and the end of the quiet hours, "
                  "in the client's time zone.")
    quiet_until = models.TimeField(null=True, blank=True, default=dt.time(8, 0))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic"], condition=models.Q(case__isnull=True),
                                    name="one_measurement_plan_per_clinic"),
        ]

    def __str__(self) -> str:
        return f"Measurement plan for {self.case or self.clinic}"

    @property
    def is_automatic(self) -> bool:
        return self.sending == self.Sending.AUTOMATIC

    @property
    def quiet_hours(self) -> tuple[dt.time, dt.time] | None:
        if self.quiet_from is None or self.quiet_until is None \
                or self.quiet_from == self.quiet_until:
            return None
        return self.quiet_from, self.quiet_until


class ClinicMessaging(models.Model):
    """How the clinic's messages go out: the reply-to address and the text-message gateway."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="messaging")
    reply_to = models.EmailField(
        blank=True, help_text="Replies to check-in e-mails go here (for example the "
                              "reception's address). Empty: replies are not expected.")
    sms_webhook_url = models.URLField(
        blank=True, verbose_name="Text-message gateway address",
        help_text="Alliance POSTs each text message as signed JSON to this address.")
    sms_webhook_secret = EncryptedTextField(
        blank=True, verbose_name="Gateway secret",
        help_text="Shared secret for the HMAC-SHA256 signature of each request.")

    def __str__(self) -> str:
        return f"Messaging of {self.clinic}"


class MessageQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(status=Message.Status.PLANNED, due_at__lte=now)

    def planned(self):
        return self.filter(status=Message.Status.PLANNED)


class Message(models.Model):
    """One message to send, or sent: the outbox. Its text is written when it is sent."""

    class Kind(models.TextChoices):
        CHECKIN = "checkin", "Check-in"
        REMINDER = "reminder", "Check-in reminder"
        RUPTURE = "rupture", "Notice of a possible rupture"
        DIGEST = "digest", "Daily digest"
        RISK = "risk", "Urgent review needed"
        ESCALATION = "escalation", "Urgent review still needed"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Not delivered"
        CANCELLED = "cancelled", "Not sent"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind)
    channel = models.CharField(max_length=8, choices=Channel, default=Channel.EMAIL)
    status = models.CharField(max_length=12, choices=Status, default=Status.PLANNED)
    # What it is about and to whom (a client or a staff member).
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="messages")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="messages")
    to_client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+")
    to_staff = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="messages")
    # Ids of what it refers to (a signal), never clinical content.
    detail = models.JSONField(default=dict, blank=True)
    # One message per purpose ("reminder:session:12:1"): planning twice, by two workers or
    # a retried request, finds the first one instead of creating a second.
    key = models.CharField(max_length=120, unique=True)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    # Why it failed or was not sent, in words for the therapist (no clinical content).
    outcome = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at", "-pk"]
        indexes = [
            # The worker's question "what is due?" reads only the planned rows, by time.
            models.Index(fields=["due_at"], condition=models.Q(status="planned"),
                         name="outreach_message_planned_due"),
            # … and "is a message stuck in sending?" only the few being sent.
            models.Index(fields=["claimed_at"], condition=models.Q(status="sending"),
                         name="outreach_message_sending"),
            models.Index(fields=["session", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display().lower()})"


class Job(models.Model):
    """A periodic job of the worker and when it runs next (claimed like a message)."""

    name = models.CharField(max_length=64, unique=True)
    next_run_at = models.DateTimeField()
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.name


class NoticePreference(models.Model):
    """What a staff member wants to hear about by e-mail, and when they last read their
    worklist ("new since you last looked")."""

    staff = models.OneToOneField(StaffMember, on_delete=models.CASCADE,
                                 related_name="notice_preference")
    rupture_email = models.BooleanField(
        default=False, verbose_name="E-mail me when a possible rupture comes in")
    daily_digest = models.BooleanField(
        default=False, verbose_name="E-mail me a daily digest of what is new")
    digest_hour = models.PositiveSmallIntegerField(
        default=7, validators=[MaxValueValidator(23)],
        verbose_name="Hour of the digest (clinic time)")
    worklist_seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Notices for {self.staff}"

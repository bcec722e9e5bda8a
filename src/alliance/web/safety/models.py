"""A clinic's safety settings, and the record of each risk alert: who was told, when it
escalated, and the response that closed it (docs/safety.md)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models

from alliance.web.clinics.models import Clinic, StaffMember
from alliance.web.crypto import EncryptedTextField
from alliance.web.monitoring.models import Signal

# Shown to a client whose answer reached a risk threshold when the clinic has written no
# text of its own: it points to help that is there at any hour, because Alliance is not.
DEFAULT_CRISIS_TEXT = (
    "Thank you for telling us. Your answers are not read around the clock, so they may not "
    "be seen straight away. If you are in danger now, or feel you might act on thoughts of "
    "harming yourself, call your local emergency number or go to the nearest emergency "
    "department. You can also call a crisis line in your country, or tell someone you trust "
    "how you are feeling. Your therapist has been told that you may need support.")

CRISIS_TEXT_LENGTH = 4000
KEYWORDS_LENGTH = 4000


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class ClinicSafety(models.Model):
    """One per clinic: the crisis text, the on-call contacts, the escalation time, whether
    the check-in asks the safety question, and the optional reading aid of phrases."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="safety")
    ask_safety_question = models.BooleanField(
        default=False, verbose_name="Ask the safety question in every check-in",
        help_text="One question, in Alliance's own words, on thoughts of ending one's life or "
                  "of self-harm, asked with the wellbeing check-in. Any answer above \"not at "
                  "all\" reaches the therapist and the on-call contacts at once.")
    crisis_text = models.TextField(
        blank=True, max_length=CRISIS_TEXT_LENGTH, verbose_name="Crisis text",
        help_text="What a client sees at once after a risk answer: your local emergency "
                  "numbers and how to reach the clinic out of hours. Left empty, a careful "
                  "default points to local emergency services.")
    on_call_staff = models.ManyToManyField(
        StaffMember, blank=True, related_name="+", verbose_name="On-call staff",
        help_text="Told at once of every risk answer, and again while no response is recorded.")
    on_call_emails = models.TextField(
        blank=True, max_length=2000, verbose_name="Other on-call e-mail addresses",
        help_text="One address a line, for example the clinic's duty phone's mailbox.")
    escalation_minutes = models.PositiveSmallIntegerField(
        default=120, validators=[MinValueValidator(15), MaxValueValidator(24 * 60)],
        verbose_name="Escalate after (minutes)",
        help_text="With no response recorded by then, the therapist, the on-call contacts and "
                  "the therapist's supervisors are told, and again after each further "
                  "interval.")
    keywords_enabled = models.BooleanField(
        default=False, verbose_name="Flag comments containing these phrases for review",
        help_text="An aid to reading, not detection: a comment that uses other words is not "
                  "flagged. Every comment is still read by the therapist.")
    keywords = models.TextField(
        blank=True, max_length=KEYWORDS_LENGTH, verbose_name="Phrases",
        help_text="One word or phrase a line; matched as whole words, ignoring case.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Safety settings of {self.clinic}"

    @property
    def crisis_text_shown(self) -> str:
        return self.crisis_text.strip() or DEFAULT_CRISIS_TEXT

    @property
    def email_list(self) -> list[str]:
        return _lines(self.on_call_emails)

    @property
    def keyword_list(self) -> list[str]:
        return _lines(self.keywords) if self.keywords_enabled else []

    def clean(self) -> None:
        for address in self.email_list:
            try:
                validate_email(address)
            except ValidationError:
                raise ValidationError(
                    {"on_call_emails": f"“{address[:80]}” is not an e-mail address."}) from None
        if self.keywords_enabled and not _lines(self.keywords):
            raise ValidationError(
                {"keywords": "Give at least one phrase, or switch this off."})


class RiskAlert(models.Model):
    """What happened about one risk signal: raised, who was told, escalations, response.

    A risk signal is not acknowledged or dismissed like the others: it stays open until a
    response is recorded here (what was done, by whom, when), and the audit trail keeps a
    record of the response even after the client's data are erased.
    """

    class Reason(models.TextChoices):
        ANSWER = "answer", "An answer reached a risk threshold"
        PHRASE = "phrase", "A comment contains a phrase the clinic listed"

    class Response(models.TextChoices):
        CONTACTED = "contacted", "Contacted the client and talked about their safety"
        SAFETY_PLAN = "safety_plan", "Made or reviewed a safety plan with the client"
        EMERGENCY = "emergency", "Called emergency services or a crisis team"
        NOT_REACHED = "not_reached", "Tried to reach the client and could not (say what next)"
        NO_CURRENT_RISK = "no_current_risk", "Reviewed it: no current risk (say why)"
        OTHER = "other", "Something else (say what)"

    signal = models.OneToOneField(Signal, on_delete=models.CASCADE, related_name="risk_alert")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=12, choices=Reason)
    raised_at = models.DateTimeField()
    # False for an import of old history: marked, nobody notified, no escalation.
    notify = models.BooleanField(default=True)
    escalations = models.PositiveSmallIntegerField(default=0)
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(StaffMember, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    response = models.CharField(max_length=20, choices=Response, blank=True)
    response_note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [models.Index(fields=["clinic", "responded_at"])]

    def __str__(self) -> str:
        return f"Risk alert on signal {self.signal_id}"

    @property
    def is_open(self) -> bool:
        return self.responded_at is None

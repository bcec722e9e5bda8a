"""The client's intake: hopes, past experience of therapy, preferences about the way of
working, readiness for change and what matters to them culturally, once per case.

Asked in the check-in of the case's first sessions (`intake.checkin`) and seen by the
therapist beside the goals (docs/web.md, "The intake"). Every answer is optional: an
unanswered choice is stored as "" and an unanswered rating as NULL, never as a default.
What the client writes is encrypted at rest like every other free text.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from alliance.web.care.models import Case, Session
from alliance.web.crypto import EncryptedTextField

#: The longest free-text answer the form accepts (as the check-in's open questions).
TEXT_MAX_LENGTH = 2000
READINESS_MIN, READINESS_MAX = 0, 10


class PastTherapy(models.TextChoices):
    NONE = "none", _("No, this is my first time")
    HELPFUL = "helpful", _("Yes, and it was mostly helpful")
    MIXED = "mixed", _("Yes, and it was mixed")
    UNHELPFUL = "unhelpful", _("Yes, and it was mostly not helpful")


#: "No preference" is an answer of its own, different from a question left alone ("").
NO_PREFERENCE = "either"


class Structure(models.TextChoices):
    STRUCTURE = "structure", _("More structure: a plan and clear steps")
    EXPLORE = "explore", _("More room to explore and see what comes up")
    EITHER = NO_PREFERENCE, _("No preference")


class Focus(models.TextChoices):
    PRESENT = "present", _("Mostly on what is happening now")
    PAST = "past", _("Also on my past and how it shapes me")
    EITHER = NO_PREFERENCE, _("No preference")


class Tasks(models.TextChoices):
    TASKS = "tasks", _("Yes, I would like things to try between sessions")
    NO_TASKS = "no_tasks", _("No, I would rather keep the work to the sessions")
    EITHER = NO_PREFERENCE, _("No preference")


class Lead(models.TextChoices):
    DIRECTIVE = "directive", _("The therapist suggests what to do")
    CLIENT_LED = "client_led", _("The therapist follows my lead")
    EITHER = NO_PREFERENCE, _("No preference")


#: The paired preferences: field name → its choices.
PREFERENCES = {"structure": Structure, "focus": Focus, "tasks": Tasks, "lead": Lead}


class Intake(models.Model):
    """One case's intake answers. Its existence means the intake was asked and sent (every
    answer may still be blank): it is not asked again."""

    class Via(models.TextChoices):
        CHECKIN = "checkin", _("In the check-in")
        PORTAL = "portal", _("In the client portal")

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="intake")
    # The session whose check-in carried the intake (None when given in the portal first).
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    hopes = EncryptedTextField(blank=True)
    past_therapy = models.CharField(max_length=12, choices=PastTherapy, blank=True, default="")
    past_therapy_text = EncryptedTextField(blank=True)
    structure = models.CharField(max_length=12, choices=Structure, blank=True, default="")
    focus = models.CharField(max_length=12, choices=Focus, blank=True, default="")
    tasks = models.CharField(max_length=12, choices=Tasks, blank=True, default="")
    lead = models.CharField(max_length=12, choices=Lead, blank=True, default="")
    readiness = models.PositiveSmallIntegerField(null=True, blank=True)
    # Identity, faith, language, anything the client wants the therapist to know. Kept out
    # of research exports unless the clinic allows it (Clinic.research_export_cultural_text).
    culture = EncryptedTextField(blank=True)
    via = models.CharField(max_length=8, choices=Via)
    submitted_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(readiness__isnull=True)
                | models.Q(readiness__gte=READINESS_MIN, readiness__lte=READINESS_MAX),
                name="intake_readiness_on_scale"),
        ]

    def __str__(self) -> str:
        return f"Intake of {self.case}"

    @property
    def answered(self) -> bool:
        """Whether the client gave any answer at all."""
        return bool(self.hopes or self.past_therapy or self.past_therapy_text or self.culture
                    or any(getattr(self, name) for name in PREFERENCES)
                    or self.readiness is not None)

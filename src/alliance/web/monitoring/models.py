"""Signals: something in a case that needs the therapist's attention, and why.

Signals are computed by `alliance.core.signals` from a case's scores and sessions and
stored here, with the rule, its parameters and the data that fired it, so that the page
can always show them (DESIGN.md section 5).
"""

from __future__ import annotations

from django.db import models

from alliance.web.care.models import Case, Session
from alliance.web.clinics.models import StaffMember


class Signal(models.Model):
    class Type(models.TextChoices):
        RUPTURE = "rupture", "Possible rupture"
        LOW_ALLIANCE = "low_alliance", "Low alliance"
        DISCREPANCY = "discrepancy", "Client and therapist see it differently"
        NOT_ON_TRACK = "not_on_track", "Not on track"
        DISENGAGEMENT = "disengagement", "Signs of disengagement"
        GOAL = "goal", "Goals"
        TASK = "task", "Tasks"
        CLIENT_FEEDBACK = "client_feedback", "Client feedback"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    class RepairState(models.TextChoices):
        NOT_APPLICABLE = "", "Not applicable"
        PENDING = "pending", "Pending"
        REPAIRED = "repaired", "Repaired"
        UNRESOLVED = "unresolved", "Unresolved"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="signals")
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="signals")
    type = models.CharField(max_length=20, choices=Type)
    # Which score or item the signal is about, e.g. "total" or "bond" (blank when none).
    subject = models.CharField(max_length=64, blank=True)
    rule = models.CharField(max_length=32)
    parameters = models.JSONField(default=dict)
    data = models.JSONField(default=dict)
    explanation = models.TextField()
    state = models.CharField(max_length=12, choices=State, default=State.OPEN)
    dismiss_reason = models.TextField(blank=True)
    repair_state = models.CharField(max_length=12, choices=RepairState, blank=True, default="")
    changed_by = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["case", "state"])]
        constraints = [
            # Recomputation updates a signal in place rather than firing it twice.
            models.UniqueConstraint(fields=["case", "type", "subject", "session"],
                                    name="one_signal_per_case_type_subject_session"),
            models.CheckConstraint(
                condition=~models.Q(state="dismissed") | ~models.Q(dismiss_reason=""),
                name="a_dismissed_signal_has_a_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} in case {self.case_id}"

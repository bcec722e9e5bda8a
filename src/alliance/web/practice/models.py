"""A practice focus: a skill a therapist and their supervisor agree to practise, from a date.

The figures before and after the start date are computed when the page is shown
(`alliance.web.practice.figures`); nothing here stores a number.
"""

from __future__ import annotations

from django.db import models

from alliance.web.clinics.models import Clinic, StaffMember


class PracticeFocus(models.Model):
    class Skill(models.TextChoices):
        # Written by this project; each names what the figures before and after can show.
        INVITING_FEEDBACK = "inviting_feedback", "Inviting negative feedback"
        REPAIRING_WITHDRAWAL = "repairing_withdrawal", "Repairing withdrawal ruptures"
        REPAIRING_CONFRONTATION = "repairing_confrontation", "Repairing confrontation ruptures"
        AGREEING_GOALS = "agreeing_goals", "Agreeing goals together"
        AGREEING_TASKS = "agreeing_tasks", "Agreeing tasks, pace and style"
        NOTICING_DISCREPANCY = "noticing_discrepancy", "Noticing when I see the work more " \
                                                       "positively than my client"

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    therapist = models.ForeignKey(StaffMember, on_delete=models.PROTECT,
                                  related_name="practice_foci")
    skill = models.CharField(max_length=32, choices=Skill)
    # What the therapist and supervisor agreed, in their words (no client data).
    note = models.TextField(blank=True, max_length=1000)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on", "-pk"]
        indexes = [models.Index(fields=["therapist", "ended_on"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ended_on__isnull=True)
                | models.Q(ended_on__gte=models.F("started_on")),
                name="a_practice_focus_ends_after_it_starts"),
        ]

    def __str__(self) -> str:
        return f"{self.get_skill_display()} ({self.therapist.display_name}, from {self.started_on})"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None

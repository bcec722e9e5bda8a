"""Goals and tasks that client and therapist agree on, their reviews and reports.

The alliance is agreement on goals and tasks plus a bond (docs/design.md section 1). Here a
goal or a task is *agreed* only when both sides have confirmed it; the side that proposes
it confirms it by proposing. A revision keeps the earlier wording in the history
(`GoalEvent`) and needs both sides to confirm again.

Every change records who made it: a staff member, or the client. Views never query these
models directly: records come through `alliance.web.scoping` (the case), and changes go
through `alliance.web.goals.services`, which enforces the rules.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alliance.web.care.models import Case, Client, Session
from alliance.web.checkins.models import Administration
from alliance.web.clinics.models import StaffMember
from alliance.web.crypto import EncryptedTextField

TEXT_MAX_LENGTH = 300
RATING_MIN, RATING_MAX = 0, 10


class Side(models.TextChoices):
    CLIENT = "client", "Client"
    THERAPIST = "therapist", "Therapist"


class Agreement(models.Model):
    """What goals and tasks share: who proposed them and when each side confirmed."""

    proposed_by = models.CharField(max_length=10, choices=Side)
    # Who entered the proposal: the client themselves, or a staff member (for a goal in
    # the client's own words, said in the session and typed in by the therapist).
    proposed_by_staff = models.ForeignKey(StaffMember, null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="+")
    proposed_by_client = models.ForeignKey(Client, null=True, blank=True,
                                           on_delete=models.SET_NULL, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    client_confirmed_at = models.DateTimeField(null=True, blank=True)
    therapist_confirmed_at = models.DateTimeField(null=True, blank=True)
    therapist_confirmed_by = models.ForeignKey(StaffMember, null=True, blank=True,
                                               on_delete=models.SET_NULL, related_name="+")
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by_staff = models.ForeignKey(StaffMember, null=True, blank=True,
                                                on_delete=models.SET_NULL, related_name="+")
    status_changed_by_client = models.ForeignKey(Client, null=True, blank=True,
                                                 on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def client_confirmed(self) -> bool:
        return self.client_confirmed_at is not None

    @property
    def therapist_confirmed(self) -> bool:
        return self.therapist_confirmed_at is not None

    @property
    def both_confirmed(self) -> bool:
        return self.client_confirmed and self.therapist_confirmed

    def confirmed_by(self, side: str) -> bool:
        return self.client_confirmed if side == Side.CLIENT else self.therapist_confirmed

    @property
    def waiting_for(self) -> str:
        """The side whose confirmation is missing ("client", "therapist", "" when none)."""
        if not self.client_confirmed:
            return Side.CLIENT if self.therapist_confirmed else ""
        return "" if self.therapist_confirmed else Side.THERAPIST

    @property
    def agreed_at(self):
        """When the second side confirmed (None until both have)."""
        if not self.both_confirmed:
            return None
        return max(self.client_confirmed_at, self.therapist_confirmed_at)


class Goal(Agreement):
    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        AGREED = "agreed", "Agreed"
        ACHIEVED = "achieved", "Achieved"
        DROPPED = "dropped", "Dropped"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="goals")
    text = EncryptedTextField(max_length=TEXT_MAX_LENGTH)
    status = models.CharField(max_length=10, choices=Status, default=Status.PROPOSED)
    # When the current wording was proposed (the first proposal or the last revision).
    revised_at = models.DateTimeField(null=True, blank=True)
    # When the goal was first agreed by both (kept through revisions).
    first_agreed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "proposed_at", "pk"]
        indexes = [models.Index(fields=["case", "status"])]

    def __str__(self) -> str:
        return self.text

    @property
    def is_open(self) -> bool:
        """Proposed or agreed: still being worked on."""
        return self.status in (self.Status.PROPOSED, self.Status.AGREED)

    @property
    def is_agreed(self) -> bool:
        return self.status == self.Status.AGREED

    @property
    def wording_since(self):
        """When the current wording was proposed."""
        return self.revised_at or self.proposed_at


class GoalEvent(models.Model):
    """The history of a goal and its tasks: append-only, one row per change."""

    class Kind(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        CONFIRMED = "confirmed", "Confirmed"
        REVISED = "revised", "Revised"
        ACHIEVED = "achieved", "Marked achieved"
        DROPPED = "dropped", "Dropped"
        TASK_PROPOSED = "task_proposed", "Task proposed"
        TASK_CONFIRMED = "task_confirmed", "Task confirmed"
        TASK_DONE = "task_done", "Task finished"
        TASK_STOPPED = "task_stopped", "Task stopped"

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="events")
    task = models.ForeignKey("Task", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="events")
    kind = models.CharField(max_length=16, choices=Kind)
    # Whose side the change speaks for; `by_staff` / `by_client` is who entered it.
    side = models.CharField(max_length=10, choices=Side)
    by_staff = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    by_client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    old_text = EncryptedTextField(blank=True)
    new_text = EncryptedTextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.side})"


class Rating(models.Model):
    """What every rating of a goal or task records: the session it is about (the check-in's
    session; when empty, the last session on or before its date), which side gave it, who,
    through which form, and when."""

    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    side = models.CharField(max_length=10, choices=Side)
    by_staff = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    by_client = models.ForeignKey(Client, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    administration = models.ForeignKey(Administration, null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class GoalReview(Rating):
    """Progress on an agreed goal as rated by one side (0–10), at a session or a date."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["goal", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX),
                                   name="goal_review_rating_0_to_10"),
        ]

    def __str__(self) -> str:
        return f"{self.side} rated {self.rating} for goal {self.goal_id}"


class ReviewRequest(models.Model):
    """The therapist asked for a goal review now: the client's next check-in asks."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="goal_review_requests")
    requested_by = models.ForeignKey(StaffMember, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    fulfilled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(fulfilled_at__isnull=True),
                                    name="one_open_review_request_per_case"),
        ]


class Task(Agreement):
    """An agreed activity or homework linked to a goal: what, how often, until when."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DONE = "done", "Finished"
        STOPPED = "stopped", "Stopped"

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="tasks")
    what = EncryptedTextField(max_length=TEXT_MAX_LENGTH)
    # Encrypted text is longer than what was typed: max_length limits the form only.
    how_often = EncryptedTextField(max_length=120, blank=True)
    until = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)

    class Meta:
        ordering = ["goal", "proposed_at", "pk"]

    def __str__(self) -> str:
        return self.what

    @property
    def is_agreed(self) -> bool:
        return self.both_confirmed

    @property
    def is_running(self) -> bool:
        """Active and agreed by both: the client reports on it at check-ins."""
        return self.status == self.Status.ACTIVE and self.both_confirmed


class TaskReport(Rating):
    """Whether a task was done since the last check-in, and how helpful it was (0–10)."""

    class Done(models.TextChoices):
        DONE = "done", _("Done")
        PARTLY = "partly", _("Partly")
        NOT_DONE = "not_done", _("Not done")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reports")
    done = models.CharField(max_length=10, choices=Done)
    # Empty when not rated (a task not done cannot be rated for helpfulness).
    helpful = models.PositiveSmallIntegerField(null=True, blank=True)
    side = models.CharField(max_length=10, choices=Side, default=Side.CLIENT)

    class Meta:
        ordering = ["task", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(helpful__isnull=True) | Q(helpful__gte=RATING_MIN,
                                                      helpful__lte=RATING_MAX),
                name="task_report_helpful_0_to_10"),
        ]

    def __str__(self) -> str:
        return f"{self.get_done_display()} for task {self.task_id}"

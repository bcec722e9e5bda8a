"""Signals: something in a case that needs the therapist's attention, and why.

Signals are computed by `alliance.core.signals` from a case's scores and sessions and
stored here, with the rule, its parameters and the data that fired it, so that the page
can always show them (docs/design.md section 5). `alliance.web.monitoring.recompute` keeps them
up to date; `ClinicBaseline` holds what a clinic's signals are measured against.
"""

from __future__ import annotations

from django.db import models

from alliance.web.care.models import Case, Session
from alliance.web.clinics.models import Clinic, StaffMember
from alliance.web.crypto import EncryptedJSONField, EncryptedTextField


class SignalQuerySet(models.QuerySet):
    def needing_attention(self, types=None):
        """Open signals of the kinds the clinic counts as needing attention (`types`, from
        `Clinic.attention_types`; every kind when None), except ruptures that the client's
        later ratings show repaired.

        What a caseload counts and orders by: something to act on before the next session,
        nobody has acted on it yet, and the data do not already show that things got better
        (a rupture repaired; missed sessions, a gap or unanswered check-ins the client has
        come back from).
        """
        rows = self.filter(state=Signal.State.OPEN, client_returned=False)
        if types is not None:
            rows = rows.filter(type__in=sorted(types))
        return rows.exclude(type=Signal.Type.RUPTURE, repair_state=Signal.RepairState.REPAIRED)

    def for_attention(self, clinic):
        """`needing_attention` with the clinic's choice of kinds."""
        return self.needing_attention(clinic.attention_type_set)

    def new_comments(self):
        """The client's comments (check-in answers and portal messages) nobody has read yet."""
        return self.filter(type=Signal.Type.CLIENT_FEEDBACK, state=Signal.State.OPEN)

    def unrepaired_ruptures(self):
        """Ruptures still waiting for a repair or past their window without one (not dismissed)."""
        return (self.filter(type=Signal.Type.RUPTURE,
                            repair_state__in=[Signal.RepairState.PENDING,
                                              Signal.RepairState.UNRESOLVED])
                .exclude(state=Signal.State.DISMISSED))


class Signal(models.Model):
    # The identifiers are those of `alliance.core.signals.SIGNAL_TYPES`, plus client
    # feedback (an open-text answer, which needs no rule).
    class Type(models.TextChoices):
        RUPTURE = "rupture", "Possible rupture"
        LOW_ALLIANCE = "low_alliance", "Lower alliance rating"
        DISCREPANCY = "discrepancy", "Client and therapist see it differently"
        NOT_ON_TRACK = "not_on_track", "Progress slower than expected"
        DISENGAGEMENT = "disengagement", "Signs of drifting away"
        GOAL_NOT_AGREED = "goal_not_agreed", "A goal not yet agreed"
        GOAL_RATINGS_APART = "goal_ratings_apart", "Different views of a goal's progress"
        GOAL_REVIEW_OVERDUE = "goal_review_overdue", "A goal review is due"
        GOAL_PROGRESS_FLAT = "goal_progress_flat", "A goal's progress has levelled off"
        TASK_NOT_DONE = "task_not_done", "An agreed task is not getting done"
        TASK_UNHELPFUL = "task_unhelpful", "A task that is not helping"
        CLIENT_FEEDBACK = "client_feedback", "Client feedback"
        # A risk answer (alliance.web.safety): raised at submission, never by the detectors;
        # closed only by a recorded response.
        RISK = "risk", "Risk answer: urgent review"

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
    # Which score, rule, goal or question the signal is about, e.g. "total", "bond",
    # "missed_in_a_row" or "alliance-client:more_helpful" (blank when none).
    subject = models.CharField(max_length=64, blank=True)
    rule = models.CharField(max_length=32)
    parameters = models.JSONField(default=dict)
    # Encrypted at rest: feedback signals hold what the client wrote, goal signals the
    # goal's wording.
    data = EncryptedJSONField(default=dict)
    explanation = EncryptedTextField()
    state = models.CharField(max_length=12, choices=State, default=State.OPEN)
    dismiss_reason = EncryptedTextField(blank=True)
    repair_state = models.CharField(max_length=12, choices=RepairState, blank=True, default="")
    # False when the clinic's current rules no longer produce the signal (the rule or a
    # threshold changed, or data were corrected) but it is kept because a therapist
    # acted on it. Signals nobody acted on are deleted instead.
    is_current = models.BooleanField(default=True)
    # Signs of drifting away the later data show over: the client came back (attended, or
    # answered a check-in). Shown, like a repaired rupture, but not needing attention.
    client_returned = models.BooleanField(default=False)
    changed_by = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # `crypto.fingerprint` of the data's JSON text and the explanation with the tokens
    # stored for them, written by the recomputation: it tells that a stored signal says
    # what the rules produce again without decrypting it. Bound to the tokens, so a value
    # written by other code (or re-encrypted) no longer matches and is compared in full.
    fingerprint = models.CharField(max_length=40, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SignalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["case", "state"])]
        constraints = [
            # Recomputation updates a signal in place rather than firing it twice. A NULL
            # session would be distinct from every other NULL in a plain unique constraint,
            # so signals without a session get their own (partial) constraint.
            models.UniqueConstraint(fields=["case", "type", "subject", "session"],
                                    condition=models.Q(session__isnull=False),
                                    name="one_signal_per_case_type_subject_session"),
            models.UniqueConstraint(fields=["case", "type", "subject"],
                                    condition=models.Q(session__isnull=True),
                                    name="one_sessionless_signal_per_case_type_subject"),
            models.CheckConstraint(
                condition=~models.Q(state="dismissed") | ~models.Q(dismiss_reason=""),
                name="a_dismissed_signal_has_a_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} in case {self.case_id}"

    @property
    def acted_on(self) -> bool:
        """A therapist acknowledged, resolved or dismissed it (recomputation keeps it)."""
        return self.state != self.State.OPEN

    @property
    def needs_attention(self) -> bool:
        """Open, of a kind the case's clinic counts as needing attention, and not a rupture
        already repaired. Pages that load many signals set `attention_types` on each (the
        clinic's choice, see `queries.mark_attention`) so that this reads no clinic."""
        types = getattr(self, "attention_types", None)
        if types is None:
            types = self.case.clinic.attention_type_set
        return (self.state == self.State.OPEN and self.type in types
                and not self.client_returned
                and not (self.type == self.Type.RUPTURE
                         and self.repair_state == self.RepairState.REPAIRED))

    @property
    def is_comment(self) -> bool:
        return self.type == self.Type.CLIENT_FEEDBACK

    @property
    def is_exploratory(self) -> bool:
        """Shown as information: not shown to predict outcome (docs/signals.md)."""
        return self.type == self.Type.DISCREPANCY

    @property
    def why(self):
        """The rule, its parameters and the data in words, for the "why" disclosure."""
        from alliance.web.monitoring.display import explain

        return explain(self)


class ClinicBaseline(models.Model):
    """What a clinic's signals are measured against, cached because it spans every case.

    - `pooled_sd`: the pooled within-client SD of each client-rated alliance score
      (`alliance.core.signals.pooled_within_sd`), refreshed when the clinic's number of
      rated check-ins has grown by a tenth since the last computation;
    - `expected_model`: the expected treatment response (`alliance.core.expected`) fitted
      on the clinic's closed cases, refitted when closed cases have grown by a tenth, or by
      `alliance manage refit_expected`; `expected_note` says why there is none;
    - `settings_fingerprint`: the signal settings last applied, so that saving the clinic
      settings recomputes the signals only when a rule or threshold changed.
    """

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="baseline")
    pooled_instrument = models.CharField(max_length=64, blank=True)
    # Score ("alliance" for the total, "bond", …) → {"pooled_sd", "n_rated", "n_clients",
    # "source"}, where source is "clinic" or "default" (too few ratings yet).
    pooled_sd = models.JSONField(default=dict, blank=True)
    pooled_n_rated = models.PositiveIntegerField(default=0)
    pooled_at = models.DateTimeField(null=True, blank=True)
    expected_instrument = models.CharField(max_length=64, blank=True)
    expected_model = models.JSONField(null=True, blank=True)
    expected_n_cases = models.PositiveIntegerField(default=0)
    expected_note = models.TextField(blank=True)
    expected_at = models.DateTimeField(null=True, blank=True)
    settings_fingerprint = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"Signal baseline of {self.clinic}"


class RepairAction(models.Model):
    """What the case's therapist did about a signal: a rupture, a low alliance rating, a
    discrepancy or signs of disengagement (docs/design.md sections 3 and 5).

    The outcome is not recorded here: the client's following check-ins decide it through
    the core's repair rule (`Signal.repair_state`).
    """

    class Kind(models.TextChoices):
        ACKNOWLEDGED = "acknowledged", "Acknowledged it with the client"
        EXPLORED = "explored", "Explored the client's view"
        RENEGOTIATED_GOALS = "renegotiated_goals", "Renegotiated goals"
        ADJUSTED_TASKS = "adjusted_tasks", "Adjusted tasks or pace"
        CHANGED_APPROACH = "changed_approach", "Changed approach"
        CONSULTED_SUPERVISION = "consulted_supervision", "Consulted supervision"
        OTHER = "other", "Something else"

    class ShowedAs(models.TextChoices):
        WITHDRAWAL = "withdrawal", "Withdrawal (going quiet, holding back, missing sessions)"
        CONFRONTATION = "confrontation", "Confrontation (a complaint or disagreement)"
        NOT_SURE = "not_sure", "Not sure"

    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="repair_actions")
    kind = models.CharField(max_length=24, choices=Kind)
    showed_as = models.CharField(max_length=16, choices=ShowedAs, default=ShowedAs.NOT_SURE)
    note = EncryptedTextField(blank=True)
    # The session in which the therapist did it, when it happened in one (optional).
    session = models.ForeignKey(Session, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="repair_actions")
    by = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (signal {self.signal_id})"

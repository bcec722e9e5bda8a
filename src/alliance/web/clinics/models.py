"""Clinics (tenants) with their settings, and staff members with a role in one clinic."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from alliance.core.signals.ruptures import DEFAULT_RULE, RUPTURE_RULES
from alliance.web import instruments, localtime


def default_checkin_link_expiry_hours() -> int:
    return settings.CHECKIN_LINK_EXPIRY_HOURS


def default_time_zone() -> str:
    return settings.CLINIC_TIME_ZONE


def validate_time_zone(name: str) -> None:
    try:
        localtime.zone_named(name)
    except localtime.UnknownTimeZone as exc:
        raise ValidationError(str(exc)) from None


# The kinds of signal a clinic can count as needing attention (the identifiers of
# `alliance.core.signals.SIGNAL_TYPES`, plus the client's own comments), in the clinician's
# words. "Needs attention" means something to act on before the next session.
ATTENTION_CHOICES = (
    ("rupture", "A possible rupture, or one not yet repaired"),
    ("not_on_track", "Progress slower than expected"),
    ("low_alliance", "A lower alliance rating"),
    ("disengagement", "Signs of drifting away (missed sessions or check-ins, a long gap)"),
    ("discrepancy", "The therapist rates the alliance higher than the client (exploratory)"),
    ("goal_not_agreed", "A goal not yet agreed"),
    ("goal_ratings_apart", "Different views of a goal's progress"),
    ("goal_review_overdue", "A goal review is due"),
    ("goal_progress_flat", "A goal's progress has levelled off"),
    ("task_not_done", "An agreed task is not getting done"),
    ("task_unhelpful", "A task that is not helping"),
    ("client_feedback", "A new comment from the client"),
)


def default_attention_types() -> list[str]:
    """Ruptures, not on track, low alliance and disengagement. Comments are read, not
    alerted; discrepancy is information (it has not been shown to predict outcome)."""
    return ["rupture", "not_on_track", "low_alliance", "disengagement"]


class Clinic(models.Model):
    """The tenant: every record with client data belongs to exactly one clinic.

    Its fields are the clinic's settings; the signal rules read them (see docs/signals.md
    for what each parameter means).
    """

    class RuptureRule(models.TextChoices):
        # The labels are the core's (one source for what each rule does).
        SD1 = "sd1", RUPTURE_RULES["sd1"].label
        SD2 = "sd2", RUPTURE_RULES["sd2"].label
        RCI = "rci", RUPTURE_RULES["rci"].label

    class Reference(models.TextChoices):
        PREVIOUS = "previous", "The previous session's score"
        MEAN3 = "mean3", "The mean of up to the last 3 scores"

    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # Times are stored in UTC and shown in this zone (alliance.web.localtime).
    time_zone = models.CharField(
        max_length=64, default=default_time_zone, validators=[validate_time_zone],
        help_text="Dates and times on pages, e-mails, reports and exports are shown in this "
                  "time zone.")

    # Measurement
    instruments_in_use = models.JSONField(
        default=instruments.default_instrument_ids,
        help_text="Instrument identifiers this clinic administers.")

    # Rupture and repair
    # New clinics start with the rule chosen on the evaluation in docs/signals.md; a clinic
    # keeps the rule it has stored.
    rupture_rule = models.CharField(max_length=8, choices=RuptureRule, default=DEFAULT_RULE)
    rupture_reference = models.CharField(max_length=8, choices=Reference,
                                         default=Reference.PREVIOUS)
    repair_window = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Rated sessions after a rupture within which a return to the earlier "
                  "level counts as a repair.")
    rci_sd = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0)],
        help_text="Standard deviation of the alliance score, for the reliable-change rule.")
    rci_reliability = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.0), MaxValueValidator(0.999)],
        help_text="Reliability of the alliance score, for the reliable-change rule.")

    # Other signals
    low_alliance_percentile = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="A score below this percentile of the clinic's scores at the same session "
                  "number counts as low.")
    discrepancy_threshold = models.PositiveSmallIntegerField(
        default=20, validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Therapist-rated minus client-rated alliance, in POMP points (0–100).")
    disengagement_missed_sessions = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Consecutive cancelled or missed sessions.")
    disengagement_unanswered_checkins = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Consecutive check-ins left unanswered.")
    disengagement_gap_factor = models.FloatField(
        default=2.0, validators=[MinValueValidator(1.0), MaxValueValidator(10.0)],
        help_text="A gap this many times longer than the case's usual interval.")

    # What the caseload counts as needing attention (kinds of `ATTENTION_CHOICES`); other
    # signals are still shown on the case page, as information.
    attention_types = models.JSONField(default=default_attention_types, blank=True)

    # Goals and tasks
    goal_review_interval = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="The client's check-in asks for a progress rating of each agreed goal after "
                  "this many sessions without one (the therapist can also ask for a review "
                  "at any time). More sessions than this without a review are flagged.")
    goal_agree_sessions = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="A goal proposed but not agreed by both after this many sessions is flagged.")
    goal_agree_days = models.PositiveSmallIntegerField(
        default=21, validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="… or after this many days, whichever comes first.")
    goal_ratings_apart = models.FloatField(
        default=3.0, validators=[MinValueValidator(0.5), MaxValueValidator(10.0)],
        help_text="Client and therapist progress ratings (0–10) at least this many points apart "
                  "are flagged.")
    goal_flat_reviews = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(2), MaxValueValidator(10)],
        help_text="The client's progress rating staying level over this many reviews is "
                  "flagged.")
    goal_flat_tolerance = models.FloatField(
        default=0.5, validators=[MinValueValidator(0.0), MaxValueValidator(5.0)],
        help_text="Ratings within this many points of each other count as level.")
    task_in_a_row = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="A task reported not done, or rated not helpful, this many times in a row is "
                  "flagged.")
    task_unhelpful_rating = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(0), MaxValueValidator(9)],
        help_text="A task's helpfulness rating (0–10) at or below this counts as not helpful.")

    # Check-ins and clients
    checkin_link_expiry_hours = models.PositiveSmallIntegerField(
        default=default_checkin_link_expiry_hours,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
        help_text="How long a check-in link sent to a client stays valid.")
    clients_see_alliance_scores = models.BooleanField(
        default=False, help_text="Clients may see their own alliance scores in the portal.")
    client_portal_enabled = models.BooleanField(default=False)

    # Research exports
    # What a client wrote about their culture, identity, faith or language at intake is
    # left out of research exports, even with free text, unless the clinic allows it here.
    research_export_cultural_text = models.BooleanField(
        default=False,
        help_text=_("Research exports with free text also include what clients wrote at "
                    "intake about their culture, identity, faith or language."))

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def rupture_m(self) -> int | None:
        """The multiplier m of the SD rules (1 or 2); None for the reliable-change rule."""
        rule = RUPTURE_RULES.get(self.rupture_rule)
        return rule.multiplier if rule else None

    @property
    def attention_type_set(self) -> frozenset[str]:
        # A risk answer always needs attention, whatever else the clinic chose.
        return frozenset(self.attention_types or ()) | {"risk"}

    def clean(self) -> None:
        known = {key for key, _ in ATTENTION_CHOICES}
        unknown_kinds = sorted(set(self.attention_types or ()) - known)
        if unknown_kinds:
            raise ValidationError(
                {"attention_types": f"Unknown kinds of signal: {', '.join(unknown_kinds)}"})
        if self.rupture_rule == self.RuptureRule.RCI and (
                self.rci_sd is None or self.rci_reliability is None):
            raise ValidationError(
                "The reliable-change rule needs the score's standard deviation and reliability.")
        unknown = instruments.unknown_instrument_ids(self.instruments_in_use or [])
        if unknown:
            raise ValidationError(
                {"instruments_in_use": f"Unknown instruments: {', '.join(unknown)}"})


class StaffMember(models.Model):
    """A user's role in a clinic. One user works in one clinic."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Administrator"
        SUPERVISOR = "supervisor", "Supervisor"
        THERAPIST = "therapist", "Therapist"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="staff")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=12, choices=Role)
    display_name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    # Supervisors see the cases of the therapists they supervise.
    supervisees = models.ManyToManyField("self", symmetrical=False, blank=True,
                                         related_name="supervisors")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_role_display().lower()})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN

    @property
    def is_supervisor(self) -> bool:
        return self.role == self.Role.SUPERVISOR

    @property
    def can_treat(self) -> bool:
        """Therapists and supervisors carry cases; administrators do not."""
        return self.role in (self.Role.THERAPIST, self.Role.SUPERVISOR)

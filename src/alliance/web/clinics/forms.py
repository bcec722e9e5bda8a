from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from alliance.web import instruments, localtime
from alliance.web.forms import Form, ModelForm, PlainLabels, RecordChoices
from alliance.web.clinics.models import ATTENTION_CHOICES, Clinic, StaffMember


class LoginForm(PlainLabels, AuthenticationForm):
    """Django's login form; staff sign in with their e-mail address."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "E-mail address"
        self.fields["username"].widget.attrs.update({"autocomplete": "username",
                                                     "inputmode": "email"})

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class StaffCreateForm(Form):
    display_name = forms.CharField(label="Name", max_length=150)
    email = forms.EmailField(label="E-mail address")
    role = forms.ChoiceField(choices=StaffMember.Role.choices, initial=StaffMember.Role.THERAPIST)
    send_email = forms.BooleanField(
        label="E-mail the set-password link to this address", required=False, initial=True)


class StaffEditForm(Form):
    role = forms.ChoiceField(choices=StaffMember.Role.choices)
    supervisees = RecordChoices(
        queryset=StaffMember.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Supervisors see the cases of the therapists they supervise.")

    def __init__(self, *args, member: StaffMember, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supervisees"].queryset = (
            StaffMember.objects.filter(clinic_id=member.clinic_id, is_active=True,
                                       role__in=[StaffMember.Role.THERAPIST,
                                                 StaffMember.Role.SUPERVISOR])
            .exclude(pk=member.pk))


class ClinicSettingsForm(ModelForm):
    instruments_in_use = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, required=False,
        help_text="Published instruments need the item text your clinic is licensed to use.")
    attention_types = forms.MultipleChoiceField(
        choices=ATTENTION_CHOICES, widget=forms.CheckboxSelectMultiple, required=False,
        label="Count as needing attention",
        help_text="What a therapist should act on before the next session. The caseload marks "
                  "and counts these; everything else is still shown on the case page. New "
                  "comments from clients are listed to read, apart from these.")

    time_zone = forms.ChoiceField(
        choices=(), label="Time zone", required=False,
        error_messages={"invalid_choice": "%(value)s is not a time zone name; choose one from "
                                          "the list, such as Europe/London."},
        help_text="Dates and times on pages, e-mails, reports and exports are shown in this "
                  "time zone; they are stored in UTC, so changing it changes only how they "
                  "are shown.")

    class Meta:
        model = Clinic
        fields = [
            "name", "time_zone", "instruments_in_use",
            "attention_types",
            "rupture_rule", "rupture_reference", "repair_window", "rci_sd", "rci_reliability",
            "low_alliance_percentile", "discrepancy_threshold",
            "disengagement_missed_sessions", "disengagement_unanswered_checkins",
            "disengagement_gap_factor",
            "goal_review_interval", "goal_agree_sessions", "goal_agree_days",
            "goal_ratings_apart", "goal_flat_reviews", "goal_flat_tolerance",
            "task_in_a_row", "task_unhelpful_rating",
            "checkin_link_expiry_hours", "clients_see_alliance_scores", "client_portal_enabled",
            "research_export_cultural_text",
        ]
        labels = {
            "rupture_rule": "How large a drop in the alliance counts as a possible rupture",
            "rupture_reference": "Compare each rating with",
            "repair_window": "Sessions allowed for a repair",
            "rci_sd": "Spread of the questionnaire's scores (for the measurement-error rule)",
            "rci_reliability": "Reliability of the questionnaire (for the measurement-error rule)",
            "low_alliance_percentile": "Lower alliance: among the lowest (percent of ratings)",
            "discrepancy_threshold": "Therapist's rating above the client's by more than "
                                     "(points out of 100)",
            "disengagement_missed_sessions": "Missed sessions in a row",
            "disengagement_unanswered_checkins": "Unanswered check-ins in a row",
            "disengagement_gap_factor": "Gap compared with the usual interval",
            "goal_review_interval": "Goal review every (sessions)",
            "goal_agree_sessions": "Goal not agreed after (sessions)",
            "goal_agree_days": "… or after (days)",
            "goal_ratings_apart": "Progress ratings apart by (points)",
            "goal_flat_reviews": "Progress level over (reviews)",
            "goal_flat_tolerance": "Level within (points)",
            "task_in_a_row": "Task not done or not helpful (reports in a row)",
            "task_unhelpful_rating": "Not helpful at or below (0–10)",
            "checkin_link_expiry_hours": "Check-in links stay valid (hours)",
            "clients_see_alliance_scores": "Clients may see their alliance scores",
            "client_portal_enabled": "Client portal",
            "research_export_cultural_text": _("Research exports may include what clients "
                                               "wrote about their culture"),
        }
        help_texts = {
            "repair_window": "After a possible rupture, the client's rating returning to its "
                             "earlier level within this many rated sessions counts as repaired.",
            "rci_sd": "Only needed for the measurement-error rule; from the questionnaire's "
                      "manual.",
            "rci_reliability": "Only needed for the measurement-error rule; between 0 and 1, "
                               "from the questionnaire's manual.",
            "low_alliance_percentile": "A rating among this share of the lowest in this clinic "
                                       "at the same session number is flagged (or below the "
                                       "questionnaire's published cutoff, where it has one).",
            "discrepancy_threshold": "Both ratings are put on a 0–100 scale first. Exploratory: "
                                     "a therapist rating the alliance higher than the client "
                                     "has not been shown to predict how therapy goes.",
            "disengagement_missed_sessions": "Cancelled or missed sessions in a row.",
            "disengagement_unanswered_checkins": "Check-ins left unanswered in a row.",
            "disengagement_gap_factor": "A gap between sessions this many times longer than "
                                        "the client's usual interval.",
        }
        widgets = {"rupture_rule": forms.RadioSelect, "rupture_reference": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instruments_in_use"].choices = instruments.instrument_choices()
        self.fields["time_zone"].choices = [(name, name) for name in localtime.zone_names()]
        if self.instance.pk is not None:
            self.initial.setdefault("attention_types", list(self.instance.attention_types or []))

    def clean_attention_types(self):
        # In the order of the choices, so that a saved setting reads the same way.
        chosen = set(self.cleaned_data["attention_types"])
        return [key for key, _ in ATTENTION_CHOICES if key in chosen]

    def clean_time_zone(self):
        # A form sent without the field (not from this page) keeps the clinic's zone.
        return self.cleaned_data["time_zone"] or self.instance.time_zone

    def clean_instruments_in_use(self):
        chosen = self.cleaned_data["instruments_in_use"]
        if not any(i.respondent == "client" for i in instruments.administrable(chosen, "client")):
            raise forms.ValidationError("Choose at least one client check-in that can be sent.")
        return chosen

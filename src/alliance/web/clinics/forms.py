from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from alliance.web import instruments
from alliance.web.forms import Form, ModelForm, PlainLabels
from alliance.web.clinics.models import Clinic, StaffMember


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
    supervisees = forms.ModelMultipleChoiceField(
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

    class Meta:
        model = Clinic
        fields = [
            "name", "instruments_in_use",
            "rupture_rule", "rupture_reference", "repair_window", "rci_sd", "rci_reliability",
            "low_alliance_percentile", "discrepancy_threshold",
            "disengagement_missed_sessions", "disengagement_unanswered_checkins",
            "disengagement_gap_factor",
            "goal_review_interval", "goal_agree_sessions", "goal_agree_days",
            "goal_ratings_apart", "goal_flat_reviews", "goal_flat_tolerance",
            "task_in_a_row", "task_unhelpful_rating",
            "checkin_link_expiry_hours", "clients_see_alliance_scores", "client_portal_enabled",
        ]
        labels = {
            "rupture_rule": "Rupture rule",
            "rupture_reference": "Compare each score with",
            "rci_sd": "Score SD (reliable-change rule)",
            "rci_reliability": "Score reliability (reliable-change rule)",
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
        }
        widgets = {"rupture_rule": forms.RadioSelect, "rupture_reference": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instruments_in_use"].choices = instruments.instrument_choices()

    def clean_instruments_in_use(self):
        chosen = self.cleaned_data["instruments_in_use"]
        if not any(i.respondent == "client" for i in instruments.administrable(chosen, "client")):
            raise forms.ValidationError("Choose at least one client check-in that can be sent.")
        return chosen

"""The clinic's safety settings and the response to a risk alert."""

from __future__ import annotations

from django import forms

from alliance.web.clinics.models import StaffMember
from alliance.web.forms import Form, ModelForm, RecordChoices
from alliance.web.safety.models import ClinicSafety, RiskAlert
from alliance.web.safety.services import RESPONSE_NOTE_LENGTH


class SafetyForm(ModelForm):
    class Meta:
        model = ClinicSafety
        fields = ["crisis_text", "on_call_staff", "on_call_emails", "escalation_minutes",
                  "ask_safety_question", "keywords_enabled", "keywords"]
        widgets = {"crisis_text": forms.Textarea(attrs={"rows": 6}),
                   "on_call_emails": forms.Textarea(attrs={"rows": 3}),
                   "keywords": forms.Textarea(attrs={"rows": 4}),
                   "on_call_staff": forms.CheckboxSelectMultiple}
        field_classes = {"on_call_staff": RecordChoices}

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.clinic = clinic
        self.fields["on_call_staff"].queryset = StaffMember.objects.filter(
            clinic=clinic, is_active=True).exclude(role=StaffMember.Role.ADMIN)


class ResponseForm(Form):
    response = forms.ChoiceField(label="What was done", choices=RiskAlert.Response.choices,
                                 widget=forms.RadioSelect)
    note = forms.CharField(label="In a few words (needed for the last three)", required=False,
                           max_length=RESPONSE_NOTE_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 3}))

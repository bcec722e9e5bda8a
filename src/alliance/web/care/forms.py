from __future__ import annotations

from django import forms
from django.utils import timezone

from alliance.web.care.models import (CLIENT_CODE_MAX_LENGTH, Case, Session,
                                      validate_client_code)
from alliance.web.forms import Form


class DateInput(forms.DateInput):
    input_type = "date"


class NewClientForm(Form):
    code = forms.CharField(
        label="Client code", max_length=CLIENT_CODE_MAX_LENGTH, validators=[validate_client_code],
        help_text="A pseudonymous code (letters A–Z, digits, '.', '_', '-'). Please do not "
                  "use the client's name or initials.")
    contact_email = forms.EmailField(
        label="E-mail address (optional)", required=False,
        help_text="Only used to send check-in links.")
    modality = forms.ChoiceField(choices=Case.Modality.choices)
    start_date = forms.DateField(label="Start of therapy", widget=DateInput,
                                 initial=timezone.localdate)


class SessionForm(Form):
    date = forms.DateField(widget=DateInput, initial=timezone.localdate)
    status = forms.ChoiceField(choices=Session.Status.choices, initial=Session.Status.ATTENDED,
                               widget=forms.RadioSelect, label="The client")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (Session.Status.ATTENDED, "attended"),
            (Session.Status.CANCELLED, "cancelled"),
            (Session.Status.NO_SHOW, "did not attend"),
        ]


class EndCaseForm(Form):
    status = forms.ChoiceField(
        choices=[(Case.Status.CLOSED, "Therapy was completed"),
                 (Case.Status.DROPPED_OUT, "Therapy ended early")],
        widget=forms.RadioSelect, label="How did the case end?")
    end_date = forms.DateField(widget=DateInput, initial=timezone.localdate)

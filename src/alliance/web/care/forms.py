from __future__ import annotations

from django import forms
from django.utils import timezone

from alliance.web.care.models import (CLIENT_CODE_MAX_LENGTH, CLIENT_NAME_MAX_LENGTH, Case,
                                      Session, validate_client_code)
from alliance.web.forms import Form


class DateInput(forms.DateInput):
    input_type = "date"


def _name_field():
    return forms.CharField(
        label="Name (optional)", max_length=CLIENT_NAME_MAX_LENGTH, required=False,
        help_text="The client's name, or the name they use. Kept encrypted and shown only to "
                  "staff who see the case; exports and research use the code.")


class NewClientForm(Form):
    name = _name_field()
    code = forms.CharField(
        label="Client code", max_length=CLIENT_CODE_MAX_LENGTH, validators=[validate_client_code],
        help_text="A pseudonymous code (letters A–Z, digits, '.', '_', '-') for exports and "
                  "research. Please do not use the client's name or initials in it.")
    contact_email = forms.EmailField(
        label="E-mail address (optional)", required=False,
        help_text="Only used to send check-in links.")
    modality = forms.ChoiceField(choices=Case.Modality.choices)
    start_date = forms.DateField(label="Start of therapy", widget=DateInput,
                                 initial=timezone.localdate)


class SessionForm(Form):
    date = forms.DateField(widget=DateInput, initial=timezone.localdate)
    # Both asked every time, nothing pre-selected: whether the client came and how the
    # session took place are stored only when someone gave them.
    status = forms.ChoiceField(choices=Session.Status.choices, widget=forms.RadioSelect,
                               label="The client")
    format = forms.ChoiceField(choices=Session.Format.choices, widget=forms.RadioSelect,
                               label="How the session took place (or was planned)")

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


class ClientNameForm(Form):
    name = _name_field()


class CaseloadFilter(forms.Form):
    """The caseload's search and filters (GET). Names are encrypted, so rows are filtered
    in Python over the user's scoped cases (`dashboards.caseload.filter_rows`)."""

    q = forms.CharField(required=False, max_length=120, label="Find a client",
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "placeholder": "Name or code"}))
    attention = forms.BooleanField(required=False, label="Needs attention")
    signal = forms.ChoiceField(required=False, label="Signal")
    modality = forms.ChoiceField(required=False, label="Way of working",
                                 choices=[("", "Any")] + list(Case.Modality.choices))
    therapist = forms.ChoiceField(required=False, label="Therapist")

    def __init__(self, data, *, signal_types, therapists=()):
        super().__init__(data)
        self.fields["signal"].choices = [("", "Any")] + list(signal_types)
        if therapists:
            self.fields["therapist"].choices = [("", "Everyone")] + [
                (str(t.pk), t.display_name) for t in therapists]
        else:
            del self.fields["therapist"]

    @property
    def active(self) -> bool:
        return self.is_bound and self.is_valid() and any(self.cleaned_data.values())

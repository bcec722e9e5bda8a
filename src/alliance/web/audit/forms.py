"""The audit page's filter: who, which client, which days."""

from __future__ import annotations

from django import forms

from alliance.web.audit import words
from alliance.web.care.models import Client
from alliance.web.clinics.models import StaffMember
from alliance.web.forms import RecordChoice


class EventFilterForm(forms.Form):
    person = RecordChoice(queryset=StaffMember.objects.none(), required=False,
                                    label="Staff member", empty_label="Everyone")
    action = forms.ChoiceField(required=False, label="What")
    client = forms.CharField(required=False, max_length=32, label="Client code")
    since = forms.DateField(required=False, label="From",
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="Until",
                            widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, data, *, clinic):
        super().__init__(data)
        self.clinic = clinic
        self.fields["person"].queryset = (StaffMember.objects.filter(clinic=clinic)
                                          .order_by("display_name"))
        self.fields["action"].choices = [("", "Anything")] + sorted(
            words.ACTION_WORDS.items(), key=lambda item: item[1])

    def clean_client(self):
        code = self.cleaned_data["client"].strip()
        if not code:
            return None
        client = Client.objects.filter(clinic=self.clinic, code__iexact=code).first()
        if client is None:
            raise forms.ValidationError(f"This clinic has no client with the code {code}.")
        return client

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", "The last day is before the first day.")
        return data

    def filter(self, events):
        data = self.cleaned_data
        if data.get("person"):
            events = events.filter(actor_id=data["person"].user_id)
        if data.get("action"):
            events = events.filter(action=data["action"])
        if data.get("client"):
            events = events.filter(client_id=data["client"].pk)
        if data.get("since"):
            events = events.filter(at__date__gte=data["since"])
        if data.get("until"):
            events = events.filter(at__date__lte=data["until"])
        return events

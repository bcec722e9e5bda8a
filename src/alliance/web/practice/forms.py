from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from alliance.web.practice.models import PracticeFocus

#: The page's default period: the last twelve months.
DEFAULT_DAYS = 365


class PeriodForm(forms.Form):
    """The period the figures cover (GET). Both dates optional: the last twelve months."""

    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            label="From")
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                          label="To")

    def clean(self):
        data = super().clean()
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_DAYS)
        if start > end:
            raise forms.ValidationError("The period must start before it ends.")
        data["start"], data["end"] = start, end
        return data

    def period(self) -> tuple[dt.date, dt.date]:
        """The chosen period, or the default when the dates are not valid."""
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        end = timezone.localdate()
        return end - dt.timedelta(days=DEFAULT_DAYS), end


class FocusForm(forms.Form):
    skill = forms.ChoiceField(choices=PracticeFocus.Skill.choices, label="Skill to practise")
    started_on = forms.DateField(label="Start date",
                                 widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(required=False, max_length=1000, label="What you agreed (optional)",
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="In your own words, without client details.")

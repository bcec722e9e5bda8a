from __future__ import annotations

import datetime as dt

from django import forms

from alliance.web import localtime
from alliance.web.api.models import ApiToken
from alliance.web.forms import Form


def end_of(day: dt.date, clinic=None) -> dt.datetime:
    """A token valid "until" a date works through that whole day where the clinic is (the
    active time zone without a clinic: the clinic's, in a request)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(),
                               tzinfo=localtime.zone(clinic))


class TokenCreateForm(Form):
    name = forms.CharField(label="Name", max_length=100,
                           help_text="What will use it, e.g. “Reporting service”.")
    scope = forms.ChoiceField(
        label="Access", choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
        help_text="Read and write: it can also submit forms, act on signals and add or agree "
                  "to goals and tasks, in your own cases.")
    expires = forms.DateField(label="Valid until (optional)", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}),
                              help_text="It stops working after this day. Leave empty to "
                                        "keep it until you revoke it.")

    @property
    def expires_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("expires")
        return end_of(day) if day else None

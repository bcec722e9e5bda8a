from django import forms

from alliance.web.monitoring.models import RepairAction


class DismissForm(forms.Form):
    reason = forms.CharField(
        label="Why does this not need attention?", max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Please say briefly why this signal does not need "
                                    "attention; it stays with the signal for later."})


class RepairForm(forms.Form):
    """What the therapist did about a signal (`services.record_repair` checks the rules)."""

    kind = forms.ChoiceField(
        label="What did you do?", choices=RepairAction.Kind.choices, widget=forms.RadioSelect,
        error_messages={"required": "Please choose what you did."})
    showed_as = forms.ChoiceField(
        label="How did it show?", choices=RepairAction.ShowedAs.choices, widget=forms.RadioSelect,
        initial=RepairAction.ShowedAs.NOT_SURE,
        error_messages={"required": "Please choose how it showed, or “Not sure”."})
    note = forms.CharField(
        label="A short note", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you said or agreed, in a sentence or two. Needed for “Something else”.")
    session = forms.IntegerField(
        label="In session (optional)", required=False, min_value=1,
        help_text="The number of the session in which you did it.")

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.web.forms import Form, SetPassword
from alliance.web.portal.models import ClientFeedback

GOAL_TEXT_MAX_LENGTH = 300


class EmailInput(forms.EmailInput):
    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "email", "inputmode": "email", **(attrs or {})})


class LinkRequestForm(Form):
    email = forms.EmailField(label=_("Your e-mail address"), widget=EmailInput,
                             help_text=_("The address your therapist has for you."))


class PasswordSignInForm(Form):
    email = forms.EmailField(label=_("Your e-mail address"), widget=EmailInput)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "current-password"}))


class ChoosePasswordForm(SetPassword):
    """Django's set-password form: the clinic's password rules apply (validators)."""


class FeedbackForm(Form):
    text = forms.CharField(
        label=_("What would you like your therapist to know?"),
        max_length=ClientFeedback.MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("For example what helps, what does not, or something you would like to "
                    "talk about next time. Only your therapist reads it. In an emergency, please "
                    "call your local emergency number instead."))


class GoalForm(Form):
    text = forms.CharField(
        label=_("A goal in your own words"), max_length=GOAL_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What would you like to be different? For example: “Sleep through the "
                    "night more often” or “Feel less tense at work”."))


HELPFUL_CHOICES = [(str(n), str(n)) for n in range(11)]


class TaskReportForm(Form):
    done = forms.ChoiceField(
        label=_("Since your last session, did you do it?"), widget=forms.RadioSelect,
        choices=[("done", _("Yes, I did it")), ("partly", _("Partly")),
                 ("not_done", _("Not this time"))])
    helpful = forms.TypedChoiceField(
        label=_("How helpful was it?"), choices=HELPFUL_CHOICES, coerce=int, required=False,
        empty_value=None, widget=forms.RadioSelect,
        help_text=_("0 = not helpful at all, 10 = very helpful. Leave it empty if you did not "
                    "get to it."))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("done") in ("done", "partly") and cleaned.get("helpful") is None:
            self.add_error("helpful", _("Please choose how helpful it was (0 to 10)."))
        return cleaned

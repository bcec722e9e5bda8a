"""The intake questions, in the project's own words: one form for the check-in and the
client portal. Every question is optional and nothing is chosen until the client chooses."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alliance.web.forms import Form
from alliance.web.intake.models import (PREFERENCES, READINESS_MAX, READINESS_MIN,
                                        TEXT_MAX_LENGTH, PastTherapy)

#: The paired preferences as questions (the choices are on the models).
PREFERENCE_QUESTIONS = {
    "structure": _("Would you like our sessions to have…"),
    "focus": _("Would you like to focus…"),
    "tasks": _("Would you like things to try out between sessions?"),
    "lead": _("In sessions, would you rather…"),
}
READINESS_POINTS = list(range(READINESS_MIN, READINESS_MAX + 1))
CHOOSE_ONE = _("Please choose one of the options, or leave the question alone.")
TOO_LONG = _("Please keep this to %(limit_value)d characters (it has %(show_value)d).")


def _text(label, help_text=""):
    return forms.CharField(label=label, help_text=help_text, required=False,
                           max_length=TEXT_MAX_LENGTH,
                           error_messages={"max_length": TOO_LONG},
                           widget=forms.Textarea(attrs={"rows": 3}))


def _choice(label, choices):
    return forms.ChoiceField(label=label, choices=choices, required=False,
                             widget=forms.RadioSelect,
                             error_messages={"invalid_choice": CHOOSE_ONE})


class IntakeForm(Form):
    """The intake; `cleaned_answers()` gives what to store (blank: not answered)."""

    hopes = _text(_("What do you hope will be different for you after coming here?"),
                  _("In your own words; a few words are enough."))
    past_therapy = _choice(_("Have you had therapy or counselling before?"), PastTherapy.choices)
    past_therapy_text = _text(
        _("If you have: what helped, or what did not?"),
        _("Anything you would like your therapist to know about it."))
    structure = _choice(PREFERENCE_QUESTIONS["structure"], PREFERENCES["structure"].choices)
    focus = _choice(PREFERENCE_QUESTIONS["focus"], PREFERENCES["focus"].choices)
    tasks = _choice(PREFERENCE_QUESTIONS["tasks"], PREFERENCES["tasks"].choices)
    lead = _choice(PREFERENCE_QUESTIONS["lead"], PREFERENCES["lead"].choices)
    readiness = forms.IntegerField(
        label=_("How ready do you feel to make changes in your life at the moment?"),
        required=False, min_value=READINESS_MIN, max_value=READINESS_MAX,
        error_messages={key: _("Please choose a value from 0 to 10.")
                        for key in ("invalid", "min_value", "max_value")})
    culture = _text(
        _("Is there anything about who you are that you would like your therapist to know "
          "or keep in mind?"),
        _("For example your culture, identity, faith or language — only if you want to."))

    TEXT_FIELDS = ("hopes", "past_therapy_text", "culture")

    def cleaned_answers(self) -> dict:
        data = self.cleaned_data
        answers = {name: (data.get(name) or "").strip() for name in self.TEXT_FIELDS}
        answers.update({name: data.get(name) or "" for name in ("past_therapy", *PREFERENCES)})
        answers["readiness"] = data.get("readiness")
        return answers

    # For the template ------------------------------------------------------------------
    def preference_fields(self):
        return [self[name] for name in PREFERENCES]

    def readiness_points(self):
        return READINESS_POINTS

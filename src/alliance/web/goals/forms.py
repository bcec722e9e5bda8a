"""Staff forms of the "Goals and tasks" section. Rules live in `services`; these only parse."""

from __future__ import annotations

from django import forms

from alliance.web.forms import Form
from alliance.web.goals.models import RATING_MAX, RATING_MIN, TEXT_MAX_LENGTH, Goal, Side, Task
from alliance.web.goals.services import HOW_OFTEN_MAX_LENGTH


class ProposeGoalForm(Form):
    text = forms.CharField(
        label="The goal", max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="In the client's own words where you can, e.g. “Get back to sleeping "
                  "through most nights”.")
    proposed_by = forms.ChoiceField(
        label="Whose goal is it?", widget=forms.RadioSelect, initial=Side.CLIENT,
        choices=[(Side.CLIENT, "The client's, in their words (they count as having agreed; "
                               "you agree next)"),
                 (Side.THERAPIST, "My suggestion (the client agrees at their next check-in)")])


class ReviseGoalForm(Form):
    text = forms.CharField(label="New wording", max_length=TEXT_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text="The earlier wording stays in the history; the client "
                                     "agrees to the new one at their next check-in.")


class GoalStatusForm(Form):
    status = forms.ChoiceField(choices=[(Goal.Status.ACHIEVED, "Achieved"),
                                        (Goal.Status.DROPPED, "Dropped")])


class RatingForm(Form):
    rating = forms.IntegerField(
        label="Your rating of progress (0–10)", min_value=RATING_MIN, max_value=RATING_MAX,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text="0 = no progress yet, 10 = reached it.",
        error_messages={"min_value": "Please give a number from 0 to 10.",
                        "max_value": "Please give a number from 0 to 10.",
                        "invalid": "Please give a whole number from 0 to 10.",
                        "required": "Please give a number from 0 to 10."})


class ProposeTaskForm(Form):
    what = forms.CharField(label="What", max_length=TEXT_MAX_LENGTH,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text="e.g. “A ten-minute walk after lunch”.")
    how_often = forms.CharField(label="How often", max_length=HOW_OFTEN_MAX_LENGTH,
                                required=False, help_text="e.g. “on work days”.")
    until = forms.DateField(label="Until", required=False,
                            widget=forms.DateInput(attrs={"type": "date"}),
                            help_text="Leave empty to keep it going until you review it.")


class TaskStatusForm(Form):
    status = forms.ChoiceField(choices=[(Task.Status.DONE, "Finished"),
                                        (Task.Status.STOPPED, "Stopped")])

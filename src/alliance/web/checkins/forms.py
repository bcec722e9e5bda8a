"""A Django form built from an instrument definition.

The form only checks that each answer is a point of the item's response scale (using the
core definition's own check); scoring is done by the core engine in the service.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _

from alliance.web import instruments
from alliance.web.forms import Form
from alliance.web.instruments import FormSpec, ItemSpec

OPEN_ANSWER_MAX_LENGTH = 2000


def _number(value: float) -> str:
    return f"{value:g}"


class ScaleField(forms.FloatField):
    """A number that must be one of the points of an item's response scale."""

    def __init__(self, *, instrument, item: ItemSpec, **kwargs):
        self.instrument = instrument
        self.item = item
        low, high = _number(item.minimum), _number(item.maximum)
        kwargs.setdefault("error_messages", {
            "required": _("Please give an answer to this question."),
            "invalid": _("Please choose a value from %(low)s to %(high)s.") % {
                "low": low, "high": high},
        })
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value is not None and not instruments.accepts(self.instrument, self.item.id, value):
            low, high = _number(self.item.minimum), _number(self.item.maximum)
            raise forms.ValidationError(
                _("%(value)s is not on this scale: please choose a value from %(low)s to "
                  "%(high)s.") % {"value": _number(value), "low": low, "high": high},
                code="out_of_range")


class InstrumentForm(Form):
    """Fields named after the instrument's item and open-question ids."""

    def __init__(self, *args, instrument, language: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        # One language for the whole form: the respondent's, or the instrument's own.
        self.spec: FormSpec = instruments.form_spec(instrument, language)
        for item in self.spec.items:
            self.fields[item.id] = ScaleField(instrument=instrument, item=item, label=item.text)
        for question in self.spec.questions:
            self.fields[question.id] = forms.CharField(
                label=question.text, required=question.required,
                max_length=OPEN_ANSWER_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))

    def responses(self) -> dict[str, float | None]:
        return {item.id: self.cleaned_data.get(item.id) for item in self.spec.items}

    def answers(self) -> dict[str, str]:
        return {q.id: self.cleaned_data.get(q.id, "").strip() for q in self.spec.questions}

    def rows(self):
        """Each item with its bound field, the answer given (None until one is chosen:
        nothing is pre-selected) and the labels of the scale's two ends."""
        for item in self.spec.items:
            bound = self[item.id]
            ends = {a.value: a.label for a in item.anchors}
            yield {"item": item, "field": bound, "value": bound.value(),
                   "low": ends.get(item.points[0], ""), "high": ends.get(item.points[-1], "")}

    def question_rows(self):
        for question in self.spec.questions:
            yield {"question": question, "field": self[question.id]}

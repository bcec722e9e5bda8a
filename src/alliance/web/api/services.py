"""Submitting a form through the API: the same validation, scoring and storage as the web.

A therapist form goes through `checkins.services.submit_by_staff`, exactly as the
therapist's page does. A client form typed in by staff (e.g. from paper) is stored the way
a check-in is: a one-time link is issued and consumed at once by `submit_link`, so the core
engine scores it, the link rules hold (an earlier link for the form stops working) and the
signals are recomputed; it is marked as entered by staff. Both run in one transaction: a
form that cannot be stored leaves nothing behind (not even the new link).
"""

from __future__ import annotations

from django.db import transaction
from rest_framework.exceptions import ValidationError

from alliance.web import instruments
from alliance.web.care.models import Session
from alliance.web.checkins import services as checkins
from alliance.web.checkins.forms import InstrumentForm
from alliance.web.checkins.models import Administration
from alliance.web.clinics.models import StaffMember


def _instrument(session: Session, instrument_id: str):
    in_use = checkins.in_use(session.case.client.clinic)
    for respondent in (Administration.Respondent.THERAPIST, Administration.Respondent.CLIENT):
        for instrument in instruments.administrable(in_use, respondent):
            if instrument.id == instrument_id:
                return instrument
    raise ValidationError({"instrument": [("This instrument is not in use at your clinic "
                                           "(or has no wording to show).")]})


def _validated(instrument, responses: dict, answers: dict) -> InstrumentForm:
    """The web form's own checks (each answer a point of its scale; required questions)."""
    form = InstrumentForm({**{k: v for k, v in responses.items() if v is not None},
                           **answers}, instrument=instrument)
    errors: dict[str, list[str]] = {}
    items = {item.id for item in form.spec.items}
    questions = {question.id for question in form.spec.questions}
    for key in responses:
        if key not in items:
            errors[f"responses.{key}"] = [f"{instrument.title} has no item {key!r}."]
    for key in answers:
        if key not in questions:
            errors[f"answers.{key}"] = [f"{instrument.title} has no open question {key!r}."]
    if not form.is_valid():
        for name, messages in form.errors.items():
            prefix = "responses." if name in items else "answers." if name in questions else ""
            errors[f"{prefix}{name}" if prefix else "non_field_errors"] = list(messages)
    if errors:
        raise ValidationError(errors)
    return form


def submit_form(session: Session, instrument_id: str, responses: dict, answers: dict, *,
                by: StaffMember) -> Administration:
    instrument = _instrument(session, instrument_id)
    form = _validated(instrument, responses, answers)
    if instrument.respondent == Administration.Respondent.THERAPIST:
        return checkins.submit_by_staff(session, instrument.id, form.responses(),
                                        form.answers(), by=by)

    def entered_by_staff(administration):
        Administration.objects.filter(pk=administration.pk).update(
            via=Administration.Via.STAFF)

    with transaction.atomic():
        issued = checkins.issue_link(session, instrument.id, by=by)
        return checkins.submit_link(issued.token, form.responses(), form.answers(),
                                    also=entered_by_staff)

"""The intake inside the client's check-in.

The check-in of one of the case's first sessions (`services.ASK_UNTIL_SESSION`) carries
the intake while the case has none, under its own heading after the session's forms. It is
stored in the check-in's transaction (`checkins.services.submit_link(…, also=…)`), so the
link is consumed once and everything is stored once or not at all. Sent with every
question left alone, it is stored with every answer missing and not asked again: the
client saw it and chose not to answer, which the therapist can talk about.
"""

from __future__ import annotations

from alliance.web.care.models import Session
from alliance.web.intake import services
from alliance.web.intake.forms import IntakeForm

PREFIX = "intake"


def form_for(session: Session, data=None) -> IntakeForm | None:
    """The intake part of this session's check-in, or None when it is not asked."""
    if not services.asks_intake(session):
        return None
    return IntakeForm(data, prefix=PREFIX)


def store(form: IntakeForm, session: Session) -> None:
    services.store_from_checkin(session.case, session, form.cleaned_answers())

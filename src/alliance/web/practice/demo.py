"""The demo clinic's practice focus: the first therapist and their supervisor agreed, eight
weeks before the demo's today, to practise inviting negative feedback, so that "My
practice" shows the figures before and after a start in `alliance demo`."""

from __future__ import annotations

import datetime as dt

from alliance.web.clinics.models import StaffMember
from alliance.web.practice.models import PracticeFocus

WEEKS_AGO = 8
NOTE = ("At the end of each session, ask what did not help or did not fit, and thank the "
        "client for saying it.")


def seed_practice_focus(clinic, therapist: StaffMember, supervisor: StaffMember, *,
                        today: dt.date) -> PracticeFocus:
    return PracticeFocus.objects.create(
        clinic=clinic, therapist=therapist, skill=PracticeFocus.Skill.INVITING_FEEDBACK,
        note=NOTE, started_on=today - dt.timedelta(weeks=WEEKS_AGO), created_by=supervisor)

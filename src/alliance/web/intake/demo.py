"""Intakes for the demo clinic: what clients answered with their first check-in.

The wording is the project's own, made up for the demo. Each active case whose first
session's check-in was answered gets one of a few intakes, some questions left alone as real
clients leave them; drawn from its own random stream, so the rest of the demo is unchanged.
"""

from __future__ import annotations

import random

from alliance.web.care.models import Case
from alliance.web.checkins.models import Administration
from alliance.web.intake.models import Intake

INTAKES = [
    {"hopes": "To feel less on edge at work and sleep through the night.",
     "past_therapy": "none", "structure": "structure", "focus": "present", "tasks": "tasks",
     "lead": "either", "readiness": 7},
    {"hopes": "To understand why I keep ending up in the same arguments with people I love.",
     "past_therapy": "mixed",
     "past_therapy_text": "Talking helped, but the worksheets felt like school.",
     "structure": "explore", "focus": "past", "tasks": "no_tasks", "lead": "client_led",
     "readiness": 5,
     "culture": "My family is Catholic and that matters to me, even when we disagree."},
    {"hopes": "Get back to how I was before the accident.", "past_therapy": "unhelpful",
     "structure": "structure", "tasks": "either", "lead": "directive", "readiness": 8},
    {"hopes": "", "past_therapy": "helpful", "structure": "either", "focus": "present",
     "tasks": "no_tasks", "readiness": 4,
     "culture": "English is my second language; sometimes I need a moment to find the word."},
]


def seed_intakes(clinic, *, seed: int = 7) -> int:
    """An intake for each active case whose first check-in was answered; their number."""
    rng = random.Random(seed * 31 + 5)
    first = (Administration.objects
             .filter(session__case__client__clinic=clinic, session__number=1,
                     session__case__status=Case.Status.ACTIVE, respondent="client",
                     submitted_at__isnull=False)
             .select_related("session").order_by("session__case_id", "instrument_id"))
    by_case = {}
    for administration in first:
        by_case.setdefault(administration.session.case_id, administration)
    rows = []
    for case_id, administration in sorted(by_case.items()):
        answers = dict(rng.choice(INTAKES))
        rows.append(Intake(case_id=case_id, session=administration.session,
                           via=Intake.Via.CHECKIN, submitted_at=administration.submitted_at,
                           updated_at=administration.submitted_at, **answers))
    Intake.objects.bulk_create(rows)
    return len(rows)

"""Rated sessions for dashboard tests, stored as the check-in forms would store them.

Item answers are chosen so that each subscale has the wanted score (7.5 = answers 7 and 8),
and the stored scores are the core engine's scoring of those answers, as for a real
submission. `add_sessions` writes with bulk inserts, so 200 cases take a moment.
"""

from __future__ import annotations

import datetime as dt
import math

from django.utils import timezone

from alliance.web import instruments
from alliance.web.care.models import Case, Client, Session
from alliance.web.checkins.models import Administration
from alliance.web.monitoring.models import Signal

START = dt.date(2026, 1, 5)


def _pair(value: float) -> tuple[int, int]:
    """Two whole-number answers whose mean is `value` (a multiple of 0.5)."""
    low = math.floor(value)
    return (low, low) if value == low else (low, low + 1)


def client_responses(bond: float, goals: float, tasks: float) -> dict:
    b, g, t = _pair(bond), _pair(goals), _pair(tasks)
    return {"bond1": b[0], "bond2": b[1], "goals1": g[0], "goals2": g[1],
            "tasks1": t[0], "tasks2": t[1]}


def wellbeing_responses(value: float) -> dict:
    """Four answers with mean `value` (a multiple of 0.25)."""
    total = round(value * 4)
    base, extra = divmod(total, 4)
    answers = [base + (1 if i < extra else 0) for i in range(4)]
    return dict(zip(("self", "close", "everyday", "overall"), answers))


def _administration(session, instrument_id, respondent, responses, answers=None):
    instrument = instruments.get_instrument(instrument_id)
    return Administration(session=session, instrument_id=instrument_id,
                          instrument_version=instrument.version, respondent=respondent,
                          via="staff", responses=responses,
                          scores=instruments.score(instrument, responses),
                          answers=answers or {}, submitted_at=timezone.now())


def add_sessions(case: Case, rows: list[dict]) -> list[Session]:
    """Sessions 1, 2, … of `case`, weekly from its start, with their forms.

    Each row: ``alliance=(bond, goals, tasks)``, ``therapist=(bond, goals, tasks)``,
    ``wellbeing=value``, ``status`` ("attended" by default), ``answer`` (open text of the
    client check-in), ``pending`` (a client check-in created but not answered).
    """
    sessions = Session.objects.bulk_create([
        Session(case=case, number=i + 1, date=case.start_date + dt.timedelta(weeks=i),
                status=row.get("status", "attended"))
        for i, row in enumerate(rows)])
    forms = []
    for session, row in zip(sessions, rows):
        if row.get("alliance"):
            forms.append(_administration(
                session, "alliance-client", "client", client_responses(*row["alliance"]),
                {"more_helpful": row["answer"]} if row.get("answer") else None))
        elif row.get("pending"):
            instrument = instruments.get_instrument("alliance-client")
            forms.append(Administration(session=session, instrument_id="alliance-client",
                                        instrument_version=instrument.version,
                                        respondent="client", via="link"))
        if row.get("therapist"):
            forms.append(_administration(session, "alliance-therapist", "therapist",
                                         client_responses(*row["therapist"])))
        if row.get("wellbeing") is not None:
            forms.append(_administration(session, "wellbeing", "client",
                                         wellbeing_responses(row["wellbeing"])))
    Administration.objects.bulk_create(forms)
    return sessions


def steady_rows(count: int, level: float = 7.0) -> list[dict]:
    return [{"alliance": (level, level, level), "therapist": (level, level, level),
             "wellbeing": 5.0} for _ in range(count)]


def many_cases(therapist, count: int, sessions: int = 3, prefix: str = "C-M") -> list[Case]:
    """`count` active cases of `therapist`, each with `sessions` rated sessions and two
    signals: a low rating and a rupture waiting for repair (the caseload reads both kinds'
    fields)."""
    clients = Client.objects.bulk_create([
        Client(clinic=therapist.clinic, code=f"{prefix}{i:04d}") for i in range(count)])
    cases = Case.objects.bulk_create([
        Case(client=c, therapist=therapist, modality="cbt", start_date=START) for c in clients])
    for case in cases:
        add_sessions(case, steady_rows(sessions))
    last = {s.case_id: s for s in Session.objects.filter(case__in=cases, number=sessions)}
    Signal.objects.bulk_create([
        signal
        for case in cases
        for signal in (
            Signal(case=case, session=last[case.pk], type="low_alliance", subject="total",
                   rule="percentile", explanation="A lower rating than usual."),
            Signal(case=case, session=last[case.pk], type="rupture", subject="bond",
                   rule="drop", repair_state="pending", explanation="Bond dropped."))])
    return cases

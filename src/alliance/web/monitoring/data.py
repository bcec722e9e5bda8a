"""Cases as the long-format table the core reads, loaded from the database in a few queries.

One row per scheduled session: ``client_id`` (the case's id, as text), ``session``,
``date`` (ISO), ``attended`` (1/0), ``alliance`` with ``bond``/``goals``/``tasks`` (the
client's alliance check-in), ``therapist_alliance`` and ``wellbeing`` (the clinic's outcome
check-in); empty when not answered. The same shape as the simulator's ``sessions.csv``
(docs/simulator.md), so every detector of `alliance.core.signals` runs on it unchanged.

Which instrument fills which column is the clinic's choice of instruments in use (the
first of each list below that the clinic uses).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (BooleanField, Case, Exists, ExpressionWrapper, OuterRef, Q,
                              TextField, Value, When)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from alliance.core.instruments import Instrument
from alliance.web import instruments as web_instruments
from alliance.web.care.models import Session
from alliance.web.checkins.models import Administration, CheckinLink
from alliance.web.portal.models import ClientFeedback

#: Client-rated alliance instruments, in order of preference.
CLIENT_ALLIANCE = ("alliance-brief", "alliance-client", "wai-sr", "srs")
#: Therapist-rated alliance instruments.
THERAPIST_ALLIANCE = ("alliance-therapist",)
#: Outcome instruments for "not on track", in order of preference.
OUTCOME = ("wellbeing", "ors", "phq-9", "gad-7")
#: Subscale ids of alliance instruments → columns of the long format (WAI-SR says
#: "goal" and "task" for the same parts of the alliance).
SUBSCALE_COLUMNS = {"bond": "bond", "goals": "goals", "goal": "goals", "tasks": "tasks",
                    "task": "tasks"}
SCORE_COLUMNS = ("alliance", "bond", "goals", "tasks", "therapist_alliance", "wellbeing")

# What became of a session's client alliance check-in.
ANSWERED, UNANSWERED, WAITING, NOT_SENT = "answered", "unanswered", "waiting", "not_sent"


@dataclass(frozen=True)
class ClinicInstruments:
    """The instruments whose scores fill the columns, for one clinic (None = not in use)."""

    client: Instrument | None
    therapist: Instrument | None
    outcome: Instrument | None

    @property
    def subscales(self) -> dict[str, str]:
        """Column → subscale id of the client instrument (e.g. "goals" → "goal")."""
        if self.client is None:
            return {}
        found: dict[str, str] = {}
        for subscale in self.client.subscales:
            column = SUBSCALE_COLUMNS.get(subscale.id)
            if column and column not in found:
                found[column] = subscale.id
        return found

    def scale(self, instrument: Instrument | None, score_id: str = "total"):
        if instrument is None:
            return None
        return instrument.score_range(score_id)


def _first_in_use(clinic, candidates) -> Instrument | None:
    in_use = set(clinic.instruments_in_use or [])
    for instrument_id in candidates:
        if instrument_id in in_use:
            return web_instruments.get_instrument(instrument_id)
    return None


def clinic_instruments(clinic) -> ClinicInstruments:
    return ClinicInstruments(client=_first_in_use(clinic, CLIENT_ALLIANCE),
                             therapist=_first_in_use(clinic, THERAPIST_ALLIANCE),
                             outcome=_first_in_use(clinic, OUTCOME))


@dataclass(frozen=True)
class Feedback:
    """A non-empty answer to an open question of a client check-in."""

    case_id: int
    session_id: int
    session: int
    instrument_id: str
    question_id: str
    text: str


@dataclass(frozen=True)
class PortalFeedback:
    """Something the client wrote to the therapist in the client portal (no session)."""

    case_id: int
    feedback_id: int
    written_on: dt.date
    text: str


@dataclass
class CaseData:
    """The long-format table of some cases, with what the signals need besides it."""

    frame: pd.DataFrame
    # (case id, session number) → session id, to attach signals to sessions.
    session_ids: dict[tuple[int, int], int] = field(default_factory=dict)
    # Per row of `frame`: ANSWERED, UNANSWERED, WAITING or NOT_SENT (client check-in).
    checkin: list[str] = field(default_factory=list)
    feedback: list[Feedback] = field(default_factory=list)
    portal_feedback: list[PortalFeedback] = field(default_factory=list)


def _number(value) -> float:
    """A stored score as a float (NaN when missing or not scorable)."""
    if type(value) is float:  # most of them
        return value if math.isfinite(value) else math.nan
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def _asking() -> set[str]:
    """The instruments with open questions (the others' forms have no open answers)."""
    return {i.id for i in web_instruments.all_instruments() if i.open_questions}


_SUBMITTED = ExpressionWrapper(Q(submitted_at__isnull=False), output_field=BooleanField())


def _plain_rows(queryset):
    """The rows of a `values_list` query as the database driver gives them, without
    Django's conversion of each value: for the clinic's hundred thousand forms, where the
    values read are text, numbers and flags (a flag may come as 1/0)."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # e.g. no cases
        return
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(2000):
            yield from rows


def load_cases(case_ids, instruments: ClinicInstruments) -> CaseData:
    """The long-format table of these cases (three queries, however many sessions: the
    sessions, their forms, and what the clients wrote in the portal).

    Rows are ordered by case, then session number.
    """
    case_ids = list(case_ids)
    sessions = list(Session.objects.filter(case_id__in=case_ids)
                    .order_by("case_id", "number")
                    .values_list("id", "case_id", "number", "date", "status"))
    wanted = [i.id for i in (instruments.client, instruments.therapist, instruments.outcome)
              if i is not None]
    # No ordering (the forms are gathered by session): the administrations' default one
    # joins the cases and sorts every form.
    forms = Administration.objects.filter(session__case_id__in=case_ids).order_by()
    client_id = instruments.client.id if instruments.client else None
    # Only the numbers wanted, read from the stored JSON by the database as text (not
    # every score parsed in Python), and whether the form was submitted rather than when.
    # Open answers come as the stored token and are decrypted only where there can be
    # some: the client's submitted forms of instruments that ask open questions.
    subscales = list(instruments.subscales.items())
    paths = ["total", *(f"subscales__{sid}" for _, sid in subscales)]
    # Whether a link to answer is still usable matters only for the client's forms not
    # yet answered: the subquery runs for those few, not for every form of the clinic.
    unanswered = Q(submitted_at__isnull=True, respondent=Administration.Respondent.CLIENT)
    links = CheckinLink.objects.live().filter(administration=OuterRef("pk"))
    live = Case(When(unanswered, then=Exists(links)), default=Value(False),
                output_field=BooleanField())
    administrations = (forms.annotate(submitted=_SUBMITTED, has_live_link=live,
                                      token=Cast("answers", output_field=TextField()),
                                      **{f"score_{k}": KT(f"scores__{path}")
                                         for k, path in enumerate(paths)})
                       .values_list("session_id", "instrument_id", "respondent",
                                    "submitted", "has_live_link", "token",
                                    *(f"score_{k}" for k in range(len(paths)))))
    asking = _asking()
    answers_field = Administration._meta.get_field("answers")
    by_session: dict[int, dict[str, object]] = {}
    feedback_by_session: dict[int, list[tuple[str, str, str]]] = {}
    checkin_state: dict[int, str] = {}
    for session_id, instrument_id, respondent, submitted, has_live, token, total, *parts in \
            _plain_rows(administrations):
        by_client = respondent == Administration.Respondent.CLIENT
        if by_client and submitted and token and instrument_id in asking:
            answers = answers_field.from_db_value(token, None, None)
            for question_id, text in (answers or {}).items():
                if isinstance(text, str) and text.strip():
                    feedback_by_session.setdefault(session_id, []).append(
                        (instrument_id, question_id, text.strip()))
        if instrument_id == client_id and by_client:
            checkin_state[session_id] = (ANSWERED if submitted else
                                         WAITING if has_live else UNANSWERED)
        if not submitted or instrument_id not in wanted:
            continue
        values = by_session.setdefault(session_id, {})
        if instrument_id == client_id and by_client:
            values["alliance"] = _number(total)
            for (column, _), value in zip(subscales, parts):
                values[column] = _number(value)
        elif instruments.therapist and instrument_id == instruments.therapist.id:
            values["therapist_alliance"] = _number(total)
        elif instruments.outcome and instrument_id == instruments.outcome.id:
            values["wellbeing"] = _number(total)

    columns: dict[str, list] = {"client_id": [], "session": [], "date": [], "attended": []}
    columns.update({name: [] for name in SCORE_COLUMNS})
    data = CaseData(frame=pd.DataFrame())
    for session_id, case_id, number, date, status in sessions:
        values = by_session.get(session_id, {})
        attended = status == Session.Status.ATTENDED
        columns["client_id"].append(str(case_id))
        columns["session"].append(number)
        columns["date"].append(date.isoformat())
        columns["attended"].append(1 if attended else 0)
        for name in SCORE_COLUMNS:
            columns[name].append(values.get(name, math.nan))
        data.session_ids[(case_id, number)] = session_id
        data.checkin.append(checkin_state.get(session_id, NOT_SENT))
        for instrument_id, question_id, text in feedback_by_session.get(session_id, ()):
            data.feedback.append(Feedback(case_id=case_id, session_id=session_id,
                                          session=number, instrument_id=instrument_id,
                                          question_id=question_id, text=text))
    frame = pd.DataFrame(columns)
    frame["session"] = frame["session"].astype(np.int64)
    frame["attended"] = frame["attended"].astype(np.int64)
    for name in SCORE_COLUMNS:
        frame[name] = frame[name].astype(float)
    data.frame = frame
    data.portal_feedback = [
        PortalFeedback(case_id=case_id, feedback_id=pk, written_on=timezone.localdate(created),
                       text=text)
        for pk, case_id, created, text in ClientFeedback.objects.filter(case_id__in=case_ids)
        .order_by("pk").values_list("pk", "case_id", "created_at", "text")]
    return data


def case_frame(case) -> pd.DataFrame:
    """The long-format table of one case (for charts and exports)."""
    clinic = case.client.clinic
    return load_cases([case.pk], clinic_instruments(clinic)).frame


def clinic_scores(clinic, instrument: Instrument, score_paths: dict[str, str], *,
                  exclude_cases=(), session_numbers=None, until=None,
                  case_status: str | None = None) -> pd.DataFrame:
    """Every submitted client score of `instrument` at the clinic, one row per administration.

    Columns ``client_id`` (the case id, as text), ``session``, ``date`` and one per entry of
    `score_paths` (column → path in the stored scores, e.g. ``"subscales__bond"``). One
    query; only the wanted numbers are read from the stored JSON. Optionally only some
    session numbers, sessions dated on or before `until`, or cases with `case_status`.
    """
    rows = (Administration.objects
            .filter(session__case__client__clinic=clinic, instrument_id=instrument.id,
                    respondent=Administration.Respondent.CLIENT, submitted_at__isnull=False)
            .exclude(session__case_id__in=list(exclude_cases)))
    if session_numbers is not None:
        rows = rows.filter(session__number__in=list(session_numbers))
    if until is not None:
        rows = rows.filter(session__date__lte=until)
    if case_status is not None:
        rows = rows.filter(session__case__status=case_status)
    names = list(score_paths)
    values = rows.values_list("session__case_id", "session__number", "session__date",
                              *(f"scores__{score_paths[n]}" for n in names))
    columns: dict[str, list] = {"client_id": [], "session": [], "date": []}
    columns.update({n: [] for n in names})
    for case_id, number, date, *scores in values:
        columns["client_id"].append(str(case_id))
        columns["session"].append(number)
        columns["date"].append(date.isoformat())
        for name, value in zip(names, scores):
            columns[name].append(_number(value))
    frame = pd.DataFrame(columns)
    frame["session"] = frame["session"].astype(np.int64)
    for name in names:
        frame[name] = frame[name].astype(float)
    return frame

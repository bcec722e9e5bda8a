"""What the case page shows: the scores in words, the charts' numbers, the session list,
signals and the client's own words.

The case itself comes from `scoping.get_case_or_404`; then three queries however long
the case: its sessions, their forms, its signals (and one for the clinic's expected
range).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Prefetch
from django.urls import reverse

from alliance.web import instruments, localtime
from alliance.web.checkins.models import Administration, CheckinLink
from alliance.web.dashboards import text
from alliance.web.dashboards.expected import ExpectedRange, apply_expected, expected_model
from alliance.web.dashboards.series import CaseSeries, Measures, series_from_sessions
from alliance.web.monitoring.queries import new_comments, signals_for_case


@dataclass
class CaseData:
    """A case's sessions and series, loaded once for the page or a chart."""

    measures: Measures
    sessions: list            # Session objects, in session order, forms prefetched
    signals: list             # the case's signals, needing attention first
    comments: list            # the client's comments nobody has marked read, newest first
    series: CaseSeries
    expected: ExpectedRange


def load_case(case) -> CaseData:
    clinic = case.client.clinic
    measures = Measures.of(clinic)
    # Whether a form not yet answered still has a working link: "waiting" if so, else
    # "not answered" (as monitoring.data tells waiting from unanswered). No extra query.
    live = CheckinLink.objects.live().filter(administration=OuterRef("pk"))
    sessions = list(case.sessions.order_by("number").prefetch_related(
        Prefetch("administrations",
                 queryset=Administration.objects.annotate(has_live_link=Exists(live))
                 .order_by("respondent", "instrument_id"))))
    signals = signals_for_case(case)
    series = series_from_sessions(sessions, measures, signals)
    expected = apply_expected(series, expected_model(clinic, measures), measures)
    return CaseData(measures, sessions, signals, new_comments(case), series, expected)


@dataclass(frozen=True)
class Feedback:
    session: int
    date: dt.date
    question: str
    text: str


def client_feedback(sessions) -> list[Feedback]:
    """The client's open-text answers, newest first, with the question they answer."""
    found = []
    for session in sessions:
        for a in session.administrations.all():
            if a.submitted_at is None or a.respondent != "client" or not a.answers:
                continue
            for question_id, answer in a.answers.items():
                if isinstance(answer, str) and answer.strip():
                    found.append(Feedback(session.number, session.date,
                                          instruments.question_text(a.instrument_id, question_id),
                                          answer.strip()))
    return sorted(found, key=lambda f: -f.session)


@dataclass
class Summary:
    """The latest scores in plain words, one sentence each."""

    alliance: list[str] = field(default_factory=list)
    wellbeing: list[str] = field(default_factory=list)


def summary(data: CaseData, *, own: bool) -> Summary:
    series, measures = data.series, data.measures
    result = Summary()
    latest = series.latest("alliance")
    if latest is not None:
        result.alliance.append(text.alliance_sentence(latest, measures.alliance_scale))
        result.alliance.append(text.trend_sentence(series.trend("alliance")))
    therapist = series.latest("therapist")
    if therapist is not None and measures.therapist_comparable:
        result.alliance.append(text.therapist_sentence(therapist, own=own,
                                                       scale=measures.alliance_scale))
    if series.latest("wellbeing") is not None:
        result.wellbeing.append(text.wellbeing_sentence(series, measures.outcome_title,
                                                        measures.outcome_scale))
        result.wellbeing.append(text.trend_sentence(series.trend("wellbeing")))
        where = text.expected_sentence(series.latest("wellbeing"),
                                       measures.outcome_higher_is_better)
        if where:
            result.wellbeing.append(where)
    return result


@dataclass(frozen=True)
class SessionRow:
    """One session as the case page's tables print it: the session list and the numbers
    behind both charts. Each value is formatted once here; the page prints a long case's
    sessions three times, and a filter per cell was most of its drawing time."""

    number: int
    url: str                # the session's page
    date: str               # 7 Dec 2026
    weekday: str            # Mon 7 Dec 2026
    attended: bool
    status_label: str
    forms: list             # FormState, the client's first
    alliance: str
    bond: str
    goals: str
    tasks: str
    therapist: str
    alliance_note: str      # missed, or the rupture at this session
    wellbeing: str
    expected_range: str     # "4.1–6.3", "—" where the clinic has no expected figure
    wellbeing_note: str     # missed, or outside the expected range


def session_rows(case, series: CaseSeries) -> list[SessionRow]:
    """The series' sessions in session order, formatted for the case page's tables."""
    # One reverse for every session's link (a reverse per row was a tenth of the page).
    head, tail = reverse("care:session", args=[case.pk, 1]).rsplit("/1/", 1)
    rows = []
    for s in series.sessions:
        if not s.attended:
            alliance_note = wellbeing_note = s.status_label
        else:
            alliance_note = s.rupture_note
            wellbeing_note = "Outside the expected range" if s.below_expected else ""
        expected_range = "—" if s.expected_low is None else (
            f"{text.range_bound(s.expected_low, s.wellbeing)}–"
            f"{text.range_bound(s.expected_high, s.wellbeing)}")
        rows.append(SessionRow(
            s.number, f"{head}/{s.number}/{tail}",
            localtime.format_date(s.date), localtime.format_date(s.date, style="weekday"),
            s.attended, s.status_label, s.forms, text.score(s.alliance), text.score(s.bond),
            text.score(s.goals), text.score(s.tasks), text.score(s.therapist), alliance_note,
            text.score(s.wellbeing), expected_range, wellbeing_note))
    return rows

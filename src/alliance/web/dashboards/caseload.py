"""The caseload: every active case with its recent scores, trends and signals, ordered by
how much attention it needs (see `attention`).

Four queries (plus one per scoping call for a supervisor, to find the supervisees),
however many cases: the cases, their recent sessions, the signals needing attention, and
the forms of the shown rows' recent sessions. Ordering, search and filters need only the
first three, so they run over every case of the user's scope; the scores, trends and
sparklines (the forms' query and most of a row's cost) are loaded for the rows a page
shows (`add_trends`). Each query asks for what the page shows and no more: it is the page
a therapist opens most, many times a day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F, OuterRef, Subquery

from alliance.core.trends import FALLING, RISING, Trend
from alliance.web import scoping
from alliance.web.care.models import Case, Session
from alliance.web.checkins.models import Administration
from alliance.web.dashboards import attention, charts, text
from alliance.web.dashboards.series import (RECENT_SESSIONS, CaseSeries, Measures,
                                            SessionScores, mark_signals)
from alliance.web.monitoring.models import Signal
from alliance.web.monitoring.queries import comment_counts, mark_attention


@dataclass
class Sparkline:
    src: str   # a data: URI
    alt: str


@dataclass
class Trendline:
    """A measure's latest value, its recent trend and sparkline, for one caseload cell."""

    latest: SessionScores | None
    trend: Trend
    word: str
    arrow: str
    sparkline: Sparkline
    tone: str = ""  # "better" or "worse" when rising or falling, for the colour of the word


@dataclass
class CaseloadRow:
    case: Case
    recent: CaseSeries
    signals: list = field(default_factory=list)  # needing attention, most important first
    level: attention.Level = attention.NONE
    new_comments: int = 0  # the client's comments nobody has marked read yet
    session_ids: list[int] = field(default_factory=list)  # of `recent`'s sessions, in order
    # The scores' trends, once `add_trends` has loaded the recent sessions' forms.
    alliance: Trendline | None = None
    wellbeing: Trendline | None = None

    @property
    def last_session(self) -> SessionScores | None:
        """The recent session with the latest date (a session can be recorded late, for
        an earlier day), so that its date and number belong to the same session."""
        return max(self.recent.sessions, key=lambda s: (s.date, s.number), default=None)

    @property
    def top_signal_text(self) -> str:
        return attention.short_text(self.signals[0]) if self.signals else ""

    @property
    def top_signal_headline(self) -> str:
        return attention.headline(self.signals[0]) if self.signals else ""

    @property
    def top_signal_detail(self) -> str:
        return attention.detail(self.signals[0]) if self.signals else ""

    @property
    def more_signals(self) -> int:
        return max(0, len(self.signals) - 1)


def _trendline(recent: CaseSeries, measure: str, label: str, scale,
               higher_is_better: bool = True) -> Trendline:
    trend = recent.trend(measure)
    tone = ""
    if trend.direction in (RISING, FALLING):
        tone = "better" if (trend.direction == RISING) == higher_is_better else "worse"
    numbers = [s.number for s in recent.sessions]
    span = (numbers[0], numbers[-1]) if numbers else None
    kind = "alliance" if measure == "alliance" else "wellbeing"
    svg = charts.sparkline(kind, numbers, recent.values(measure), scale, span)
    return Trendline(latest=recent.latest(measure), trend=trend, word=text.trend_word(trend),
                     arrow=text.ARROWS.get(trend.direction, ""), tone=tone,
                     sparkline=Sparkline(charts.data_uri(svg),
                                         text.sparkline_alt(label, recent, measure)))


def caseload_rows(user, clinic, *, trends: bool = True) -> list[CaseloadRow]:
    """The user's active cases (through `scoping`), most in need of attention first.

    Without `trends`, the rows have their sessions' numbers, dates and signals but no
    scores yet: enough to order, search and filter them; `add_trends` completes the rows
    a page shows.
    """
    cases = list(scoping.cases_for(user)
                 .filter(status=Case.Status.ACTIVE)
                 .select_related("client", "therapist"))
    if not cases:
        return []
    ids = [c.pk for c in cases]

    # The last RECENT_SESSIONS sessions of each case: those numbered above its last
    # session's number minus RECENT_SESSIONS.
    last_number = (Session.objects.filter(case_id=OuterRef("case_id"))
                   .order_by("-number").values("number")[:1])
    recent_sessions = (scoping.sessions_for(user).filter(case_id__in=ids)
                       .annotate(case_last=Subquery(last_number))
                       .filter(number__gt=F("case_last") - RECENT_SESSIONS))
    rows_by_session: dict[int, SessionScores] = {}
    sessions_by_case: dict[int, list[tuple[int, SessionScores]]] = defaultdict(list)
    for pk, case_id, number, date, status in (recent_sessions.order_by("case_id", "number")
                                              .values_list("pk", "case_id", "number", "date",
                                                           "status")):
        row = SessionScores(number=number, date=date, status=status)
        rows_by_session[pk] = row
        sessions_by_case[case_id].append((pk, row))

    signals_by_case: dict[int, list] = defaultdict(list)
    # The caseload shows a signal's kind, part and session only: the encrypted
    # explanation and data stay in the database (decrypting them would be most of a
    # row's cost), and so does everything else.
    needing = (Signal.objects.for_attention(clinic).filter(case_id__in=ids)
               .select_related("session")
               .only("case_id", "session__number", "type", "subject", "state",
                     "repair_state", "client_returned"))
    for signal in mark_attention(needing, clinic):
        signals_by_case[signal.case_id].append(signal)
    comments = comment_counts(ids)
    mark_signals(rows_by_session, (s for group in signals_by_case.values() for s in group))

    measures = Measures.of(clinic)
    rows = []
    for case in cases:
        signals = attention.most_important(signals_by_case.get(case.pk, []))
        recent = sessions_by_case.get(case.pk, [])
        rows.append(CaseloadRow(
            case=case, recent=CaseSeries([s for _, s in recent], measures),
            signals=signals, level=attention.case_level(signals),
            new_comments=comments.get(case.pk, 0), session_ids=[pk for pk, _ in recent]))
    rows.sort(key=lambda r: attention.attention_key(
        r.level, r.last_session.date if r.last_session else None, r.case.client.code))
    if trends:
        add_trends(rows, clinic)
    return rows


def add_trends(rows: list[CaseloadRow], clinic) -> None:
    """Load the forms of the rows' recent sessions (one query) and add each row's latest
    scores, trends and sparklines."""
    if not rows:
        return
    measures = Measures.of(clinic)
    rows_by_session = {pk: s for row in rows
                       for pk, s in zip(row.session_ids, row.recent.sessions)}
    # The sessions came through the user's scope (`caseload_rows`): their ids are the
    # scope here. Joining the cases again made SQLite walk every session of every case
    # in scope for each id of the list (a tenth of a second at 200 cases).
    forms = (Administration.objects
             .filter(session_id__in=list(rows_by_session), submitted_at__isnull=False,
                     instrument_id__in=measures.instrument_ids)
             .order_by()  # not the model's order, which joins the cases to sort
             .values_list("session_id", "instrument_id", "respondent", "scores"))
    for session_id, instrument_id, respondent, scores in forms:
        rows_by_session[session_id].add(measures, instrument_id, respondent, scores)
    for row in rows:
        recent = row.recent
        row.alliance = _trendline(recent, "alliance", "Client-rated alliance",
                                  measures.alliance_scale)
        row.wellbeing = _trendline(recent, "wellbeing", measures.outcome_title,
                                   measures.outcome_scale, measures.outcome_higher_is_better)


def filter_rows(rows: list[CaseloadRow], *, q: str = "", needs_attention: bool = False,
                signal: str = "", modality: str = "", therapist: str = "") -> list[CaseloadRow]:
    """The rows matching the caseload's search and filters.

    `q` matches the client's code or name (any part, ignoring case); `needs_attention` keeps cases
    with a signal needing attention; `signal` those with an open signal of that type;
    `therapist` a staff member's id (supervisors). Names are encrypted in the database, so
    this runs over the rows of the user's own scope, never as a query.
    """
    needle = " ".join((q or "").split()).casefold()
    kept = []
    for row in rows:
        client = row.case.client
        if needle and needle not in client.code.casefold() and \
                needle not in (client.name or "").casefold():
            continue
        if needs_attention and not row.signals:
            continue
        if signal and not any(s.type == signal for s in row.signals):
            continue
        if modality and row.case.modality != modality:
            continue
        if therapist and str(row.case.therapist_id) != therapist:
            continue
        kept.append(row)
    return kept

"""A case's scores session by session, as the dashboards show them.

The scores were computed by `alliance.core.scoring` when each form came in and are stored
on the `Administration`; this module only reads them into one row per session. Which
instrument fills which measure is the clinic's choice, decided in one place for the
signals and the dashboards alike (`alliance.web.monitoring.data.clinic_instruments`):

- client-rated alliance: the total and the bond, goals and tasks subscales of the
  client's alliance check-in (the project's own short form `alliance-brief` by default,
  or its six-question form `alliance-client`);
- the therapist's own rating: the total of the parallel form (`alliance-therapist`);
- wellbeing: the total of the clinic's outcome check-in (`wellbeing` by default).

The bundled check-ins share one 0–10 scale. Trends come from
`alliance.core.trends.recent_trend`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from alliance.core.instruments import Instrument
from alliance.core.trends import Trend, recent_trend
from alliance.web import instruments
from alliance.web.monitoring.data import clinic_instruments

SUBSCALES = ("bond", "goals", "tasks")
MEASURES = ("alliance", *SUBSCALES, "therapist", "wellbeing")

#: The scale every dashboard measure shares.
SCALE_MIN, SCALE_MAX = 0.0, 10.0

#: Sessions the caseload looks back over (sparklines and the trend word): about two
#: months of weekly sessions.
RECENT_SESSIONS = 8

# Short names of the bundled forms in the session list; other instruments use their
# abbreviation or title.
_FORM_LABELS = {
    ("alliance-brief", "client"): "Alliance",
    ("alliance-client", "client"): "Alliance",
    ("wellbeing", "client"): "Wellbeing",
    ("alliance-therapist", "therapist"): "Therapist",
}


def _number(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if value == value else None  # NaN → None


@dataclass(frozen=True)
class Measures:
    """Which of a clinic's instruments fills which dashboard measure, and their scales."""

    client: Instrument | None
    therapist: Instrument | None
    outcome: Instrument | None
    subscales: Mapping[str, str]  # "bond"/"goals"/"tasks" → the client instrument's subscale

    @classmethod
    def of(cls, clinic) -> Measures:
        chosen = clinic_instruments(clinic)
        return cls(chosen.client, chosen.therapist, chosen.outcome, dict(chosen.subscales))

    @property
    def instrument_ids(self) -> list[str]:
        return [i.id for i in (self.client, self.therapist, self.outcome) if i is not None]

    @property
    def alliance_scale(self) -> tuple[float, float]:
        return _range(self.client)

    @property
    def outcome_scale(self) -> tuple[float, float]:
        return _range(self.outcome)

    @property
    def therapist_comparable(self) -> bool:
        """The therapist's form is on the client form's scale, so one axis shows both."""
        return self.therapist is not None and _range(self.therapist) == self.alliance_scale

    @property
    def outcome_title(self) -> str:
        if self.outcome is None or self.outcome.id == "wellbeing":
            return "Wellbeing"
        return self.outcome.abbreviation or self.outcome.title

    @property
    def outcome_higher_is_better(self) -> bool:
        return self.outcome is None or self.outcome.higher_is_better

    def read(self, instrument_id: str, respondent: str, scores: Mapping | None) -> dict:
        """The dashboard measures in one administration's stored scores (none for others)."""
        if not scores:
            return {}
        if (self.client is not None and instrument_id == self.client.id
                and respondent == "client"):
            subscales = scores.get("subscales") or {}
            return {"alliance": _number(scores.get("total")),
                    **{name: _number(subscales.get(self.subscales[name]))
                       for name in SUBSCALES if name in self.subscales}}
        if (self.therapist is not None and instrument_id == self.therapist.id
                and respondent == "therapist"):
            return {"therapist": _number(scores.get("total"))}
        if (self.outcome is not None and instrument_id == self.outcome.id
                and respondent == "client"):
            return {"wellbeing": _number(scores.get("total"))}
        return {}


def _range(instrument: Instrument | None) -> tuple[float, float]:
    if instrument is None or instrument.total is None:
        return (SCALE_MIN, SCALE_MAX)
    return instrument.score_range("total")


@lru_cache(maxsize=64)
def form_label(instrument_id: str, respondent: str) -> str:
    label = _FORM_LABELS.get((instrument_id, respondent))
    if label:
        return label
    try:
        instrument = instruments.get_instrument(instrument_id)
    except Exception:  # an instrument no longer bundled: still list the form
        return instrument_id
    return instrument.abbreviation or instrument.title


@dataclass(frozen=True)
class FormState:
    """One form of a session, for the session list.

    A client's check-in not answered is `waiting` while its link still works; once the
    link expired or was replaced it was never answered (monitoring's "unanswered").
    """

    label: str
    respondent: str
    answered: bool
    waiting: bool = False


@dataclass
class SessionScores:
    """One session of a case with its scores (None where there is no score)."""

    number: int
    date: dt.date
    status: str
    status_label: str = ""
    alliance: float | None = None
    bond: float | None = None
    goals: float | None = None
    tasks: float | None = None
    therapist: float | None = None
    wellbeing: float | None = None
    forms: list[FormState] = field(default_factory=list)
    # Subjects ("total", "bond", …) of rupture signals at this session, and of those
    # the client's later ratings show repaired.
    ruptures: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    # A not-on-track signal fired at this session.
    below_expected: bool = False
    # The clinic's expected wellbeing range at this session, when it has a model.
    expected_low: float | None = None
    expected: float | None = None
    expected_high: float | None = None

    @property
    def attended(self) -> bool:
        return self.status == "attended"

    @property
    def has_rupture(self) -> bool:
        return bool(self.ruptures)

    @property
    def rupture_repaired(self) -> bool:
        """Every rupture at this session was repaired."""
        return bool(self.ruptures) and len(self.repaired) == len(self.ruptures)

    @property
    def rupture_note(self) -> str:
        """E.g. "Possible rupture (bond, goals); repaired" for the chart's table."""
        if not self.ruptures:
            return ""
        order = {"total": 0, "bond": 1, "goals": 2, "tasks": 3}
        subjects = sorted(self.ruptures, key=lambda r: order.get(r, 4))
        names = ", ".join("alliance" if r == "total" else r for r in subjects)
        text = f"Possible rupture ({names})"
        if self.rupture_repaired:
            text += "; repaired"
        elif self.repaired:
            text += f"; repaired: {', '.join(self.repaired)}"
        return text

    def add(self, measures: Measures, instrument_id: str, respondent: str,
            scores: Mapping | None) -> None:
        for name, value in measures.read(instrument_id, respondent, scores).items():
            setattr(self, name, value)


@dataclass
class CaseSeries:
    """A case's sessions in session order, with the clinic's measures."""

    sessions: list[SessionScores]
    measures: Measures | None = None

    def rated(self, measure: str) -> list[SessionScores]:
        return [s for s in self.sessions if getattr(s, measure) is not None]

    def latest(self, measure: str) -> SessionScores | None:
        rated = self.rated(measure)
        return rated[-1] if rated else None

    def first(self, measure: str) -> SessionScores | None:
        rated = self.rated(measure)
        return rated[0] if rated else None

    def recent(self, count: int = RECENT_SESSIONS) -> CaseSeries:
        """The last `count` sessions (by number)."""
        return CaseSeries(self.sessions[-count:] if count else [], self.measures)

    def values(self, measure: str) -> list[float | None]:
        return [getattr(s, measure) for s in self.sessions]

    def trend(self, measure: str) -> Trend:
        """Rising, steady or falling over the recent sessions (`alliance.core.trends`)."""
        recent = self.recent()
        return recent_trend([s.number for s in recent.sessions], recent.values(measure))

    @property
    def first_number(self) -> int | None:
        return self.sessions[0].number if self.sessions else None

    @property
    def last_number(self) -> int | None:
        return self.sessions[-1].number if self.sessions else None

    @property
    def has_scores(self) -> bool:
        return any(getattr(s, m) is not None for s in self.sessions for m in MEASURES)


def series_from_sessions(sessions: Iterable, measures: Measures,
                         signals: Iterable = ()) -> CaseSeries:
    """Build a case's series from `Session` objects with their administrations prefetched.

    `signals` are the case's `monitoring.Signal` rows (with `session` loaded): rupture
    sessions are marked unless the signal was dismissed, and not-on-track sessions too.
    """
    rows = []
    by_id = {}
    for session in sorted(sessions, key=lambda s: s.number):
        row = SessionScores(number=session.number, date=session.date, status=session.status,
                            status_label=session.get_status_display())
        for a in session.administrations.all():
            answered = a.submitted_at is not None
            # Without the annotation (or for a form staff fill in) an open form is waiting.
            waiting = not answered and (a.respondent != "client"
                                        or getattr(a, "has_live_link", True))
            row.forms.append(FormState(form_label(a.instrument_id, a.respondent),
                                       a.respondent, answered, waiting))
            if a.submitted_at is not None:
                row.add(measures, a.instrument_id, a.respondent, a.scores)
        row.forms.sort(key=lambda f: (f.respondent != "client", f.label))
        rows.append(row)
        by_id[session.pk] = row
    mark_signals(by_id, signals)
    return CaseSeries(rows, measures)


def mark_signals(rows_by_session_id: Mapping[int, SessionScores], signals: Iterable) -> None:
    """Mark rupture and not-on-track sessions from signal rows (dismissed ones are not)."""
    for signal in signals:
        if signal.state == "dismissed":
            continue
        row = rows_by_session_id.get(signal.session_id)
        if row is None:
            continue
        if signal.type == "rupture":
            subject = signal.subject or "total"
            row.ruptures.append(subject)
            if getattr(signal, "repair_state", "") == "repaired":
                row.repaired.append("alliance" if subject == "total" else subject)
        elif signal.type == "not_on_track":
            row.below_expected = True

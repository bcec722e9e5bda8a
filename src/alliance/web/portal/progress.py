"""The client's own progress: their scores session by session, for the portal's chart.

The series and the charts are the dashboards' own (`alliance.web.dashboards.series` and
`.charts`); this module only chooses what a client sees:

- their wellbeing (the clinic's outcome check-in), always;
- their own alliance ratings (total, bond, goals, tasks) only when the clinic allows it
  (`Clinic.clients_see_alliance_scores`);
- never the therapist's own rating, and none of the clinic's signals (ruptures, the
  expected range): those are for the therapist to bring into the conversation.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from alliance.core.trends import FALLING, RISING, STEADY
from alliance.web.checkins.models import Administration
from alliance.web.dashboards import charts, text
from alliance.web.dashboards.series import CaseSeries, Measures, series_from_sessions

CHARTS = ("wellbeing", "alliance")


def client_measures(clinic, *, show_alliance: bool) -> Measures:
    """The clinic's measures without the therapist's form (and without alliance if hidden)."""
    measures = Measures.of(clinic)
    if not show_alliance:
        return Measures(None, None, measures.outcome, {})
    return Measures(measures.client, None, measures.outcome, dict(measures.subscales))


def shows_alliance(clinic) -> bool:
    return bool(clinic.clients_see_alliance_scores)


def client_series(case) -> CaseSeries:
    """The case's series from the client's own submitted check-ins (three queries)."""
    clinic = case.client.clinic
    measures = client_measures(clinic, show_alliance=shows_alliance(clinic))
    answered = Administration.objects.filter(respondent=Administration.Respondent.CLIENT,
                                             submitted_at__isnull=False)
    sessions = list(case.sessions.order_by("number").prefetch_related(
        Prefetch("administrations", queryset=answered)))
    return series_from_sessions(sessions, measures)


def chart_svg(series: CaseSeries, chart: str, *, narrow: bool = False) -> str:
    if chart == "alliance":
        return charts.alliance_chart(series, narrow=narrow)
    return charts.wellbeing_chart(series, None, narrow=narrow)


# Lazy: the sentences are read in the client's language, chosen per request.
_DIRECTION = {
    RISING: _("It has been going up over your recent sessions."),
    STEADY: _("It has stayed about the same over your recent sessions."),
    FALLING: _("It has gone down over your recent sessions."),
}
_WORSE_NOTE = _("Ups and downs are a normal part of therapy, and it can help to talk about "
                "them with your therapist.")
_ALLIANCE_DIRECTION = {
    RISING: _("Your ratings of your sessions have been going up recently."),
    STEADY: _("Your ratings of your sessions have stayed about the same recently."),
    FALLING: _("Your ratings of your sessions have gone down recently. Your therapist would "
               "like to hear what would make the sessions work better for you."),
}


@dataclass
class Words:
    """The client's scores in a few kind sentences."""

    wellbeing: list[str]
    alliance: list[str]


def in_words(series: CaseSeries) -> Words:
    measures = series.measures
    words = Words([], [])
    latest = series.latest("wellbeing")
    if latest is not None:
        top = measures.outcome_scale[1] if measures else 10
        words.wellbeing.append(_(
            "At your latest check-in (session %(session)s) you rated how life is going "
            "%(score)s out of %(top)s.") % {"session": latest.number,
                                           "score": text.score(latest.wellbeing),
                                           "top": f"{top:g}"})
        first = series.first("wellbeing")
        if first is not None and first.number != latest.number:
            words.wellbeing.append(_(
                "At your first check-in (session %(session)s) it was %(score)s.") % {
                    "session": first.number, "score": text.score(first.wellbeing)})
        direction = series.trend("wellbeing").direction
        if direction in _DIRECTION:
            words.wellbeing.append(str(_DIRECTION[direction]))
            higher_is_better = measures.outcome_higher_is_better if measures else True
            if direction == (FALLING if higher_is_better else RISING):
                words.wellbeing.append(str(_WORSE_NOTE))
    latest = series.latest("alliance")
    if latest is not None:
        top = measures.alliance_scale[1] if measures else 10
        words.alliance.append(_(
            "At session %(session)s you rated how the work with your therapist is going "
            "%(score)s out of %(top)s.") % {"session": latest.number,
                                           "score": text.score(latest.alliance),
                                           "top": f"{top:g}"})
        direction = _ALLIANCE_DIRECTION.get(series.trend("alliance").direction)
        if direction:
            words.alliance.append(str(direction))
    return words

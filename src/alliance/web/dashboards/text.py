"""Scores in plain words: "Client-rated alliance 7.5 of 10 at session 6; bond 8, goals 7,
tasks 7.5."

Wording and number formatting only; the numbers come from the stored core scores and
`alliance.core.trends`.
"""

from __future__ import annotations

from django.utils import formats

from alliance.core.signals.records import bound_text, number
from alliance.core.trends import FALLING, RISING, STEADY, Trend
from alliance.web.dashboards.series import SUBSCALES, CaseSeries, SessionScores

ARROWS = {RISING: "↗", STEADY: "→", FALLING: "↘"}


def score(value: float | None) -> str:
    """A score as every page, PDF and signal shows it: one decimal (8.0, 7.5, 5.7), by
    the core's `number`; "—" when missing."""
    return "—" if value is None else _decimal(number(value))


def _decimal(text: str) -> str:
    """The decimal separator of the active language (7,5 in French): client pages are in
    the client's language; staff pages in English keep the point."""
    separator = formats.get_format("DECIMAL_SEPARATOR")
    return text if separator == "." else text.replace(".", separator)


def range_bound(bound: float | None, observed: float | None = None) -> str:
    """An end of the expected range, to one decimal, rounded away from `observed` (the
    core's `bound_text`), so that the words "below the range" and the numbers never
    disagree; "—" when there is none."""
    return "—" if bound is None else bound_text(bound, observed)


def trend_word(trend: Trend) -> str:
    """"rising", "steady", "falling", or "too early to tell"."""
    return {RISING: "rising", STEADY: "steady", FALLING: "falling"}.get(
        trend.direction, "too early to tell")


def trend_sentence(trend: Trend) -> str:
    if trend.direction not in ARROWS:
        return "Too few check-ins in the recent sessions to see a direction."
    span = f"sessions {trend.first_session:g}–{trend.last_session:g}"
    if trend.direction == STEADY:
        return f"Steady over {span}."
    change = score(abs(trend.change))
    sign = "up" if trend.direction == RISING else "down"
    points = "point" if change == "1.0" else "points"
    return f"{trend.direction.capitalize()} over {span} ({sign} about {change} {points})."


def _of(scale: tuple[float, float]) -> str:
    return f"of {scale[1]:g}"


def alliance_sentence(latest: SessionScores, scale=(0.0, 10.0)) -> str:
    """"Client-rated alliance 7.5 of 10 at session 6; bond 8, goals 7, tasks 7.5.\""""
    text = f"Client-rated alliance {score(latest.alliance)} {_of(scale)} at session {latest.number}"
    parts = [f"{name} {score(getattr(latest, name))}" for name in SUBSCALES
             if getattr(latest, name) is not None]
    if parts:
        text += "; " + ", ".join(parts)
    return text + "."


def therapist_sentence(latest: SessionScores, *, own: bool, scale=(0.0, 10.0)) -> str:
    whose = "Your own rating" if own else "The therapist's own rating"
    return f"{whose} at session {latest.number}: {score(latest.therapist)} {_of(scale)}."


def wellbeing_sentence(series: CaseSeries, title: str = "Wellbeing", scale=(0.0, 10.0)) -> str:
    latest = series.latest("wellbeing")
    first = series.first("wellbeing")
    text = f"{title} {score(latest.wellbeing)} {_of(scale)} at session {latest.number}"
    if first is not None and first.number != latest.number:
        text += f"; it was {score(first.wellbeing)} at the first check-in (session {first.number})"
    return text + "."


def expected_sentence(latest: SessionScores, higher_is_better: bool = True) -> str:
    """Where the latest outcome score sits against the clinic's expected range, if known."""
    if latest.expected_low is None or latest.expected_high is None:
        return ""
    low = range_bound(latest.expected_low, latest.wellbeing)
    high = range_bound(latest.expected_high, latest.wellbeing)
    if latest.wellbeing < latest.expected_low:
        where = "below the range" if higher_is_better else "below (better than) the range"
    elif latest.wellbeing > latest.expected_high:
        where = "above (better than) the range" if higher_is_better else "above the range"
    else:
        where = "within the range"
    return (f"That is {where} expected at this session for clients of this clinic who started "
            f"at a similar level ({low} to {high}).")


def sparkline_alt(label: str, series: CaseSeries, measure: str) -> str:
    rated = series.rated(measure)
    if not rated:
        return f"{label}: no check-ins in the recent sessions."
    values = ", ".join(score(getattr(s, measure)) for s in rated)
    if len(rated) == 1:
        return f"{label} at session {rated[0].number}: {values}."
    return f"{label} at sessions {rated[0].number}–{rated[-1].number}: {values}."

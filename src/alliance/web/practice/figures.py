"""One therapist's practice page, and the clinic's aggregate page: figures in plain words.

Every number comes from `alliance.core.practice`; this module picks the columns, words
the results and draws each figure's chart (`alliance.web.practice.charts`). Each section
has a sentence first; the model, the counts and the interval are the technical details.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace

from alliance.core import practice as core
from alliance.web.practice import charts
from alliance.web.practice.data import PracticeData
from alliance.web.practice.models import PracticeFocus


def _n(value: float, digits: int = 0) -> str:
    """A number as the page shows it ("−" for negative values)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{value:.{digits}f}"
    if text.startswith("-") and float(text) != 0:
        return "−" + text[1:]
    return text.lstrip("-")


def _signed(value: float, digits: int = 0) -> str:
    text = _n(value, digits)
    return text if text.startswith("−") or float(value) == 0 else "+" + text


def _points(value: float) -> str:
    text = _n(abs(value))
    return f"{text} point" if text == "1" else f"{text} points"


def _percent(value: float) -> str:
    return f"{_n(100 * min(max(value, 0.0), 1.0))}%"


@dataclass(frozen=True)
class Measure:
    """One figure of the page: which column, how it is worded and drawn."""

    key: str
    title: str
    name: str             # as in "The {name} needs …"
    table: str            # "sessions" or "ruptures"
    value: str
    noun: str
    unit: str             # for the table's header
    axis: tuple[float, float] | None
    digits: int = 0
    clinic_title: str = ""    # the title on the clinic's page, when it differs


LEVEL = Measure("level", "Alliance across your clients", "alliance level", "sessions",
                "alliance", "ratings", "points out of 100", (0, 100),
                clinic_title="Alliance across the clinic's clients")
TREND = Measure("trend", "How the alliance develops in your work", "alliance trend",
                "sessions", "alliance", "two or more ratings", "points per session", None, 1)
OUTCOME = Measure("outcome", "Outcomes against the expected range", "outcome figure",
                  "sessions", "outcome", "outcome ratings after the first", "points", None)
REPAIRED = Measure("repaired", "Ruptures repaired", "share of ruptures repaired",
                   "ruptures", "repaired", "decided ruptures", "share", (0, 1), 2)
DURATION = Measure("duration", "Time to repair", "time to repair", "ruptures",
                   "sessions_to_repair", "repaired ruptures", "sessions", None, 1)
DIFFERENCE = Measure("difference", "Your ratings and your clients'", "rating difference",
                     "sessions", "difference", "sessions rated by both", "points", None,
                     clinic_title="Therapists' ratings and their clients'")
GOALS = Measure("goals", "Agreement on goals", "goals rating", "sessions", "goals", "ratings",
                "points out of 100", (0, 100))
TASKS = Measure("tasks", "Agreement on tasks", "tasks rating", "sessions", "tasks", "ratings",
                "points out of 100", (0, 100))


@dataclass
class Section:
    measure: Measure
    sentences: list[str]
    figure: object                      # core.Figure / core.Agreement / core.ClinicSpread
    chart: str = ""                     # a data: URI, empty when there is nothing to draw
    chart_narrow: str = ""              # the same for phones
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)  # the chart's table
    details: list[tuple[str, str]] = field(default_factory=list)


def _frame(data: PracticeData, measure: Measure):
    return data.sessions if measure.table == "sessions" else data.ruptures


def _fmt(measure: Measure, value: float) -> str:
    if measure.key == "repaired":
        return _percent(value)
    return _n(value, measure.digits)


#: Said when the model finds no difference between therapists (τ̂ = 0): every
#: therapist's estimate is then the clinic's, and its interval the clinic mean's.
NO_DIFFERENCE = ("In these data the clinic's therapists do not differ on this beyond what "
                 "chance would give, so your figure is the clinic's: about {value} (likely "
                 "between {lower} and {upper}).")


def _figure_section(measure: Measure, figure: core.Figure, sentences: list[str]) -> Section:
    if not figure.available:
        return Section(measure, [figure.reason], figure)
    no_difference = (figure.singular
                     and figure.therapist_sd < 1e-6 * max(1.0, abs(figure.clinic_mean)))
    if no_difference:
        # The conditional variance is zero here; the honest interval is the clinic mean's.
        sentences = [sentences[0].split(" (likely between")[0] + ".",
                     NO_DIFFERENCE.format(value=_fmt(measure, figure.clinic_mean),
                                          lower=_fmt(measure, figure.clinic_lower),
                                          upper=_fmt(measure, figure.clinic_upper))]
        figure = _with_clinic_interval(figure)
    rows = [("You", _fmt(measure, figure.estimate), _fmt(measure, figure.lower),
             _fmt(measure, figure.upper)),
            ("The clinic (middle 80% of therapists)", _fmt(measure, figure.clinic_mean),
             _fmt(measure, figure.spread_lower), _fmt(measure, figure.spread_upper))]
    details = [
        ("Model", figure.model + " (REML)"),
        ("Your data", f"{figure.n_obs} {measure.noun} of {figure.n_clients} clients"),
        ("The clinic's data", f"{figure.n_clinic} {measure.noun} of {figure.n_therapists} "
                              "therapists"),
        ("Your estimate", f"{_fmt(measure, figure.estimate)}, {round(100 * figure.level)}% "
                          f"interval {_fmt(measure, figure.lower)} to "
                          f"{_fmt(measure, figure.upper)} "
                          + ("(the clinic's mean ± 1.96 SE)" if no_difference else
                             "(clinic mean plus your conditional mode ± 1.96 conditional "
                             "SD)")),
        ("Plain mean of your data, not shrunk", _fmt(measure, figure.raw)),
        ("Spread between therapists (SD)", _n(figure.therapist_sd, 2)),
    ]
    if figure.singular:
        details.append(("Note", "The model finds no difference between therapists beyond "
                                "chance here, so every therapist's estimate is the clinic's."))
    chart = _charts(
        estimate=figure.estimate, lower=figure.lower, upper=figure.upper,
        centre=figure.clinic_mean, spread=(figure.spread_lower, figure.spread_upper),
        axis=measure.axis, percent=measure.key == "repaired")
    return Section(measure, sentences, figure, *chart, rows, details)


def _with_clinic_interval(figure: core.Figure) -> core.Figure:
    values = figure.to_dict()
    values.update(lower=figure.clinic_lower, upper=figure.clinic_upper)
    return core.Figure(**values)


def _charts(**values) -> tuple[str, str]:
    """The chart for wide screens and for phones."""
    return charts.interval_chart(**values), charts.interval_chart(**values, narrow=True)


def _between(measure: Measure, figure) -> str:
    return f"likely between {_fmt(measure, figure.lower)} and {_fmt(measure, figure.upper)}"


def _spread(measure: Measure, figure) -> str:
    return (f"Most therapists in the clinic are between {_fmt(measure, figure.spread_lower)} "
            f"and {_fmt(measure, figure.spread_upper)}.")


def level_section(data: PracticeData, label: str, measure: Measure = LEVEL) -> Section:
    figure = core.level_figure(_frame(data, measure), label, value=measure.value,
                               name=measure.name, noun=measure.noun)
    sentences = []
    if figure.available:
        what = {"level": "your clients rate the alliance",
                "goals": "your clients rate your agreement on goals",
                "tasks": "your clients rate your agreement on tasks"}[measure.key]
        sentences = [f"Across your {figure.n_clients} clients in this period, {what} at about "
                     f"{_fmt(measure, figure.estimate)} out of 100 "
                     f"({_between(measure, figure)}).", _spread(measure, figure)]
    return _figure_section(measure, figure, sentences)


def trend_section(data: PracticeData, label: str) -> Section:
    figure = core.trend_figure(data.sessions, label, value="alliance", session="session",
                               name=TREND.name)
    sentences = []
    if figure.available:
        way = "rises" if figure.estimate > 0 else "falls"
        sentences = [
            f"Within each client's work with you, the alliance rating {way} by about "
            f"{_n(abs(figure.estimate), 1)} points per session ({_between(TREND, figure)}).",
            _spread(TREND, figure),
            "This compares each client with themselves, so it does not depend on who "
            "your clients are."]
    section = _figure_section(TREND, figure, sentences)
    if figure.available:
        section.details.append(("Note", "Ratings and session numbers are centred on each "
                                        "client's own means; the interval treats a client's "
                                        "sessions as independent around their own line, so "
                                        "it is somewhat narrow."))
    return section


def outcome_section(data: PracticeData, label: str) -> Section:
    if not data.has_outcome_model:
        figure = core.Figure(name=OUTCOME.name, therapist=label, reason=(
            "The clinic does not yet have an expected range for its outcome check-in "
            "(it needs enough completed cases), so outcomes cannot be compared with it."))
        return Section(OUTCOME, [figure.reason], figure)
    figure = core.level_figure(data.sessions, label, value="outcome", name=OUTCOME.name,
                               noun=OUTCOME.noun)
    sentences = []
    if figure.available:
        where = ("about what is expected" if _n(abs(figure.estimate)) == "0" else
                 f"{_points(figure.estimate)} {'above' if figure.estimate > 0 else 'below'} "
                 "what is expected")
        sentences = [
            f"Your clients' {data.outcome_title.lower()} is on average {where} for clients "
            f"who started where they did ({_between(OUTCOME, figure)}, on a 0–100 scale; "
            "above is better).", _spread(OUTCOME, figure)]
    return _figure_section(OUTCOME, figure, sentences)


def repair_sections(data: PracticeData, label: str) -> list[Section]:
    share = core.level_figure(data.ruptures, label, value="repaired", name=REPAIRED.name,
                              noun=REPAIRED.noun)
    sentences = []
    if share.available:
        sentences = [f"Of your clients' ruptures whose repair window has passed, about "
                     f"{_percent(share.estimate)} were repaired (likely between "
                     f"{_percent(share.lower)} and {_percent(share.upper)}).",
                     f"Most therapists in the clinic repair between "
                     f"{_percent(share.spread_lower)} and {_percent(share.spread_upper)}."]
    first = _figure_section(REPAIRED, share, sentences)
    if share.available:
        first.details.append(("Note", "A share modelled as a 0/1 outcome (a linear "
                                      "probability model); limits are shown within 0–100%."))
    repaired = data.ruptures[data.ruptures["repaired"] > 0.5]
    duration = core.level_figure(repaired, label, value="sessions_to_repair",
                                 name=DURATION.name, noun=DURATION.noun)
    sentences = []
    if duration.available:
        sentences = [f"When a rupture was repaired, the client's rating came back after about "
                     f"{_n(duration.estimate, 1)} sessions ({_between(DURATION, duration)}).",
                     _spread(DURATION, duration)]
    return [first, _figure_section(DURATION, duration, sentences)]


def agreement_sections(data: PracticeData, label: str) -> list[Section]:
    if not data.has_therapist_form:
        figure = core.Figure(name=DIFFERENCE.name, therapist=label, reason=(
            "The clinic does not use the therapist's alliance form, so there is nothing to "
            "compare your ratings with."))
        return [Section(DIFFERENCE, [figure.reason], figure)]
    difference = core.level_figure(data.sessions, label, value="difference",
                                   name=DIFFERENCE.name, noun=DIFFERENCE.noun)
    sentences = []
    if difference.available:
        way = ("about as your clients do" if _n(abs(difference.estimate)) == "0" else
               f"{_points(difference.estimate)} "
               f"{'higher' if difference.estimate > 0 else 'lower'} than your clients do")
        sentences = [f"On average you rate the alliance {way} "
                     f"({_between(DIFFERENCE, difference)}, on a 0–100 scale).",
                     _spread(DIFFERENCE, difference)]
    sections = [_figure_section(DIFFERENCE, difference, sentences)]
    agreement = core.agreement_figure(data.sessions, label, client_rating="alliance",
                                      therapist_rating="therapist_alliance")
    measure = Measure("agreement", "Do your ratings move with theirs?", "agreement",
                      "sessions", "", "sessions rated by both", "correlation", (-1, 1), 2)
    if not agreement.available:
        sections.append(Section(measure, [agreement.reason], agreement))
        return sections
    strength = ("closely" if agreement.correlation >= 0.5 else "somewhat"
                if agreement.correlation >= 0.2 else "hardly")
    sentences = [
        f"From session to session, your own ratings {strength} follow your clients': a "
        f"correlation of {_n(agreement.correlation, 2)} (likely between "
        f"{_n(agreement.lower, 2)} and {_n(agreement.upper, 2)}).",
        f"Most therapists in the clinic are between {_n(agreement.spread_lower, 2)} and "
        f"{_n(agreement.spread_upper, 2)}."]
    rows = [("You", _n(agreement.correlation, 2), _n(agreement.lower, 2),
             _n(agreement.upper, 2)),
            ("The clinic (middle 80% of therapists)", _n(agreement.clinic_correlation, 2),
             _n(agreement.spread_lower, 2), _n(agreement.spread_upper, 2))]
    details = [
        ("Method", "Within-client correlation (each client's own means removed), Fisher's z, "
                   "shrunk toward the clinic's random-effects mean (DerSimonian–Laird)"),
        ("Your data", f"{agreement.n_pairs} sessions rated by both, {agreement.n_clients} "
                      "clients"),
        ("Plain correlation, not shrunk", f"{_n(agreement.raw_correlation, 2)} "
                                          f"({_n(agreement.raw_lower, 2)} to "
                                          f"{_n(agreement.raw_upper, 2)})"),
        ("Therapists in the clinic's estimate", str(agreement.n_therapists)),
        ("Between-therapist variance (τ², Fisher's z)", _n(agreement.tau2, 3)),
    ]
    chart = _charts(
        estimate=agreement.correlation, lower=agreement.lower, upper=agreement.upper,
        centre=agreement.clinic_correlation,
        spread=(agreement.spread_lower, agreement.spread_upper), axis=(-1, 1))
    sections.append(Section(measure, sentences, agreement, *chart, rows, details))
    return sections


def practice_sections(data: PracticeData, label: str) -> list[Section]:
    return [level_section(data, label), trend_section(data, label),
            outcome_section(data, label), *repair_sections(data, label),
            *agreement_sections(data, label)]


# What the figures before and after a focus show, per skill.
FOCUS_MEASURES = {
    PracticeFocus.Skill.INVITING_FEEDBACK: (LEVEL, DIFFERENCE),
    PracticeFocus.Skill.NOTICING_DISCREPANCY: (DIFFERENCE, LEVEL),
    PracticeFocus.Skill.REPAIRING_WITHDRAWAL: (REPAIRED, LEVEL),
    PracticeFocus.Skill.REPAIRING_CONFRONTATION: (REPAIRED, LEVEL),
    PracticeFocus.Skill.AGREEING_GOALS: (GOALS, LEVEL),
    PracticeFocus.Skill.AGREEING_TASKS: (TASKS, LEVEL),
}


@dataclass
class Comparison:
    measure: Measure
    result: core.BeforeAfter
    sentence: str
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)


#: How far back the comparison before a focus reaches.
BEFORE_DAYS = 365


def focus_comparisons(data: PracticeData, focus: PracticeFocus) -> list[Comparison]:
    """The figures of the focus's skill before and after its start (the therapist's own)."""
    out = []
    for measure in FOCUS_MEASURES.get(focus.skill, (LEVEL,)):
        frame = _frame(data, measure)
        frame = frame.dropna(subset=[measure.value]).copy()
        frame["after"] = [1.0 if dt.date.fromisoformat(d) >= focus.started_on else 0.0
                          for d in frame["date"]]
        if focus.ended_on is not None:
            frame = frame[[dt.date.fromisoformat(d) <= focus.ended_on for d in frame["date"]]]
        result = core.before_after(frame, value=measure.value, after="after",
                                   name=measure.name)
        if not result.available:
            out.append(Comparison(measure, result, f"{measure.title}: {result.reason}"))
            continue
        fmt = (lambda v: _percent(v)) if measure.key == "repaired" else (lambda v: _n(v))
        signed = (_signed(100 * result.difference) if measure.key == "repaired"
                  else _signed(result.difference))
        unit = "percentage point" if measure.key == "repaired" else "point"
        change = f"{signed} {unit}" if signed.lstrip("+−") == "1" else f"{signed} {unit}s"
        limits = ((_signed(100 * result.lower), _signed(100 * result.upper))
                  if measure.key == "repaired"
                  else (_signed(result.lower), _signed(result.upper)))
        certain = (result.lower > 0 or result.upper < 0)
        sentence = (f"{measure.title}: {fmt(result.before)} before the start, "
                    f"{fmt(result.after)} since; a change of {change} (likely between "
                    f"{limits[0]} and {limits[1]}). "
                    + ("The interval leaves out no change." if certain else
                       "The interval includes no change: these data cannot tell yet."))
        rows = [("Before", fmt(result.before), str(result.n_before),
                 str(result.clients_before)),
                ("Since the start", fmt(result.after), str(result.n_after),
                 str(result.clients_after))]
        out.append(Comparison(measure, result, sentence, rows))
    return out


def clinic_sections(data: PracticeData) -> list[Section]:
    """The clinic's aggregates: its mean and the spread between therapists, no one's figure."""
    sections = []
    measures = [LEVEL, REPAIRED, DURATION]
    if data.has_outcome_model:
        measures.insert(1, OUTCOME)
    if data.has_therapist_form:
        measures.append(DIFFERENCE)
    for measure in measures:
        frame = _frame(data, measure)
        if measure is DURATION:
            frame = frame[frame["repaired"] > 0.5]
        spread = core.clinic_spread(frame, value=measure.value, name=measure.name,
                                    noun=measure.noun)
        if measure.clinic_title:
            measure = replace(measure, title=measure.clinic_title)
        if not spread.available:
            sections.append(Section(measure, [spread.reason], spread))
            continue
        differ = ("In these data the therapists do not differ on this beyond what chance "
                  "would give." if spread.therapist_sd < 1e-6 * max(1.0, abs(spread.clinic_mean))
                  else f"Most therapists are between {_fmt(measure, spread.spread_lower)} and "
                       f"{_fmt(measure, spread.spread_upper)}.")
        sentences = [f"Clinic mean: {_fmt(measure, spread.clinic_mean)} "
                     f"({_fmt(measure, spread.lower)} to {_fmt(measure, spread.upper)}). "
                     + differ]
        rows = [("The clinic (mean)", _fmt(measure, spread.clinic_mean),
                 _fmt(measure, spread.lower), _fmt(measure, spread.upper)),
                ("Middle 80% of therapists", "", _fmt(measure, spread.spread_lower),
                 _fmt(measure, spread.spread_upper))]
        details = [("Model", spread.model + " (REML)"),
                   ("Data", f"{spread.n_obs} {measure.noun} of {spread.n_clients} clients and "
                            f"{spread.n_therapists} therapists"),
                   ("Spread between therapists (SD)", _n(spread.therapist_sd, 2)),
                   ("Share of the variance between therapists", _n(spread.icc, 2))]
        chart = _charts(
            estimate=None, lower=spread.lower, upper=spread.upper, centre=spread.clinic_mean,
            spread=(spread.spread_lower, spread.spread_upper), axis=measure.axis,
            percent=measure.key == "repaired")
        sections.append(Section(measure, sentences, spread, *chart, rows, details))
    return sections

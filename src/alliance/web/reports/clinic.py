"""The clinic report as a PDF: distributions, signal and repair rates, therapists compared.

Who sees what (aggregates only, never a case record):
- a clinic administrator: the whole clinic;
- a supervisor: the therapists they supervise (the same scope as the signal report page,
  `monitoring.repair.report_cases`).

Sections:
- the latest client-rated alliance of each case and each case's change in the outcome
  check-in since the first rating, as histograms (active and ended cases in scope);
- signal rates per 100 attended sessions by type, and the share of ruptures repaired, from
  the monitoring models through the signal report (`alliance.core.report`; active cases,
  whose signals follow the rules in force);
- therapists compared on the change in outcome adjusted for intake severity, as BLUPs with
  intervals (`alliance.core.benchmarking.therapist_effects`), in a caterpillar plot listed
  by name, never ranked; above `SUMMARISE_ABOVE` therapists as the spread of the figures
  with counts of intervals wholly above and below the clinic mean; a table by name either way;
- the client-rated alliance by session format (in person, video, phone, text): each
  format's estimated mean with its interval from a model with a random intercept per
  client (`alliance.core.category_means`), so a client with many sessions of one format
  counts as one client; and the same by the case's way of working (modality).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db.models import FloatField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from alliance.core.benchmarking import TherapistComparison, therapist_effects
from alliance.core.category_means import MIN_SESSIONS, CategoryMeans, category_means
from alliance.core.errors import AllianceError
from alliance.web import localtime
from alliance.web.care.models import Case, Session
from alliance.web.checkins.models import Administration
from alliance.web.clinics.models import StaffMember
from alliance.web.dashboards.charts import STYLES
from alliance.web.dashboards.series import Measures
from alliance.web.dashboards.text import score
from alliance.web.monitoring import repair
from alliance.web.reports import charts, pdf


def scope_cases(staff: StaffMember):
    """Every case (active or ended) whose aggregates `staff` may see; none for therapists."""
    cases = Case.objects.filter(client__clinic_id=staff.clinic_id)
    if staff.is_admin:
        return cases
    if staff.is_supervisor:
        return cases.filter(therapist__in=staff.supervisees.filter(clinic_id=staff.clinic_id))
    return Case.objects.none()


def _total():
    """A form's total score, read by the database: the report needs only the total of
    each form, and decoding every form's stored scores in Python was most of its time."""
    return Cast(KT("scores__total"), FloatField())


def case_figures(cases, measures: Measures) -> pd.DataFrame:
    """One row per case: therapist, latest client-rated alliance, first and last outcome.

    One query over the submitted forms of the clinic's alliance and outcome check-ins.
    """
    ids = [i.id for i in (measures.client, measures.outcome) if i is not None]
    rows = (Administration.objects
            .filter(session__case__in=cases, submitted_at__isnull=False, respondent="client",
                    instrument_id__in=ids)
            .annotate(total=_total())
            .order_by("session__case_id", "session__number")
            .values_list("session__case_id", "session__case__therapist_id", "session__number",
                         "instrument_id", "total"))
    # Which measure a form's total fills, as `Measures.read` decides (the client form first),
    # looked up once rather than for each of the clinic's forms.
    measure_of = {i: next(iter(measures.read(i, "client", {"total": 0.0})), None) for i in ids}
    found: dict[int, dict] = {}
    for case_id, therapist_id, number, instrument_id, total in rows:
        entry = found.get(case_id)
        if entry is None:
            entry = found[case_id] = {"case": case_id, "therapist": therapist_id,
                                      "alliance": np.nan, "intake": np.nan, "last": np.nan,
                                      "n_outcome": 0}
        if total is None or total != total:  # no total, or NaN
            continue
        measure = measure_of[instrument_id]
        if measure == "alliance":
            entry["alliance"] = total          # ordered by session: the latest
        elif measure == "wellbeing":
            if entry["n_outcome"] == 0:
                entry["intake"] = total
            entry["last"] = total
            entry["n_outcome"] += 1
    frame = pd.DataFrame(list(found.values()),
                         columns=["case", "therapist", "alliance", "intake", "last", "n_outcome"])
    frame["change"] = np.where(frame["n_outcome"] >= 2, frame["last"] - frame["intake"], np.nan)
    return frame


def session_alliance(cases, measures: Measures) -> pd.DataFrame:
    """One row per client-rated session: client, session format (blank: not recorded), the
    case's way of working and the alliance score."""
    columns = ["client", "format", "modality", "alliance"]
    if measures.client is None:
        return pd.DataFrame(columns=columns)
    rows = (Administration.objects
            .filter(session__case__in=cases, submitted_at__isnull=False, respondent="client",
                    instrument_id=measures.client.id)
            .annotate(total=_total())
            .values_list("session__case__client_id", "session__format",
                         "session__case__modality", "instrument_id", "total"))
    found = []
    for client_id, session_format, modality, instrument_id, total in rows:
        value = measures.read(instrument_id, "client", {"total": total}).get("alliance")
        if value is not None:
            found.append({"client": client_id, "format": session_format,
                          "modality": modality, "alliance": value})
    return pd.DataFrame(found, columns=columns)


@dataclass
class ClinicReport:
    staff: StaffMember
    date: dt.date
    measures: Measures
    figures: pd.DataFrame
    signals: repair.ClinicReport
    comparison: TherapistComparison | None
    comparison_note: str
    names: dict[str, str]
    scope: str
    n_cases: int
    n_active: int
    formats: CategoryMeans | None = None
    formats_note: str = ""
    #: Client-rated sessions whose format was not recorded (left out of the comparison).
    formats_unrecorded: int = 0
    modalities: CategoryMeans | None = None
    modalities_note: str = ""


def load(staff: StaffMember, *, today: dt.date | None = None) -> ClinicReport:
    clinic = staff.clinic
    measures = Measures.of(clinic)
    cases = scope_cases(staff)
    figures = case_figures(cases, measures)
    names = {str(pk): name for pk, name in StaffMember.objects.filter(
        pk__in=cases.values("therapist_id")).values_list("pk", "display_name")}
    comparison, note = None, ""
    usable = figures.dropna(subset=["change", "intake"])
    try:
        comparison = therapist_effects(usable.assign(therapist=usable["therapist"].astype(str)),
                                       outcome="change", covariate="intake")
    except AllianceError as exc:
        note = (f"Too few cases for a comparison of therapists yet ({exc}). It needs cases "
                f"with at least two {measures.outcome_title.lower()} ratings.")
    rated = session_alliance(cases, measures)
    formats, formats_note = None, ""
    try:
        formats = category_means(rated, "alliance", "format", "client")
    except AllianceError as exc:
        formats_note = (f"Too few client-rated sessions with a recorded format for a comparison "
                        f"yet ({exc}). A format needs at least {MIN_SESSIONS} rated sessions.")
    modalities, modalities_note = None, ""
    try:
        modalities = category_means(rated, "alliance", "modality", "client")
    except AllianceError as exc:
        modalities_note = (f"Too few client-rated sessions for a comparison of ways of working "
                           f"yet ({exc}). A way of working needs at least {MIN_SESSIONS} rated "
                           f"sessions.")
    scope = ("all therapists of the clinic" if staff.is_admin
             else "the therapists you supervise")
    return ClinicReport(staff=staff, date=today or localtime.today(staff.clinic),
                        measures=measures, figures=figures, signals=repair.clinic_report(staff),
                        comparison=comparison, comparison_note=note, names=names, scope=scope,
                        n_cases=cases.count(),
                        n_active=cases.filter(status=Case.Status.ACTIVE).count(),
                        formats=formats, formats_note=formats_note,
                        formats_unrecorded=int((rated["format"] == "").sum()),
                        modalities=modalities, modalities_note=modalities_note)


# --- the PDF ---------------------------------------------------------------------------


def _percent(value) -> str:
    return "—" if value is None else f"{round(100 * value)}%"


def _distributions(report: ClinicReport) -> list:
    measures, figures = report.measures, report.figures
    low, high = measures.alliance_scale
    alliance = figures["alliance"].dropna()
    change = figures["change"].dropna()
    title = measures.outcome_title
    story = [pdf.heading("Alliance and outcome across cases")]
    story.append(pdf.para(
        f"Left: each case's latest client-rated alliance ({len(alliance)} cases with a rating). "
        f"Right: each case's change in {title.lower()} from the first check-in to the latest "
        f"({len(change)} cases with at least two ratings; "
        f"{'above' if measures.outcome_higher_is_better else 'below'} zero is better)."))
    if alliance.empty and change.empty:
        story.append(pdf.para("No check-ins answered yet.", "small"))
        return story
    left = charts.histogram(alliance, bins=np.linspace(low, high, 11), xlabel=f"Latest alliance "
                            f"({low:g}–{high:g})", color=STYLES["alliance"].color)
    span = max(1.0, float(np.ceil(change.abs().max()))) if not change.empty else 1.0
    # Whole-point bins (wider on long scales), symmetric around no change.
    step = max(1.0, float(np.ceil(span / 8)))
    span = step * np.ceil(span / step)
    right = charts.histogram(change, bins=np.arange(-span, span + step / 2, step),
                             xlabel=f"Change in {title.lower()} (points)",
                             color=STYLES["wellbeing"].color, marker=0.0,
                             marker_label="no change")
    half = (pdf.WIDTH - 6 * pdf.mm) / 2
    grid = pdf.Table([[pdf.figure(left.data, left.width, left.height, half),
                       pdf.figure(right.data, right.width, right.height, half)]],
                     colWidths=[half + 3 * pdf.mm, half + 3 * pdf.mm], hAlign="LEFT")
    grid.setStyle(pdf.TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0),
                                  ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story.append(grid)
    return story


def _signals(report: ClinicReport) -> list:
    signals = report.signals
    story = [pdf.heading("Signals and repair")]
    for sentence in signals.sentences:
        story.append(pdf.para(sentence))
    # "—": repair actions are not recorded for that kind of signal (as on the page); 0: none.
    rows = [[r.label + (" (needs attention)" if r.attention else ""), r.count,
             score(r.per_100), r.with_action if r.repairable else "—",
             r.without_action if r.repairable else "—"]
            for r in signals.rows if r.count]
    if rows:
        if signals.attention_per_100 is not None:
            rows.append(["Needing attention, all kinds", "", score(signals.attention_per_100),
                         "", ""])
        story.append(pdf.space(3))
        story.append(pdf.table(["Signal", "Count", "Per 100 sessions", "With a repair action",
                                "Without"], rows,
                               [70 * pdf.mm, 18 * pdf.mm, 28 * pdf.mm, 32 * pdf.mm, 22 * pdf.mm],
                               numeric={1, 2, 3, 4}))
        story.append(pdf.para("— in the repair columns: repair actions are not recorded for "
                              "that kind of signal; 0: none was recorded.", "small"))
    story.append(pdf.keep(pdf.para("How ruptures turned out", "h3"), pdf.table(
        ["Ruptures", "Count", "Repaired", "Unresolved", "Window open", "Share repaired",
         "Median sessions to repair"],
        [[r.label, r.ruptures, r.repaired, r.unresolved, r.pending, _percent(r.share),
          "—" if r.median is None else score(r.median)] for r in signals.repair],
        [52 * pdf.mm, 15 * pdf.mm, 19 * pdf.mm, 21 * pdf.mm, 19 * pdf.mm, 20 * pdf.mm,
         24 * pdf.mm], numeric={1, 2, 3, 4, 5, 6})))
    story.append(pdf.space(3))
    story.append(pdf.para("The share repaired counts ruptures whose repair window has closed. "
                          "Signals are those of active cases under the rules in force (at the "
                          "end of this report).", "small"))
    return story


#: Above this many therapists the comparison is summarised (`_therapists_summarised`):
#: three caterpillar charts (three pages of dots) is as much as a reader takes in one by one;
#: a clinic of 500 therapists drew 21 of them, most of its report's time and size.
SUMMARISE_ABOVE = 3 * charts.CATERPILLAR_ROWS


def _therapists(report: ClinicReport, summarise_above: int = SUMMARISE_ABOVE) -> list:
    title = report.measures.outcome_title.lower()
    story = [pdf.heading("Therapists compared, adjusted for intake")]
    comparison = report.comparison
    if comparison is None:
        story.append(pdf.para(report.comparison_note))
        return story
    level = round(comparison.level * 100)
    if comparison.n_therapists > summarise_above:
        story += _therapists_summarised(report, comparison, title, level, summarise_above)
    else:
        story += _caterpillar(report, comparison, title, level)
    story += _therapist_table(report, comparison, level)
    return story


def _caterpillar(report: ClinicReport, comparison, title: str, level: int) -> list:
    """One dot and interval per therapist, listed by name, in parts of a page each."""
    story = [pdf.para(
        f"Each dot is the change in {title} expected for a client of that therapist who starts "
        f"at the clinic's average intake level ({score(comparison.covariate_mean)}), "
        f"estimated from {comparison.n_cases} cases of {comparison.n_therapists} therapists; "
        f"the line is its {level}% interval and the dashed line the clinic mean "
        f"({score(comparison.intercept)} points). The number after a name is the "
        f"therapist's cases.")]
    for chart in charts.caterpillars(comparison, report.names,
                                     xlabel=f"Adjusted change in {title} (points)"):
        story.append(pdf.figure(chart.data, chart.width, chart.height))
    story.append(pdf.para("How to read it", "h3"))
    reading = [
        "The figures are adjusted for how the clients were doing at intake, and a therapist "
        "with few cases is drawn toward the clinic mean until their cases say otherwise: "
        "small caseloads vary a lot by chance.",
        "Overlapping intervals are not differences. Only an interval that lies wholly on one "
        "side of the dashed line suggests a therapist differs from the clinic mean, and even "
        "then case mix the intake score does not capture may explain it.",
        "Therapists are listed by name, not ranked. Use the figure to start a conversation in "
        "supervision, not to judge anyone.",
    ]
    return story + _how_to_read(reading, comparison)


def _therapists_summarised(report: ClinicReport, comparison, title: str, level: int,
                           summarise_above: int) -> list:
    """The therapists' adjusted figures as a distribution, and how many intervals lie wholly
    on one side of the clinic mean: at this scope a dot per therapist would be pages of
    charts nobody reads one by one (and most of the report's time to draw)."""
    effects = comparison.therapists
    above = sum(t.adjusted_lower > comparison.intercept for t in effects)
    below = sum(t.adjusted_upper < comparison.intercept for t in effects)
    better = "above" if report.measures.outcome_higher_is_better else "below"
    story = [pdf.para(
        f"The change in {title} expected for a client of each therapist who starts at the "
        f"clinic's average intake level ({score(comparison.covariate_mean)}), estimated from "
        f"{comparison.n_cases} cases of {comparison.n_therapists} therapists. With more than "
        f"{summarise_above} therapists the report shows how these figures are "
        f"spread rather than a dot per therapist: the chart counts therapists by their "
        f"adjusted figure, and the dashed line is the clinic mean "
        f"({score(comparison.intercept)} points; {better} is better). Each therapist's "
        f"figure with its {level}% interval is in the table below, listed by name.")]
    values = np.array([t.adjusted for t in effects], dtype=float)
    low = min(values.min(), comparison.intercept)
    high = max(values.max(), comparison.intercept)
    pad = max(0.25, 0.05 * (high - low))
    chart = charts.histogram(values, bins=np.linspace(low - pad, high + pad, 21),
                             xlabel=f"Adjusted change in {title} (points)",
                             color=STYLES["wellbeing"].color, marker=comparison.intercept,
                             marker_label="clinic mean", ylabel="Therapists",
                             size=(7.2, 2.8))
    story.append(pdf.figure(chart.data, chart.width, chart.height))
    story.append(pdf.para(
        f"{_therapists_count(above)} of {comparison.n_therapists} "
        f"{'has' if above <= 1 else 'have'} a {level}% interval wholly above the clinic mean "
        f"and {_therapists_count(below).lower()} wholly below it; "
        f"{comparison.n_therapists - above - below} of the {comparison.n_therapists} "
        f"intervals include the clinic mean."))
    story.append(pdf.para("How to read it", "h3"))
    reading = [
        "The figures are adjusted for how the clients were doing at intake, and a therapist "
        "with few cases is drawn toward the clinic mean until their cases say otherwise: "
        "small caseloads vary a lot by chance, so the spread of the figures is narrower "
        "than that of the therapists' observed means.",
        "Among many therapists a few intervals lie wholly on one side of the mean by chance "
        f"alone (about {100 - level} in 100 at a {level}% level even if no therapist "
        f"differed), and case mix the intake score does not capture may explain the rest.",
        "The table lists therapists by name, not ranked. Use it to start a conversation in "
        "supervision, not to judge anyone.",
    ]
    return story + _how_to_read(reading, comparison)


def _how_to_read(reading: list[str], comparison) -> list:
    """The comparison's reading notes as bullets, led by the note that the therapists do
    not differ when the model found no variance between them."""
    if comparison.singular:
        reading = ["In these data the therapists do not differ beyond what chance explains: "
                   "every adjusted figure equals the clinic mean.", *reading]
    return [pdf.para(f"•&nbsp;&nbsp;{pdf.text(sentence)}", "body", markup=True)
            for sentence in reading]


def _therapists_count(n: int) -> str:
    return "No therapist" if n == 0 else f"{n} therapist{'s' if n != 1 else ''}"


def _therapist_table(report: ClinicReport, comparison, level: int) -> list:
    story = []
    rows = []
    for t in sorted(comparison.therapists, key=lambda t: report.names.get(t.therapist, "")):
        rows.append([report.names.get(t.therapist, t.therapist), t.n_cases,
                     score(t.raw_mean), score(t.adjusted),
                     f"{score(t.adjusted_lower)} to {score(t.adjusted_upper)}"])
    story.append(pdf.space(3))
    story.append(pdf.table(["Therapist", "Cases", "Observed mean change", "Adjusted",
                            f"{level}% interval"], rows,
                           [52 * pdf.mm, 16 * pdf.mm, 34 * pdf.mm, 24 * pdf.mm, 36 * pdf.mm],
                           numeric={1, 2, 3, 4}))
    story.append(pdf.space(3))
    story.append(pdf.para(
        f"Model: change = β₀ + β₁ × (intake − mean) + therapist + error, fitted by REML with a "
        f"random intercept per therapist. β₁ = {comparison.slope:.2f} "
        f"(SE {comparison.slope_se:.2f}) points per point of intake; variance between "
        f"therapists {comparison.therapist_variance:.3f}, within {comparison.residual_variance:.3f} "
        f"(intraclass correlation {comparison.icc:.2f}). Intervals from the conditional "
        f"variance of each therapist's effect.", "small"))
    return story


def _formats(report: ClinicReport) -> list:
    unrecorded = (f" {report.formats_unrecorded} rated session"
                  f"{'s' if report.formats_unrecorded != 1 else ''} without a recorded format "
                  f"{'are' if report.formats_unrecorded != 1 else 'is'} left out."
                  if report.formats_unrecorded else "")
    return _category_section(
        report.formats, report.formats_note + unrecorded,
        heading="Alliance by session format", column="Format", name="format",
        labels=dict(Session.Format.choices),
        what=("The client-rated alliance of sessions held in person, by video, by phone or "
              "by text"),
        caveat=f"clients who choose a format may differ in other ways.{unrecorded}")


def _modalities(report: ClinicReport) -> list:
    return _category_section(
        report.modalities, report.modalities_note,
        heading="Alliance by way of working", column="Way of working",
        name="way of working", labels=dict(Case.Modality.choices),
        what="The client-rated alliance of sessions by the case's way of working",
        caveat="clients and therapists are not assigned to a way of working at random.")


def _category_section(result: CategoryMeans | None, note: str, *, heading: str, column: str,
                      name: str, labels: dict, what: str, caveat: str) -> list:
    """Each category's estimated mean with its interval from the random-intercept model
    (`alliance.core.category_means`), or the note that says why there is none."""
    story = [pdf.heading(heading)]
    if result is None:
        return [pdf.keep(*story, pdf.para(note))]
    level = round(result.confidence * 100)
    story.append(pdf.para(
        f"{what}, from {result.n_sessions} rated sessions of {result.n_clients} clients. Each "
        f"figure is the {name}'s estimated mean with its {level}% interval; every client "
        f"counts as one client however many sessions they had, so a few clients with many "
        f"sessions do not decide it. Overlapping intervals are not differences, and "
        f"{caveat} A {name} needs at least {MIN_SESSIONS} rated sessions for an estimate."))
    rows = []
    for item in result.categories:
        label = labels.get(item.category, item.category)
        if item.estimate is None:
            rows.append([label, item.n_sessions, item.n_clients,
                         "too few to estimate", ""])
        else:
            rows.append([label, item.n_sessions, item.n_clients, score(item.estimate),
                         f"{score(item.ci_low)} to {score(item.ci_high)}"])
    story.append(pdf.space(3))
    story.append(pdf.table([column, "Rated sessions", "Clients", "Estimated mean",
                            f"{level}% interval"], rows,
                           [34 * pdf.mm, 28 * pdf.mm, 20 * pdf.mm, 48 * pdf.mm, 32 * pdf.mm],
                           numeric={1, 2, 3, 4}))
    story.append(pdf.space(3))
    notes = " ".join(result.notes)
    story.append(pdf.para(
        f"Model: alliance = {name} mean + client + error, fitted by REML with a random "
        f"intercept per client; variance between clients {result.client_variance:.3f}, within "
        f"{result.residual_variance:.3f}. Intervals use Satterthwaite degrees of freedom."
        + (f" {notes[0].upper()}{notes[1:]}." if notes else ""), "small"))
    # The heading stays with the paragraph that explains it (never alone at a page's foot).
    return [pdf.keep(story[0], story[1]), *story[2:]]


def _rules(report: ClinicReport) -> list:
    return [pdf.heading("Rules in force"),
            pdf.facts([(label, value) for label, value in report.signals.rules],
                      label_width=58 * pdf.mm)]


def render(report: ClinicReport, *, summarise_above: int = SUMMARISE_ABOVE) -> bytes:
    """The PDF; the therapist comparison is summarised above `summarise_above` therapists."""
    with localtime.activated(report.staff.clinic):
        return _render(report, summarise_above)


def _render(report: ClinicReport, summarise_above: int) -> bytes:
    clinic = report.staff.clinic
    page = pdf.Page(clinic.name, "Clinic report", report.date,
                    footer="Aggregates only: no case records. For the clinic's use.")
    story = [pdf.para("Clinic report", "title"),
             pdf.para(f"{clinic.name}: {report.scope}. How the alliance and wellbeing look "
                      f"across cases, how often signals fire and ruptures are repaired, and "
                      f"how therapists compare once intake is taken into account.", "subtitle"),
             pdf.facts([("Covers", report.scope.capitalize()),
                        ("Cases", f"{report.n_cases} ({report.n_active} active)"),
                        ("Attended sessions", f"{report.signals.report.attended_sessions} in "
                                              f"active cases"),
                        ("Prepared for", report.staff.display_name)])]
    story += _distributions(report)
    story += _signals(report)
    story += _therapists(report, summarise_above)
    story += _formats(report)
    story += _modalities(report)
    story += _rules(report)
    return pdf.build(story, page, subject=f"Clinic report of {clinic.name}")

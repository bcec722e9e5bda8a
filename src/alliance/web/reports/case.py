"""The case report as a PDF, in two variants.

- **For the record** (``RECORD``): everything the case page shows — the facts, the scores
  in words, the alliance chart (client-rated total, bond, goals and tasks, with the
  therapist's own rating) and the wellbeing chart with the expected range, with their
  numbers; goals and tasks with their state, reviews and reports; every signal in the
  page's own sentences with its state, dismissal reason and the repair actions with their
  notes; the rupture–repair history; the client's own words; the sessions.
- **For the client** (``CLIENT``): what the client can take home, in second person and
  kind words — the client's own ratings of the work together and of how life is going,
  goals and tasks (the client's and the therapist's progress ratings, since they are
  shared work), the moments when the work felt harder and whether it recovered, and the
  sessions. It leaves out everything written for clinicians: signal names and rules,
  dismissal reasons, repair actions and their notes, the therapist's own alliance
  ratings, the clinic's expected range and "not on track" marks, and the open-text
  answers (a printout may be seen by others; the client knows what they wrote).

The data are the case page's (`dashboards.casepage.load_case`, the signal list's repair
reading, the goals' stored reviews); the case comes from `scoping` in the view or, on the
command line, by id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.db.models import Prefetch

from alliance.web import localtime
from alliance.web.care.models import Session
from alliance.web.dashboards import casepage
from alliance.web.dashboards.series import CaseSeries
from alliance.web.dashboards.text import range_bound, score
from alliance.web.goals.models import Goal, GoalReview, Side, Task, TaskReport
from alliance.web.goals.page import waiting_words
from alliance.web.goals.services import session_at
from alliance.web.monitoring import repair
from alliance.web.portal import progress
from alliance.web.reports import charts, pdf

#: A rupture's parts as the client version names them.
CLIENT_PART_NAMES = {"Alliance overall": "your overall rating"}

RECORD = "record"
CLIENT = "client"
VARIANTS = (RECORD, CLIENT)


def _day(value) -> str:
    # A moment is the clinic's day: render() runs in the clinic's time zone.
    return localtime.format_date(value) or "—"


# --- goals and tasks ---------------------------------------------------------------


@dataclasses.dataclass
class TaskEntry:
    what: str
    how_often: str
    state: str
    reports: list[tuple[int, str, str]]   # (session, done, helpful 0–10 or "—"), oldest first


@dataclasses.dataclass
class GoalEntry:
    text: str
    state: str
    reviews: list[tuple[int, str, str]]   # (session, client's rating, therapist's rating)
    tasks: list[TaskEntry]


def _goal_state(goal: Goal) -> str:
    if goal.status == Goal.Status.PROPOSED:
        return waiting_words(goal, own=False) or "Proposed"
    if goal.status == Goal.Status.AGREED:
        return f"Agreed on {_day(goal.agreed_at)}"
    return f"{goal.get_status_display()} on {_day(goal.status_changed_at)}"


def _task_state(task: Task) -> str:
    if task.status != Task.Status.ACTIVE:
        return f"{task.get_status_display()} on {_day(task.status_changed_at)}"
    return waiting_words(task, own=False) or "Agreed by both"


def goal_entries(case, sessions) -> list[GoalEntry]:
    """The case's goals, open ones first, with reviews and task reports (four queries)."""
    numbers = [(s.number, s.date, s.status == Session.Status.ATTENDED) for s in sessions]
    goals = (Goal.objects.filter(case=case)
             .prefetch_related(
                 Prefetch("reviews", queryset=GoalReview.objects.select_related("session")),
                 Prefetch("tasks", queryset=Task.objects.prefetch_related(
                     Prefetch("reports", queryset=TaskReport.objects.select_related("session")))))
             .order_by("proposed_at", "pk"))
    entries = []
    for goal in sorted(goals, key=lambda g: not g.is_open):
        by_session: dict[int, dict] = {}
        for review in goal.reviews.all():   # oldest first: a later rating at a session wins
            number = review.session.number if review.session_id else \
                session_at(numbers, review.created_at)
            by_session.setdefault(number, {})[review.side] = review.rating
        reviews = [(n, score(r.get(Side.CLIENT)), score(r.get(Side.THERAPIST)))
                   for n, r in sorted(by_session.items())]
        tasks = []
        for task in goal.tasks.all():
            reports = [(r.session.number if r.session_id else session_at(numbers, r.created_at),
                        r.get_done_display(), score(r.helpful)) for r in task.reports.all()]
            tasks.append(TaskEntry(task.what, task.how_often, _task_state(task), reports))
        entries.append(GoalEntry(goal.text, _goal_state(goal), reviews, tasks))
    return entries


# --- the report's data ---------------------------------------------------------------


@dataclasses.dataclass
class CaseReport:
    case: object
    variant: str
    date: dt.date
    data: casepage.CaseData
    summary: casepage.Summary
    goals: list[GoalEntry]
    ruptures: list            # rupture signals, oldest first, with `.repair`
    feedback: list

    @property
    def for_client(self) -> bool:
        return self.variant == CLIENT

    @property
    def shows_alliance(self) -> bool:
        """The record always shows the alliance; the client's copy only when the clinic lets
        clients see their alliance scores (the portal's rule, `portal.progress`)."""
        return not self.for_client or progress.shows_alliance(self.case.client.clinic)


def load(case, variant: str = RECORD, *, today: dt.date | None = None) -> CaseReport:
    if variant not in VARIANTS:
        raise ValueError(f"unknown case report variant {variant!r}")
    clinic = case.client.clinic
    # Days (goal waiting times, dates of comments) as the clinic counts them, also when the
    # report is made on the command line.
    with localtime.activated(clinic):
        data = casepage.load_case(case)
        repair.attach_repair(data.signals)
        return CaseReport(case=case, variant=variant, date=today or localtime.today(clinic),
                          data=data, summary=casepage.summary(data, own=False),
                          goals=goal_entries(case, data.sessions),
                          ruptures=repair.history(data.signals),
                          feedback=casepage.client_feedback(data.sessions))


def _client_series(series: CaseSeries) -> CaseSeries:
    """The client's own ratings only: no therapist's rating, no rupture or range marks."""
    rows = [dataclasses.replace(s, therapist=None, ruptures=[], repaired=[],
                                below_expected=False) for s in series.sessions]
    return CaseSeries(rows, series.measures)


# --- the PDF ---------------------------------------------------------------------------


def _facts(report: CaseReport) -> list[tuple[str, str]]:
    case = report.case
    rows = [("Client code", case.client.code),
            ("Therapist", case.therapist.display_name),
            ("Way of working", case.get_modality_display()),
            ("Started", _day(case.start_date))]
    if case.end_date:
        rows.append((case.get_status_display(), _day(case.end_date)))
    else:
        rows.append(("Status", case.get_status_display()))
    sessions = report.data.series.sessions
    attended = sum(1 for s in sessions if s.attended)
    if sessions:
        rows.append(("Sessions", f"{len(sessions)} recorded, {attended} attended "
                                 f"({_day(sessions[0].date)} to {_day(sessions[-1].date)})"))
    else:
        rows.append(("Sessions", "none recorded yet"))
    return rows


def _alliance_section(report: CaseReport) -> list:
    series, measures = report.data.series, report.data.measures
    story = [pdf.heading("How the work together felt" if report.for_client
                         else "Alliance, session by session")]
    if report.for_client:
        latest = series.latest("alliance")
        if latest is not None:
            parts = ", ".join(f"{name} {score(getattr(latest, name))}"
                              for name in ("bond", "goals", "tasks")
                              if getattr(latest, name) is not None)
            story.append(pdf.para(
                f"At session {latest.number} you rated our work together "
                f"{score(latest.alliance)} of {measures.alliance_scale[1]:g}"
                + (f" ({parts})" if parts else "") + ". The thick line is your overall "
                "rating; the thinner lines are its parts: how we get on (bond), whether we "
                "work on what matters to you (goals), and how we go about it (tasks)."))
        series = _client_series(series)
    else:
        for sentence in report.summary.alliance:
            story.append(pdf.para(sentence))
        story.append(pdf.para("The client's rating is the thick line, with its three parts; "
                              "the therapist's own rating is dashed. A dotted line with ▼ "
                              "marks a possible rupture (▽ once repaired).", "small"))
    if not series.sessions:
        story.append(pdf.para("No sessions recorded yet.", "small"))
        return story
    chart = charts.alliance(series)
    story.append(pdf.figure(chart.data, chart.width, chart.height))
    # The heading, its sentences and the chart stay on one page.
    story = [pdf.keep(*story)]
    comparable = measures.therapist_comparable and not report.for_client
    header = ["Session", "Date", "Overall", "Bond", "Goals", "Tasks"]
    widths = [16, 26, 18, 16, 16, 16]
    if comparable:
        header.append("Therapist")
        widths.append(20)
    header.append("Note")
    widths.append(42 if comparable else 62)
    rows = []
    for s in series.sessions:
        row = [s.number, _day(s.date), score(s.alliance), score(s.bond), score(s.goals),
               score(s.tasks)]
        if comparable:
            row.append(score(s.therapist))
        row.append(s.status_label if not s.attended else
                   ("" if report.for_client else s.rupture_note))
        rows.append(row)
    story.append(pdf.space(4))
    story.append(pdf.table(header, rows, [w * pdf.mm for w in widths],
                           numeric={0, 2, 3, 4, 5, 6} if comparable else {0, 2, 3, 4, 5}))
    return story


def _wellbeing_section(report: CaseReport) -> list:
    series, measures, expected = report.data.series, report.data.measures, report.data.expected
    title = measures.outcome_title
    story = [pdf.heading(f"How life is going ({title.lower()})" if report.for_client
                         else f"{title}, session by session")]
    band = None
    if report.for_client:
        latest, first = series.latest("wellbeing"), series.first("wellbeing")
        if latest is not None:
            sentence = (f"At session {latest.number} you rated how life is going "
                        f"{score(latest.wellbeing)} of {measures.outcome_scale[1]:g}")
            if first is not None and first.number != latest.number:
                sentence += f"; at your first check-in (session {first.number}) it was " \
                            f"{score(first.wellbeing)}"
            story.append(pdf.para(sentence + "."))
        series = _client_series(series)
    else:
        for sentence in report.summary.wellbeing:
            story.append(pdf.para(sentence))
        band = expected.band
        note = ("The shaded area is the range expected at each session for clients of this "
                "clinic who started at a similar level." if band else expected.note)
        if note:
            story.append(pdf.para(note, "small"))
    if not series.sessions:
        return story
    chart = charts.wellbeing(series, band)
    story.append(pdf.figure(chart.data, chart.width, chart.height))
    story = [pdf.keep(*story)]
    header = ["Session", "Date", title]
    widths = [16, 26, 24]
    if band:
        header.append("Expected range")
        widths.append(30)
    header.append("Note")
    widths.append(74 if band else 104)
    rows = []
    for s in series.sessions:
        row = [s.number, _day(s.date), score(s.wellbeing)]
        if band:
            row.append("—" if s.expected_low is None else
                       f"{range_bound(s.expected_low, s.wellbeing)}–"
                       f"{range_bound(s.expected_high, s.wellbeing)}")
        note = s.status_label if not s.attended else \
            ("Outside the expected range" if s.below_expected and band else "")
        rows.append([*row, note])
    story.append(pdf.space(4))
    story.append(pdf.table(header, rows, [w * pdf.mm for w in widths], numeric={0, 2}))
    return story


def _goals_section(report: CaseReport) -> list:
    story = [pdf.heading("Your goals and tasks" if report.for_client else "Goals and tasks")]
    if not report.goals:
        story.append(pdf.para("No goals recorded yet." if not report.for_client else
                              "We have not written down any goals yet.", "small"))
        return story
    for goal in report.goals:
        block = [pdf.para(f"“{goal.text}”", "h3"), pdf.para(goal.state, "small")]
        if goal.reviews:
            block.append(pdf.table(
                ["Session", "Progress: " + ("your rating" if report.for_client else "client"),
                 "Progress: therapist"],
                [list(r) for r in goal.reviews], [22 * pdf.mm, 45 * pdf.mm, 45 * pdf.mm],
                numeric={0, 1, 2}))
            block.append(pdf.space(5))
        for task in goal.tasks:
            often = f" ({task.how_often})" if task.how_often else ""
            block.append(pdf.para(f"<b>Task:</b> {pdf.text(task.what)}{pdf.text(often)} · "
                                  f"{pdf.text(task.state)}", "body", markup=True))
            if task.reports:
                done = "; ".join(f"session {n}: {d.lower()}"
                                 + (f", helpful {h} of 10" if h != "—" else "")
                                 for n, d, h in task.reports)
                block.append(pdf.para(f"Reports: {done}.", "small"))
        block.append(pdf.space(4))
        story.append(pdf.keep(*block))
    return story


def _signals_section(report: CaseReport) -> list:
    story = [pdf.heading("Signals")]
    signals = report.data.signals
    if not signals:
        story.append(pdf.para("Nothing needed attention.", "small"))
        return story
    for signal in signals:
        head = signal.get_type_display()
        where = ""
        if signal.session:
            where = f"Session {signal.session.number} · {_day(signal.session.date)}"
        state = signal.get_state_display()
        if signal.type == "client_feedback" and signal.state == "acknowledged":
            state = "Discussed"
        outcome = signal.repair.outcome.text if signal.repair.repairable else ""
        block = [pdf.para(f"<b>{pdf.text(head)}</b>"
                          f"<font color='#56625e'>  {pdf.text(where)} · {pdf.text(state)}"
                          f"{' · ' + pdf.text(outcome) if outcome else ''}</font>", "body",
                          markup=True),
                 pdf.para(signal.explanation)]
        if signal.type == "client_feedback" and (signal.data or {}).get("text"):
            block.append(pdf.para(signal.data["text"], "quote"))
        block.append(pdf.para(f"Rule: {signal.why.rule_text}", "small"))
        if signal.state == "dismissed" and signal.dismiss_reason:
            block.append(pdf.para(f"Dismissed because: {signal.dismiss_reason}", "small"))
        if not signal.is_current:
            block.append(pdf.para("The clinic's current settings no longer flag this; it is "
                                  "kept because it was acted on.", "small"))
        for action in signal.repair.actions:
            when = f" (session {action.session.number})" if action.session else ""
            note = f": {action.note}" if action.note else ""
            block.append(pdf.para(f"What was done{when}: {action.get_kind_display()}"
                                  f"{note} — {action.by.display_name}, "
                                  f"{_day(action.created_at)}", "small"))
        block.append(pdf.space(5))
        story.append(pdf.keep(*block))
    return story


def _ruptures_section(report: CaseReport) -> list:
    if report.for_client:
        ruptures = [s for s in report.ruptures if s.state != "dismissed"]
        if not ruptures:
            return []
        story = [pdf.heading("Moments when the work felt harder"),
                 pdf.para("Sometimes a check-in shows that a session felt less good than the "
                          "ones before. That is useful to know: talking about it is part of "
                          "the work. These are the times your ratings dipped, and what "
                          "followed.")]
        for signal in ruptures:
            parts = "; ".join(f"{CLIENT_PART_NAMES.get(p.name, p.name.lower())} from "
                              f"{score(p.reference)} to "
                              f"{score(p.score)}" for p in signal.repair.parts)
            number = signal.session.number if signal.session else "—"
            key = signal.repair.outcome.key
            after = {"repaired": f"by session {signal.data.get('repaired_session')} your "
                                 f"ratings were back at the earlier level",
                     "pending": "the next check-ins will show how it goes",
                     "unresolved": "your ratings have not yet come back to the earlier "
                                   "level; it is worth talking about"}.get(key, "")
            story.append(pdf.para(f"Session {number}: {parts or 'your rating dipped'}"
                                  + (f"; {after}" if after else "") + "."))
        return story
    story = [pdf.heading("Ruptures and repair")]
    if not report.ruptures:
        story.append(pdf.para("No rupture so far: the client's ratings have not dropped by more "
                              "than the clinic's rule.", "small"))
        return story
    rows = []
    for signal in report.ruptures:
        done = "; ".join(a.get_kind_display() + (f" (session {a.session.number})"
                                                 if a.session else "")
                         for a in signal.repair.actions) or \
            ("Nothing recorded" + ("; dismissed" if signal.state == "dismissed" else ""))
        rows.append([signal.session.number if signal.session else "—",
                     _day(signal.session.date if signal.session else None),
                     signal.repair.parts_text, done, signal.repair.outcome.text or "—"])
    story.append(pdf.table(["Session", "Date", "What fell", "What was done", "Outcome"], rows,
                           [18 * pdf.mm, 23 * pdf.mm, 41 * pdf.mm, 44 * pdf.mm, 44 * pdf.mm],
                           numeric={0}))
    return story


def _feedback_section(report: CaseReport) -> list:
    if report.for_client or not report.feedback:
        return []
    story = [pdf.heading("In the client's words")]
    for entry in report.feedback:
        question = f" · {entry.question}" if entry.question else ""
        story.append(pdf.keep(pdf.para(f"Session {entry.session} · {_day(entry.date)}{question}",
                                       "small"),
                              pdf.para(entry.text, "quote")))
    return story


def _sessions_section(report: CaseReport) -> list:
    story = [pdf.heading("Sessions")]
    sessions = report.data.series.sessions
    if not sessions:
        story.append(pdf.para("No sessions recorded yet.", "small"))
        return story
    rows = []
    for s in sessions:
        forms = [f for f in s.forms if not (report.for_client and f.respondent != "client")]
        rows.append([s.number, localtime.format_date(s.date, style="weekday"), s.status_label,
                     ", ".join(f.label + (" ✓" if f.answered else " · waiting" if f.waiting
                                          else " · not answered") for f in forms) or "—"])
    story.append(pdf.table(["Session", "Date", "Attendance", "Check-ins"], rows,
                           [16 * pdf.mm, 32 * pdf.mm, 34 * pdf.mm, 88 * pdf.mm], numeric={0}))
    return story


def render(report: CaseReport) -> bytes:
    """The report as PDF bytes, its moments in the clinic's time zone."""
    with localtime.activated(report.case.client.clinic):
        return _render(report)


def _render(report: CaseReport) -> bytes:
    case = report.case
    clinic = case.client.clinic.name
    if report.for_client:
        title = "Our work together"
        page = pdf.Page(clinic, f"{title} · {case.client.code}", report.date,
                        footer=f"Prepared for you by {case.therapist.display_name}")
        intro = (f"A summary of your sessions with {case.therapist.display_name} and of the "
                 f"check-ins you answered. Your ratings are yours: if something here does "
                 f"not match how things feel, that is worth saying.")
    else:
        title = "Case report"
        page = pdf.Page(clinic, f"{title} · {case.client.code}", report.date,
                        footer="Confidential: client record, for the clinic's use")
        intro = ("For the record: the case's scores, goals and tasks, signals and repair work "
                 "as the case page shows them on the date above.")
    story = [pdf.para(f"{title}: {case.client.code}", "title"),
             pdf.para(intro, "subtitle"), pdf.facts(_facts(report))]
    if report.shows_alliance:
        story += _alliance_section(report)
    story += _wellbeing_section(report)
    story += _goals_section(report)
    if not report.for_client:
        story += _signals_section(report)
    if report.shows_alliance:
        # The client's copy tells the dips of their alliance ratings, with the numbers.
        story += _ruptures_section(report)
    story += _feedback_section(report)
    story += _sessions_section(report)
    return pdf.build(story, page, subject=f"{title} for {case.client.code}")

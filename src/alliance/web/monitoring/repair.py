"""Reading the rupture → repair → follow-up workflow: what the pages show.

- `attach_repair(signals)`: each signal of a list gets `.repair` (a `RepairInfo`: the
  recorded actions, the prompts, which parts moved, the outcome in words), with one query
  for all of them. The signal list include and the case's history use it.
- `history(signals)`: the case's ruptures in time order, with their scores, actions and
  outcome.
- `supervision_ruptures(case_ids)`: ruptures of supervisees' cases with their actions.
- `clinic_report(staff)`: the signal report (`alliance.core.report.signal_report`) over
  the cases the viewer may see in aggregate, with the rules in force.

Recording an action is `services.record_repair`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db.models import Case as DbCase
from django.db.models import Count, Q, When
from django.utils import timezone

from alliance.core.report import SignalReport, signal_report
from alliance.core.signals.records import number
from alliance.web.care.models import Case, Session
from alliance.web.clinics.models import Clinic, StaffMember
from alliance.web.monitoring.display import plain_value
from alliance.web.monitoring.models import ClinicBaseline, RepairAction, Signal
from alliance.web.monitoring.prompts import (
    REPAIRABLE,
    Part,
    PromptChoice,
    moved_parts,
    prompts_for,
)

#: Repaired ruptures stay on the supervision page for this long after their session.
SUPERVISION_REPAIRED_DAYS = 56


@dataclass(frozen=True)
class Outcome:
    """A rupture's outcome in words: key "repaired", "pending", "unresolved" (or "")."""

    key: str
    text: str


@dataclass
class RepairInfo:
    repairable: bool
    actions: list = field(default_factory=list)   # RepairAction, oldest first
    prompts: PromptChoice | None = None
    parts: list[Part] = field(default_factory=list)
    showed_as: str = ""                           # the latest marker the therapist recorded
    outcome: Outcome = Outcome("", "")
    # Prompts are offered while the signal may still need work: not dismissed, and for a
    # rupture not already repaired.
    show_prompts: bool = False
    # Actions can be recorded unless the signal was dismissed.
    can_record: bool = False

    @property
    def parts_text(self) -> str:
        """E.g. "Alliance overall 8 → 5; Bond 8 → 4.5"."""
        return "; ".join(f"{p.name} {plain_value(p.reference)} → {plain_value(p.score)}"
                         for p in self.parts)


def outcome_of(signal) -> Outcome:
    """What the client's later check-ins say about a rupture (the core's repair rule)."""
    if signal.type != Signal.Type.RUPTURE:
        return Outcome("", "")
    window = (signal.parameters or {}).get("window")
    within = f" within {window} rated sessions" if window else ""
    state = signal.repair_state
    if state == Signal.RepairState.REPAIRED:
        back = (signal.data or {}).get("repaired_session")
        return Outcome("repaired", f"Repaired at session {back}" if back else "Repaired")
    if state == Signal.RepairState.UNRESOLVED:
        return Outcome("unresolved", f"Unresolved: not back at the earlier level{within}")
    if state == Signal.RepairState.PENDING:
        return Outcome("pending", f"Not yet: the next check-ins decide{within}")
    return Outcome("", "")


def _latest_marker(actions) -> str:
    for action in reversed(actions):
        if action.showed_as != RepairAction.ShowedAs.NOT_SURE:
            return action.showed_as
    return ""


def attach_repair(signals) -> list:
    """Give each signal `.repair` (a `RepairInfo`); one query, none when already attached."""
    signals = list(signals)
    todo = [s for s in signals if not hasattr(s, "repair")]
    wanted = [s.pk for s in todo if s.type in REPAIRABLE]
    by_signal: dict[int, list] = defaultdict(list)
    if wanted:
        for action in (RepairAction.objects.filter(signal_id__in=wanted)
                       .select_related("by", "session").order_by("created_at", "pk")):
            by_signal[action.signal_id].append(action)
    for signal in todo:
        if signal.type not in REPAIRABLE:
            signal.repair = RepairInfo(repairable=False)
            continue
        actions = by_signal.get(signal.pk, [])
        marker = _latest_marker(actions)
        dismissed = signal.state == Signal.State.DISMISSED
        signal.repair = RepairInfo(
            repairable=True, actions=actions,
            prompts=prompts_for(signal, showed_as=marker or None),
            parts=moved_parts(signal), showed_as=marker, outcome=outcome_of(signal),
            show_prompts=not dismissed
            and signal.repair_state != Signal.RepairState.REPAIRED,
            can_record=not dismissed)
    return signals


def history(signals) -> list:
    """The case's ruptures, oldest first, each with `.repair` attached.

    Ruptures the current rules no longer produce are left out unless a therapist acted on
    them (they are kept on record then, marked as such on the page).
    """
    ruptures = [s for s in signals if s.type == Signal.Type.RUPTURE
                and (s.is_current or s.acted_on)]
    attach_repair(ruptures)
    return sorted(ruptures, key=lambda s: (s.session.number if s.session else 10 ** 9, s.pk))


def supervision_ruptures(case_ids, *, today: dt.date | None = None) -> dict[int, list]:
    """Case id → its ruptures a supervisor follows, oldest first, with `.repair` attached.

    Those not yet repaired (pending or unresolved, not dismissed) and those repaired at a
    session in the last `SUPERVISION_REPAIRED_DAYS` days. Two queries.
    """
    today = today or timezone.localdate()
    recent = today - dt.timedelta(days=SUPERVISION_REPAIRED_DAYS)
    rows = list(Signal.objects.filter(case_id__in=list(case_ids), type=Signal.Type.RUPTURE)
                .exclude(state=Signal.State.DISMISSED)
                .filter(Q(repair_state__in=[Signal.RepairState.PENDING,
                                            Signal.RepairState.UNRESOLVED])
                        | Q(repair_state=Signal.RepairState.REPAIRED, session__date__gte=recent))
                .select_related("session"))
    attach_repair(rows)
    found: dict[int, list] = defaultdict(list)
    for signal in sorted(rows, key=lambda s: (s.session.number if s.session else 10 ** 9,
                                              s.pk)):
        found[signal.case_id].append(signal)
    return found


# --------------------------------------------------------------------------- clinic report

def report_cases(staff: StaffMember):
    """The cases a report covers: the clinic's active cases for an administrator, the active
    cases of a supervisor's supervisees; none for anyone else.

    The report shows aggregates only, which is what an administrator may see of cases.
    Active cases, because their signals are recomputed whenever the clinic's rules change,
    so they follow the rules in force.
    """
    active = Case.objects.filter(client__clinic_id=staff.clinic_id, status=Case.Status.ACTIVE)
    if staff.is_admin:
        return active
    if staff.is_supervisor:
        supervisees = staff.supervisees.filter(clinic_id=staff.clinic_id)
        return active.filter(therapist__in=supervisees)
    return Case.objects.none()


@dataclass(frozen=True)
class ReportRow:
    type: str
    label: str
    count: int
    per_100: float | None
    with_action: int
    without_action: int
    attention: bool = False  # a kind the clinic counts as needing attention

    @property
    def repairable(self) -> bool:
        """Repair actions are recorded for this kind; for the others the page and the PDF
        show "—" (does not apply) in the repair columns, never 0 (none recorded)."""
        return self.type in REPAIRABLE


@dataclass(frozen=True)
class RepairRow:
    group: str
    label: str
    ruptures: int
    repaired: int
    unresolved: int
    pending: int
    decided: int
    share: float | None
    median: float | None


@dataclass(frozen=True)
class ClinicReport:
    report: SignalReport
    rows: list[ReportRow]
    repair: list[RepairRow]
    sentences: list[str]
    rules: list[tuple[str, str]]
    scope: str
    # The clinic's alert burden: signals needing attention (the clinic's kinds) and the
    # client's comments, per 100 attended sessions (None without attended sessions).
    attention_per_100: float | None = None
    comments_per_100: float | None = None


REPAIR_GROUPS = {"all": "All ruptures", "with_action": "With a recorded repair action",
                 "without_action": "Without a recorded repair action"}


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{round(100 * value)}%"


def clinic_report(staff: StaffMember) -> ClinicReport:
    """The signal report for `staff` (an administrator or a supervisor). Four queries.

    Signals the clinic's current rules produce (``is_current``), dismissed ones included
    (they fired); the sessions of the same cases; the repair actions on those signals.
    """
    cases = report_cases(staff)
    # Only a repaired rupture's session of repair is read from the encrypted data (the
    # others' data stays NULL in the query): decrypting every signal's data was most of
    # the report's time in a large clinic.
    repaired = When(type=Signal.Type.RUPTURE, repair_state=Signal.RepairState.REPAIRED,
                    then="data")
    rows = (Signal.objects.filter(case__in=cases, is_current=True)
            .annotate(repair_data=DbCase(repaired, default=None,
                                         output_field=Signal._meta.get_field("data")))
            .values_list("pk", "case_id", "type", "session__number", "repair_state",
                         "repair_data"))
    signals = pd.DataFrame.from_records(
        [(*row[:5], (row[5] or {}).get("repaired_session") if isinstance(row[5], dict)
          else None) for row in rows],
        columns=["signal_id", "client_id", "type", "session", "repair_state",
                 "repaired_session"])
    # The sessions counted per case in the database, then one row per session as the
    # core reads them (a clinic's sessions were tens of thousands of rows to fetch).
    counts = list(Session.objects.filter(case__in=cases).order_by().values("case_id")
                  .annotate(n=Count("pk"),
                            attended=Count("pk", filter=Q(status=Session.Status.ATTENDED)))
                  .values_list("case_id", "n", "attended"))
    ids = np.array([c for c, _, _ in counts], dtype=np.int64)
    total = np.array([n for _, n, _ in counts], dtype=np.int64)
    attended = np.array([a for _, _, a in counts], dtype=np.int64)
    sessions = pd.DataFrame({
        "client_id": np.repeat(ids, total),
        # For each case, its attended sessions (1) then the others (0).
        "attended": np.repeat(np.tile(np.array([1, 0], dtype=np.int64), len(ids)),
                              np.column_stack([attended, total - attended]).ravel())})
    actions = pd.DataFrame.from_records(
        list(RepairAction.objects.filter(signal__case__in=cases, signal__is_current=True)
             .values_list("signal_id", flat=False)), columns=["signal_id"])
    report = signal_report(signals, sessions, actions, types=Signal.Type.values)
    labels = dict(Signal.Type.choices)
    kinds = staff.clinic.attention_type_set
    rows = [ReportRow(r.type, labels.get(r.type, r.type), r.count, _finite(r.per_100_sessions),
                      r.with_action, r.without_action, r.type in kinds) for r in report.rates]
    attention_per_100, comments_per_100 = burden(rows)
    repair = [RepairRow(r.group, REPAIR_GROUPS[r.group], r.ruptures, r.repaired, r.unresolved,
                        r.pending, r.decided, _finite(r.share_repaired),
                        _finite(r.median_sessions_to_repair)) for r in report.repair]
    scope = ("the clinic's active cases" if staff.is_admin
             else "the active cases of the therapists you supervise")
    sentences = interpretation(report, scope, rule=staff.clinic.rupture_rule)
    if attention_per_100 is not None:
        sentences.insert(1, f"Of those, {number(attention_per_100)} per 100 sessions are of the "
                            f"kinds the clinic counts as needing attention before the next "
                            f"session; the client's comments to read add "
                            f"{number(comments_per_100)} per 100 sessions.")
    return ClinicReport(report=report, rows=rows, repair=repair, sentences=sentences,
                        rules=rules_in_force(staff.clinic), scope=scope,
                        attention_per_100=attention_per_100,
                        comments_per_100=comments_per_100)


def burden(rows: list[ReportRow]) -> tuple[float | None, float | None]:
    """Signals needing attention and the client's comments, per 100 attended sessions: the
    sums of the rows' rates (each over the same attended sessions)."""
    rates = [r for r in rows if r.per_100 is not None]
    if not rates:
        return None, None
    return (sum(r.per_100 for r in rates if r.attention),
            sum(r.per_100 for r in rates if r.type == Signal.Type.CLIENT_FEEDBACK))


def interpretation(report: SignalReport, scope: str, *, rule: str = "") -> list[str]:
    """The report in a few plain sentences (the numbers are the core's)."""
    n = report.attended_sessions
    if n == 0:
        return [f"There are no attended sessions yet in {scope}, so there is nothing to "
                f"report."]
    total = sum(r.count for r in report.rates)
    ruptures = report.rate(Signal.Type.RUPTURE)
    said = [f"Across {n} attended session{'s' if n != 1 else ''} in {report.cases} "
            f"case{'s' if report.cases != 1 else ''}, the current rules raised "
            f"{number(100 * total / n)} signals per 100 sessions, ruptures "
            f"{number(ruptures.per_100_sessions)} per 100 sessions."]
    everyone = report.repair_group("all")
    acted = report.repair_group("with_action")
    not_acted = report.repair_group("without_action")
    if everyone.decided:
        parts = [f"Of the {everyone.decided} rupture{'s' if everyone.decided != 1 else ''} "
                 f"whose repair window has closed, {everyone.repaired} "
                 f"{'was' if everyone.repaired == 1 else 'were'} repaired "
                 f"({_percent(_finite(everyone.share_repaired))})"]
        if acted.decided and not_acted.decided:
            parts.append(f": {acted.repaired} of {acted.decided} "
                         f"({_percent(_finite(acted.share_repaired))}) with a recorded repair "
                         f"action and {not_acted.repaired} of {not_acted.decided} "
                         f"({_percent(_finite(not_acted.share_repaired))}) without one")
        sentence = "".join(parts) + "."
        if everyone.pending:
            sentence += (f" {everyone.pending} more {'is' if everyone.pending == 1 else 'are'}"
                         f" still within the window.")
        said.append(sentence)
        said.append("These are this clinic's own cases, not a controlled comparison: actions "
                    "may be recorded more often for harder ruptures, so read the difference "
                    "as a prompt for discussion rather than as proof.")
    elif everyone.ruptures:
        said.append("No rupture's repair window has closed yet, so the share repaired is not "
                    "known.")
    if ruptures.per_100_sessions > 10 and rule == Clinic.RuptureRule.SD1:
        said.append("That is more than one rupture in every ten sessions; if the alerts feel "
                    "too many, the strict rule (a drop of twice the client's usual ups and "
                    "downs) may suit the clinic better.")
    elif 0 < ruptures.per_100_sessions < 1 and rule == Clinic.RuptureRule.SD2:
        said.append("That is fewer than one rupture in a hundred sessions; if drops that "
                    "matter go unflagged, the sensitive rule (a drop as large as the client's "
                    "usual ups and downs) may suit the clinic better.")
    return said


def rules_in_force(clinic: Clinic) -> list[tuple[str, str]]:
    """The clinic's signal rules and thresholds, in words, for the report."""
    baseline = ClinicBaseline.objects.filter(clinic=clinic).first()
    rows = [("Rupture rule", clinic.get_rupture_rule_display()),
            ("Compared with", clinic.get_rupture_reference_display().lower()),
            ("Repair window", f"{clinic.repair_window} rated sessions")]
    if clinic.rupture_rule == Clinic.RuptureRule.RCI:
        rows.append(("Reliable change from", f"SD {plain_value(clinic.rci_sd)}, reliability "
                                             f"{plain_value(clinic.rci_reliability)}"))
    pooled = ((baseline.pooled_sd or {}).get("alliance") if baseline else None) or {}
    if pooled:
        source = ("this clinic's own ratings" if pooled.get("source") == "clinic"
                  else "a cautious starting value, until the clinic has enough ratings")
        rows.append(("Clients' usual ups and downs in this clinic",
                     f"{plain_value(pooled.get('pooled_sd'))}, from {source}"))
    rows += [
        ("Lower alliance rating", f"below the {clinic.low_alliance_percentile}th percentile of "
                                  f"the clinic's ratings at the same session (or the "
                                  f"measure's cutoff, when it has one)"),
        ("Different views", f"therapist's rating more than {clinic.discrepancy_threshold} "
                            f"points above the client's, on a 0–100 scale"),
        ("Drifting away", f"{clinic.disengagement_missed_sessions} missed sessions or "
                          f"{clinic.disengagement_unanswered_checkins} unanswered check-ins in "
                          f"a row, or a gap {plain_value(clinic.disengagement_gap_factor)} "
                          f"times the usual interval"),
    ]
    return rows

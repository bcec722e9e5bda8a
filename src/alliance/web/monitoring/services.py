"""Keeping a case's signals up to date, and what therapists do with them.

`recompute_case_signals(case)` is the single entry point that turns a case's data into
stored `Signal` rows. It runs in the background worker (`tasks`), enqueued after the
transaction that changed the data commits (a check-in submitted, a session recorded; see
`receivers` and the `request_*` functions below).

Every number comes from `alliance.core`: `detect_signals` does the detection,
`pooled_within_sd` the clinic's usual variation, `fit_expected_response` the expected
course. This module chooses the inputs, maps the clinic settings onto `SignalSettings`,
and stores the results.

Upsert rules (one stored signal per case, type, subject and session):
- a signal the rules produce for the first time is stored as open;
- one that exists keeps its state (open, acknowledged, resolved, dismissed and its
  reason), while its rule, parameters, data, explanation and repair state are updated;
- one the current rules no longer produce (the clinic changed its rupture rule, data were
  corrected) is deleted if nobody acted on it (still open); if a therapist acknowledged,
  resolved or dismissed it, it is kept with ``is_current = False``, so what they did stays
  on record, and becomes current again if the rules produce it again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from alliance.core import expected as core_expected
from alliance.core.errors import AllianceError, InputError, NotEnoughDataError
from alliance.core.signals import SignalSettings, detect_signals, pooled_within_sd
from alliance.web.care.models import Case
from alliance.web.checkins.models import Administration
from alliance.web.clinics.models import Clinic, StaffMember
from alliance.web.errors import DomainError
from alliance.web.goals import detection as goal_detection
from alliance.web.monitoring import data as case_data
from alliance.web.monitoring.data import ANSWERED, UNANSWERED, CaseData, ClinicInstruments
from alliance.web.monitoring.models import ClinicBaseline, RepairAction, Signal

logger = logging.getLogger(__name__)

#: The clinic's own pooled within-client SD is used once it rests on at least this many
#: rated check-ins from at least `MIN_POOLED_CLIENTS` clients with two or more each.
MIN_POOLED_RATINGS = 30
MIN_POOLED_CLIENTS = 5
#: Before that, p is this fraction of the score's range (1 point on a 0–10 check-in):
#: a cautious default, a little above the session-to-session variation typical of
#: session-by-session alliance ratings, so a new clinic is not flooded with ruptures.
DEFAULT_POOLED_FRACTION = 0.1
#: Cached clinic values are refreshed when the data they rest on have grown by a tenth.
REFRESH_GROWTH = 1.1

RUPTURE_COLUMNS = ("alliance", "bond", "goals", "tasks")


class SignalError(DomainError):
    """A change to a signal that its state does not allow."""


@dataclass(frozen=True)
class RecomputeResult:
    """What a recomputation changed."""

    cases: int
    created: int
    updated: int
    unchanged: int
    removed: int
    kept: int  # no longer produced, but kept because a therapist acted on them

    def to_dict(self) -> dict[str, int]:
        return {"cases": self.cases, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "removed": self.removed, "kept": self.kept}


@dataclass(frozen=True)
class ExpectedStatus:
    """Whether the clinic has an expected-response model for "not on track", and why not."""

    available: bool
    instrument: str
    n_cases: int
    min_cases: int
    message: str
    fitted_at: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"available": self.available, "instrument": self.instrument,
                "n_cases": self.n_cases, "min_cases": self.min_cases, "message": self.message,
                "fitted_at": self.fitted_at.isoformat() if self.fitted_at else None}


# --------------------------------------------------------------------------- settings

#: Clinic fields the signals depend on; saving the clinic settings recomputes every
#: active case when one of them changed.
SETTING_FIELDS = ("instruments_in_use", "rupture_rule", "rupture_reference", "repair_window",
                  "rci_sd", "rci_reliability", "low_alliance_percentile",
                  "discrepancy_threshold", "disengagement_missed_sessions",
                  "disengagement_unanswered_checkins", "disengagement_gap_factor",
                  *goal_detection.SETTING_FIELDS)


def settings_fingerprint(clinic: Clinic) -> str:
    values = {name: getattr(clinic, name) for name in SETTING_FIELDS}
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Plan:
    """The clinic's settings as core settings, with what the web adds to them."""

    settings: SignalSettings
    instruments: ClinicInstruments
    pooled: dict[str, dict]  # column → {"pooled_sd", "n_rated", "n_clients", "source"}
    rupture_columns: tuple[str, ...]
    ruptures_possible: bool


def _low_cutoff(instrument) -> tuple[float | None, bool]:
    """The instrument's own cutoff for a low total, when it has one (e.g. SRS at or below
    36), and whether a score exactly at it counts."""
    if instrument is None:
        return None, False
    for cutoff in instrument.cutoffs:
        if cutoff.score == "total" and cutoff.when in ("below", "at_or_below"):
            return float(cutoff.value), cutoff.when == "at_or_below"
    return None, False


def _default_pooled(instruments: ClinicInstruments, column: str) -> float:
    if instruments.client is None:
        return 1.0
    score_id = "total" if column == "alliance" else instruments.subscales.get(column, "total")
    low, high = instruments.client.score_range(score_id)
    return DEFAULT_POOLED_FRACTION * (high - low)


def make_plan(clinic: Clinic, baseline: ClinicBaseline,
              instruments: ClinicInstruments | None = None) -> Plan:
    """Map the clinic's settings onto `alliance.core.signals.SignalSettings`.

    Ruptures are watched on the alliance total and on each of bond, goals and tasks the
    clinic's instrument has, each with its own pooled SD. The reliable-change rule uses
    the SD and reliability the clinic gives for the total, so under it only the total is
    watched.
    """
    instruments = instruments or case_data.clinic_instruments(clinic)
    pooled = {}
    for column in ("alliance", *instruments.subscales):
        stored = (baseline.pooled_sd or {}).get(column)
        if baseline.pooled_instrument == getattr(instruments.client, "id", None) and stored:
            pooled[column] = stored
        else:
            pooled[column] = {"pooled_sd": _default_pooled(instruments, column), "n_rated": 0,
                              "n_clients": 0, "source": "default"}
    rule = clinic.rupture_rule
    possible = rule != "rci" or (clinic.rci_sd is not None and clinic.rci_reliability is not None)
    if not possible:
        logger.warning("clinic %s uses the reliable-change rule without an SD and reliability; "
                       "no ruptures are looked for", clinic.pk)
    client_scale = instruments.scale(instruments.client) or (0.0, 10.0)
    low_cutoff, inclusive = _low_cutoff(instruments.client)
    settings = SignalSettings(
        rule=rule if possible else "sd2", reference=clinic.rupture_reference,
        window=clinic.repair_window, pooled_sd=pooled["alliance"]["pooled_sd"],
        sd=clinic.rci_sd, reliability=clinic.rci_reliability,
        low_cutoff=low_cutoff, low_cutoff_inclusive=inclusive,
        low_percentile=float(clinic.low_alliance_percentile),
        scale=tuple(client_scale),
        therapist_scale=instruments.scale(instruments.therapist),
        discrepancy_points=float(clinic.discrepancy_threshold),
        higher_is_better=instruments.outcome.higher_is_better if instruments.outcome else True,
        missed_in_a_row=clinic.disengagement_missed_sessions,
        unanswered_in_a_row=clinic.disengagement_unanswered_checkins,
        gap_factor=float(clinic.disengagement_gap_factor))
    columns = ("alliance",) if rule == "rci" else ("alliance", *instruments.subscales)
    return Plan(settings=settings, instruments=instruments, pooled=pooled,
                rupture_columns=columns, ruptures_possible=possible)


# --------------------------------------------------------------------------- baseline

def get_baseline(clinic: Clinic) -> ClinicBaseline:
    baseline = ClinicBaseline.objects.filter(clinic=clinic).first()
    if baseline is not None:
        return baseline
    try:
        with transaction.atomic():
            return ClinicBaseline.objects.create(clinic=clinic,
                                                 settings_fingerprint=settings_fingerprint(clinic))
    except IntegrityError:  # created at the same moment by another recomputation
        return ClinicBaseline.objects.get(clinic=clinic)


def _grown(now: int, then: int) -> bool:
    return now < then or now >= max(then * REFRESH_GROWTH, then + 1)


def refresh_pooled_sd(clinic: Clinic, baseline: ClinicBaseline | None = None, *,
                      instruments: ClinicInstruments | None = None,
                      force: bool = False) -> ClinicBaseline:
    """Recompute the clinic's pooled within-client SDs when the ratings have grown by a tenth.

    Cached on `ClinicBaseline` because it spans every case of the clinic: a check-in
    costs one COUNT query, and the full computation (one query reading only the scores,
    then `alliance.core.signals.pooled_within_sd` per score) runs about once per 10%
    growth. The unit is the case (one episode of care of one client).
    """
    baseline = baseline or get_baseline(clinic)
    instruments = instruments or case_data.clinic_instruments(clinic)
    instrument = instruments.client
    if instrument is None:
        return baseline
    count = (Administration.objects
             .filter(session__case__client__clinic=clinic, instrument_id=instrument.id,
                     respondent=Administration.Respondent.CLIENT, submitted_at__isnull=False)
             .count())
    fresh = (baseline.pooled_instrument == instrument.id and baseline.pooled_at is not None
             and not _grown(count, baseline.pooled_n_rated))
    if fresh and not force:
        return baseline
    paths = {"alliance": "total",
             **{column: f"subscales__{sid}" for column, sid in instruments.subscales.items()}}
    scores = case_data.clinic_scores(clinic, instrument, paths)
    pooled = {}
    for column in paths:
        pooled[column] = _pooled_entry(scores["client_id"], scores[column],
                                       _default_pooled(instruments, column))
    baseline.pooled_instrument = instrument.id
    baseline.pooled_sd = pooled
    baseline.pooled_n_rated = count
    baseline.pooled_at = timezone.now()
    baseline.save(update_fields=["pooled_instrument", "pooled_sd", "pooled_n_rated", "pooled_at"])
    return baseline


def _pooled_entry(client: pd.Series, score: pd.Series, default: float) -> dict:
    result = pooled_within_sd(client.to_numpy(), score.to_numpy(dtype=float))
    rated = score.notna()
    repeated = int((client[rated].value_counts() >= 2).sum()) if rated.any() else 0
    enough = (result.n_rated >= MIN_POOLED_RATINGS and repeated >= MIN_POOLED_CLIENTS
              and math.isfinite(result.value) and result.value > 0)
    return {"pooled_sd": result.value if enough else default, "n_rated": result.n_rated,
            "n_clients": result.n_clients, "source": "clinic" if enough else "default"}


def expected_status(clinic: Clinic, baseline: ClinicBaseline | None = None) -> ExpectedStatus:
    """Whether "not on track" can be judged at this clinic, in words for the page."""
    baseline = baseline or ClinicBaseline.objects.filter(clinic=clinic).first()
    outcome = case_data.clinic_instruments(clinic).outcome
    minimum = core_expected.MIN_CASES
    if outcome is None:
        return ExpectedStatus(False, "", 0, minimum,
                              "Not-on-track signals need an outcome check-in (such as the "
                              "wellbeing check-in); this clinic does not use one.")
    usable = (baseline is not None and baseline.expected_model
              and baseline.expected_instrument == outcome.id)
    if usable:
        n = int(baseline.expected_model.get("n_cases", 0))
        return ExpectedStatus(True, outcome.title, n, minimum,
                              f"Expected course of {outcome.title.lower()} fitted on {n} of "
                              f"this clinic's closed cases.", baseline.expected_at)
    if baseline is not None and baseline.expected_note and \
            baseline.expected_instrument == outcome.id:
        return ExpectedStatus(False, outcome.title, baseline.expected_n_cases, minimum,
                              baseline.expected_note, baseline.expected_at)
    return ExpectedStatus(False, outcome.title, 0, minimum, _too_few_text(outcome, 0))


def _too_few_text(outcome, n_cases: int) -> str:
    return (f"Not-on-track signals start once this clinic has {core_expected.MIN_CASES} closed "
            f"cases with a first {outcome.title.lower()} score and at least "
            f"{core_expected.MIN_SESSIONS - 1} later ones (so far: {n_cases}). Until then "
            f"there is no fair expected course to compare with.")


def refit_expected(clinic: Clinic, *, force: bool = False) -> tuple[ExpectedStatus, bool]:
    """Refit the clinic's expected treatment response on its closed cases.

    Runs when the clinic has no model yet or its closed cases have grown by a tenth since
    the last fit (or always with `force`). Returns the status and whether the stored model
    changed. With too few cases the model is cleared and the note says so.
    """
    baseline = get_baseline(clinic)
    outcome = case_data.clinic_instruments(clinic).outcome
    if outcome is None:
        changed = baseline.expected_model is not None
        if changed or baseline.expected_instrument:
            baseline.expected_model, baseline.expected_instrument = None, ""
            baseline.expected_note, baseline.expected_at = "", timezone.now()
            baseline.save(update_fields=["expected_model", "expected_instrument",
                                         "expected_note", "expected_at"])
        return expected_status(clinic, baseline), changed
    closed = Case.objects.filter(client__clinic=clinic, status=Case.Status.CLOSED)
    n_closed = closed.count()
    fresh = (baseline.expected_instrument == outcome.id and baseline.expected_at is not None
             and not _grown(n_closed, baseline.expected_n_cases))
    if fresh and not force:
        return expected_status(clinic, baseline), False
    scores = case_data.clinic_scores(clinic, outcome, {"wellbeing": "total"},
                                     case_status=Case.Status.CLOSED)
    before = baseline.expected_model
    try:
        model = core_expected.fit_expected_response(scores, client="client_id",
                                                    session="session", outcome="wellbeing")
    except NotEnoughDataError:
        rated = scores.dropna(subset=["wellbeing"])
        per_case = rated.groupby("client_id").size()
        usable = int((per_case >= core_expected.MIN_SESSIONS).sum())
        baseline.expected_model, baseline.expected_note = None, _too_few_text(outcome, usable)
    except InputError as exc:
        baseline.expected_model = None
        baseline.expected_note = (f"The expected course of {outcome.title.lower()} could not be "
                                  f"fitted on this clinic's closed cases: {exc}")
    else:
        baseline.expected_model, baseline.expected_note = model.to_dict(), ""
    baseline.expected_instrument = outcome.id
    baseline.expected_n_cases = n_closed
    baseline.expected_at = timezone.now()
    baseline.save(update_fields=["expected_model", "expected_note", "expected_instrument",
                                 "expected_n_cases", "expected_at"])
    return expected_status(clinic, baseline), baseline.expected_model != before


def _expected_model(baseline: ClinicBaseline, instruments: ClinicInstruments):
    if (not baseline.expected_model or instruments.outcome is None
            or baseline.expected_instrument != instruments.outcome.id):
        return None
    try:
        return core_expected.ExpectedResponseModel.from_dict(baseline.expected_model)
    except AllianceError:
        logger.exception("stored expected-response model of clinic %s is unreadable",
                         baseline.clinic_id)
        return None


# --------------------------------------------------------------------------- detection

@dataclass(frozen=True)
class Found:
    """A core signal with what the database row needs besides it."""

    case_id: int
    session_id: int | None
    type: str
    subject: str
    rule: str
    parameters: dict
    data: dict
    explanation: str
    repair_state: str = ""


def _json(value):
    # Exactly what the JSON column will give back, so that "unchanged" compares equal.
    return json.loads(json.dumps(value, allow_nan=False))


def _subject(signal, score_column: str | None) -> str:
    # Alliance scores by the instrument's words: "total", or the subscale "bond", …
    if signal.type == "rupture":
        return "total" if score_column in (None, "alliance") else score_column
    if signal.type in ("low_alliance", "discrepancy"):
        return "total"
    if signal.type == "not_on_track":
        return "wellbeing"
    if signal.type == "disengagement":
        return signal.rule
    for key in ("goal_id", "task_id"):
        if key in signal.data and signal.data[key] is not None:
            return str(signal.data[key])[:64]
    return ""


def _found(signal, data: CaseData, plan: Plan, score_column: str | None = None) -> Found:
    record = signal.to_dict()
    case_id = int(record["client_id"])
    session = record["session"]
    session_id = None if session is None else data.session_ids.get((case_id, int(session)))
    parameters = dict(record["parameters"])
    if signal.type == "rupture" and "pooled_sd" in parameters and score_column:
        basis = plan.pooled[score_column]
        parameters["pooled_sd_source"] = basis["source"]
        parameters["pooled_sd_n_rated"] = basis["n_rated"]
    instrument = plan.instruments.outcome if signal.type == "not_on_track" else \
        plan.instruments.client
    if instrument is not None and signal.type in ("rupture", "low_alliance", "discrepancy",
                                                  "not_on_track"):
        parameters["instrument"] = instrument.title
    repair = record["data"].get("state", "") if signal.type == "rupture" else ""
    return Found(case_id=case_id, session_id=session_id, type=signal.type,
                 subject=_subject(signal, score_column), rule=signal.rule,
                 parameters=_json(parameters), data=_json(record["data"]),
                 explanation=signal.explanation, repair_state=repair or "")


def _one_rupture_per_session(ruptures: list[Found]) -> list[Found]:
    """Merge the ruptures of one session into one signal, so one drop is one alert.

    The total speaks for the session when it fell; otherwise the subscale that dropped
    most. The other scores that fell at that session are named in its data ("also") and
    in its explanation, so the therapist still sees which part of the alliance moved.
    """
    by_session: dict[tuple, list[Found]] = {}
    for f in ruptures:
        by_session.setdefault((f.case_id, f.session_id), []).append(f)
    merged = []
    for group in by_session.values():
        group.sort(key=lambda f: (f.subject != "total", -float(f.data.get("drop") or 0.0)))
        main, others = group[0], group[1:]
        if others:
            names = [f.subject for f in others]
            also = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
            main = replace(main, data={**main.data, "also": [
                {"subject": f.subject, "reference": f.data.get("reference"),
                 "score": f.data.get("score"), "state": f.data.get("state")} for f in others]},
                explanation=f"{main.explanation} {also.capitalize()} also fell at this session.")
        merged.append(main)
    return merged


def _feedback(data: CaseData) -> list[Found]:
    found = []
    for entry in data.feedback:
        question = _question_text(entry.instrument_id, entry.question_id)
        found.append(Found(
            case_id=entry.case_id, session_id=entry.session_id, type="client_feedback",
            subject=f"{entry.instrument_id}:{entry.question_id}"[:64], rule="open_answer",
            parameters={"instrument": _instrument_title(entry.instrument_id),
                        "question": question},
            data={"text": entry.text, "session": entry.session},
            explanation=f"At session {entry.session} the client answered “{question}”"))
    return found


def _portal_feedback(data: CaseData) -> list[Found]:
    # What a client wrote in the client portal: the same kind of item as an open answer,
    # without a session (one signal per message).
    return [Found(case_id=entry.case_id, session_id=None, type="client_feedback",
                  subject=f"portal:{entry.feedback_id}", rule="portal_message", parameters={},
                  data={"text": entry.text, "written_on": entry.written_on.isoformat()},
                  explanation=f"On {entry.written_on.day} {entry.written_on:%B %Y} the "
                              "client wrote to you in the client portal.")
            for entry in data.portal_feedback]


def _instrument_title(instrument_id: str) -> str:
    try:
        return case_data.web_instruments.get_instrument(instrument_id).title
    except AllianceError:
        return instrument_id


def _question_text(instrument_id: str, question_id: str) -> str:
    try:
        instrument = case_data.web_instruments.get_instrument(instrument_id)
    except AllianceError:
        return question_id
    for question in instrument.open_questions:
        if question.id == question_id:
            texts = question.text
            return texts.get("en") or next(iter(texts.values()), question_id)
    return question_id


def detect(data: CaseData, plan: Plan, *, reference: pd.DataFrame | None = None,
           expected=None) -> list[Found]:
    """Every signal of the cases in `data`, through `alliance.core.signals.detect_signals`.

    - ruptures on the alliance total and each subscale, each with its own pooled SD;
    - low alliance against the instrument's cutoff, or the clinic percentile at the same
      session number, with `reference` (the clinic's other cases' scores) in the group;
    - discrepancy and not on track (with `expected`, the clinic's fitted model);
    - disengagement: missed sessions and long gaps on every scheduled session; unanswered
      check-ins only over sessions whose check-in was sent and is no longer waiting (a
      session without a check-in, or with a link still valid, is not "unanswered");
    - client feedback from open-text answers and from messages left in the client portal.
    """
    frame = data.frame
    if frame.empty:
        return _portal_feedback(data)
    s = plan.settings
    found: list[Found] = []
    if plan.ruptures_possible:
        ruptures: list[Found] = []
        for column in plan.rupture_columns:
            if frame[column].notna().sum() < 2:
                continue
            settings = replace(s, score=column, pooled_sd=plan.pooled[column]["pooled_sd"])
            ruptures += [_found(x, data, plan, column)
                         for x in detect_signals(frame, settings, types=["rupture"])]
        found += _one_rupture_per_session(ruptures)
    found += [_found(x, data, plan) for x in
              detect_signals(frame, s, types=["discrepancy", "not_on_track"], expected=expected)]
    found += _low_alliance(data, plan, reference)
    # Missed sessions and gaps: without the score column, so no "unanswered" rule here.
    found += [_found(x, data, plan) for x in
              detect_signals(frame.drop(columns=[s.score]), s, types=["disengagement"])]
    decided = np.isin(np.asarray(data.checkin, dtype=object), [ANSWERED, UNANSWERED])
    if decided.any():
        sent = frame.loc[decided, ["client_id", "session", "attended"]].copy()
        sent["checkin"] = np.where(np.asarray(data.checkin, dtype=object)[decided] == ANSWERED,
                                   1.0, np.nan)
        found += [_found(x, data, plan) for x in
                  detect_signals(sent, replace(s, score="checkin"), types=["disengagement"])
                  if x.rule == "unanswered_in_a_row"]
    found += _feedback(data)
    found += _portal_feedback(data)
    return found


def _low_alliance(data: CaseData, plan: Plan, reference: pd.DataFrame | None) -> list[Found]:
    s = plan.settings
    frame = data.frame[["client_id", "session", "date", "alliance"]]
    if s.low_cutoff is None and reference is not None and len(reference):
        frame = pd.concat([frame, reference[["client_id", "session", "date", "alliance"]]],
                          ignore_index=True)
    ours = set(data.frame["client_id"])
    return [_found(x, data, plan) for x in detect_signals(frame, s, types=["low_alliance"])
            if x.client_id in ours]


# --------------------------------------------------------------------------- storing

def _apply(case_ids: list[int], found: Iterable[Found]) -> RecomputeResult:
    """Upsert the found signals of these cases (see the module docstring for the rules)."""
    now = timezone.now()
    wanted: dict[tuple, Found] = {}
    for f in found:
        wanted.setdefault((f.case_id, f.type, f.subject, f.session_id), f)
    existing = {(s.case_id, s.type, s.subject, s.session_id): s
                for s in Signal.objects.filter(case_id__in=case_ids)}
    create, update, delete = [], [], []
    unchanged = kept = updated = 0
    fields = ("rule", "parameters", "data", "explanation", "repair_state", "is_current")
    for key, f in wanted.items():
        row = existing.pop(key, None)
        values = {"rule": f.rule, "parameters": f.parameters, "data": f.data,
                  "explanation": f.explanation, "repair_state": f.repair_state,
                  "is_current": True}
        if row is None:
            create.append(Signal(case_id=f.case_id, session_id=f.session_id, type=f.type,
                                 subject=f.subject, **values))
        elif any(getattr(row, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(row, name, value)
            row.updated_at = now
            update.append(row)
            updated += 1
        else:
            unchanged += 1
    # A signal with a recorded repair action is kept like one a therapist acted on.
    unacted = [row.pk for row in existing.values() if not row.acted_on]
    with_actions = set(RepairAction.objects.filter(signal_id__in=unacted)
                       .values_list("signal_id", flat=True)) if unacted else set()
    for row in existing.values():
        if not row.acted_on and row.pk not in with_actions:
            delete.append(row.pk)
        else:
            kept += 1
            if row.is_current:
                row.is_current, row.updated_at = False, now
                update.append(row)
    if create:
        Signal.objects.bulk_create(create)
    if update:
        Signal.objects.bulk_update(update, [*fields, "updated_at"], batch_size=500)
    if delete:
        Signal.objects.filter(pk__in=delete).delete()
    return RecomputeResult(cases=len(case_ids), created=len(create), updated=updated,
                           unchanged=unchanged, removed=len(delete), kept=kept)


def _recompute(clinic: Clinic, case_ids: list[int], *, whole_clinic: bool) -> RecomputeResult:
    instruments = case_data.clinic_instruments(clinic)
    baseline = refresh_pooled_sd(clinic, get_baseline(clinic), instruments=instruments)
    plan = make_plan(clinic, baseline, instruments)
    expected = _expected_model(baseline, instruments)

    def find(locked: list[int]) -> list:
        data = case_data.load_cases(locked, instruments)
        reference = None
        if plan.settings.low_cutoff is None and instruments.client is not None:
            rated = data.frame[data.frame["alliance"].notna()]
            if len(rated):
                reference = case_data.clinic_scores(
                    clinic, instruments.client, {"alliance": "total"}, exclude_cases=locked,
                    session_numbers=None if whole_clinic else sorted(set(rated["session"])),
                    until=None if whole_clinic else max(rated["date"]))
        found = detect(data, plan, reference=reference, expected=expected)
        # Goals and tasks: the clinic's thresholds, the case's goals, reviews and reports.
        return found + [_found(x, data, plan)
                        for x in goal_detection.detect(data.frame, plan.settings, clinic)]

    def store(locked: list[int], found: list) -> RecomputeResult:
        result = _apply(locked, found)
        if whole_clinic:
            ClinicBaseline.objects.filter(pk=baseline.pk).update(
                settings_fingerprint=settings_fingerprint(clinic))
        return result

    if transaction.get_connection().vendor == "sqlite":
        # SQLite has one write lock for the whole database: read and detect in a read-only
        # snapshot, then hold the lock only to store, so that check-ins are not kept
        # waiting behind the detectors. Recomputations run one at a time in the worker;
        # should another run for the same case meanwhile, the later event's task follows.
        with _read_snapshot():
            locked = list(Case.objects.filter(pk__in=case_ids).order_by("pk")
                          .values_list("pk", flat=True))
            found = find(locked)
        with transaction.atomic():
            return store(locked, found)
    with transaction.atomic():
        # One recomputation of a case at a time (two workers, or a bulk import beside the
        # worker): the later one waits here and then reads what the first one wrote.
        locked = list(Case.objects.select_for_update(of=("self",))
                      .filter(pk__in=case_ids).order_by("pk").values_list("pk", flat=True))
        return store(locked, find(locked))


@contextmanager
def _read_snapshot():
    """A transaction that only reads: on SQLite a DEFERRED one, which takes no write lock."""
    connection = transaction.get_connection()
    if connection.in_atomic_block:  # already inside a transaction: read in it
        yield
        return
    connection.ensure_connection()  # connecting sets the configured transaction_mode
    mode = connection.transaction_mode
    connection.transaction_mode = "DEFERRED"
    try:
        with transaction.atomic():
            yield
    finally:
        connection.transaction_mode = mode


def recompute_case_signals(case: Case) -> RecomputeResult:
    """Recompute and store the signals of one case. The single entry point for one case.

    A bounded number of queries (about a dozen), the same for 5 or 300 sessions.
    """
    clinic = Clinic.objects.get(clients__cases=case.pk)
    return _recompute(clinic, [case.pk], whole_clinic=False)


def recompute_clinic_signals(clinic: Clinic, case_ids: Iterable[int] | None = None
                             ) -> RecomputeResult:
    """Recompute the signals of a clinic's active cases (or of the given cases) together.

    One vectorised run of the core over all of them, with the same number of queries as
    for one case; used when the clinic's signal settings change.
    """
    if case_ids is None:
        ids = list(Case.objects.filter(client__clinic=clinic, status=Case.Status.ACTIVE)
                   .values_list("pk", flat=True))
        return _recompute(clinic, ids, whole_clinic=True)
    ids = list(Case.objects.filter(client__clinic=clinic, pk__in=list(case_ids))
               .values_list("pk", flat=True))
    return _recompute(clinic, ids, whole_clinic=False)


# --------------------------------------------------------------------------- deferring

_deferred: ContextVar[dict | None] = ContextVar("alliance_deferred_recomputation", default=None)


@contextmanager
def deferred_recomputation():
    """Collect recomputation requests and run them once, together, at the end of the block.

    For seeding and imports, where thousands of submissions would otherwise each
    recompute their case: inside the block the receivers only note the cases (and
    clinics whose cases ended); on a normal exit the expected-response models of those
    clinics are refitted and all noted cases recomputed, one run per clinic. Events are
    sent when transactions commit, so put the block around the transactions.
    """
    if _deferred.get() is not None:  # already collecting
        yield
        return
    pending = {"cases": set(), "ended": set()}
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    for clinic in Clinic.objects.filter(pk__in=pending["ended"]):
        refit_expected(clinic)
    by_clinic: dict[int, list[int]] = {}
    for case_id, clinic_id in (Case.objects.filter(pk__in=pending["cases"])
                               .values_list("pk", "client__clinic_id")):
        by_clinic.setdefault(clinic_id, []).append(case_id)
    for clinic in Clinic.objects.filter(pk__in=by_clinic):
        recompute_clinic_signals(clinic, by_clinic[clinic.pk])


def request_recompute(case_id: int) -> None:
    """Ask the worker to recompute a case, or note it when inside `deferred_recomputation`."""
    pending = _deferred.get()
    if pending is not None:
        pending["cases"].add(case_id)
        return
    from alliance.web.monitoring import tasks

    tasks.recompute_case.enqueue(case_id)


def request_case_ended(case: Case) -> None:
    """Ask the worker to handle the end of a case (`case_ended`), or note it when deferring."""
    pending = _deferred.get()
    if pending is not None:
        pending["ended"].add(case.client.clinic_id)
        return
    from alliance.web.monitoring import tasks

    tasks.case_ended.enqueue(case.pk)


def request_settings_check(clinic: Clinic) -> None:
    """Ask the worker to recompute the clinic's cases if a signal setting changed."""
    if _deferred.get() is not None:
        clinic_settings_saved(clinic)  # only notes the cases while deferring
        return
    from alliance.web.monitoring import tasks

    tasks.clinic_settings_saved.enqueue(clinic.pk)


def case_ended(case: Case) -> None:
    """A case closed: refit the expected course when closed cases grew; recompute if it changed."""
    pending = _deferred.get()
    if pending is not None:
        pending["ended"].add(case.client.clinic_id)
        return
    clinic = Clinic.objects.get(clients__cases=case.pk)
    _, changed = refit_expected(clinic)
    if changed:
        recompute_clinic_signals(clinic)


def clinic_settings_saved(clinic: Clinic) -> bool:
    """Recompute every active case when a signal setting changed; True when it did."""
    stored = (ClinicBaseline.objects.filter(clinic=clinic)
              .values_list("settings_fingerprint", flat=True).first())
    if stored == settings_fingerprint(clinic):
        return False
    pending = _deferred.get()
    if pending is None:
        recompute_clinic_signals(clinic)
        return True
    get_baseline(clinic)
    ClinicBaseline.objects.filter(clinic=clinic).update(
        settings_fingerprint=settings_fingerprint(clinic))
    pending["cases"].update(Case.objects.filter(client__clinic=clinic, status=Case.Status.ACTIVE)
                            .values_list("pk", flat=True))
    return True


def refresh_clinic(clinic: Clinic) -> tuple[ExpectedStatus, RecomputeResult]:
    """Refit the expected course, refresh the pooled SDs, recompute every active case.

    For after a bulk import or seeding, and for `alliance manage refit_expected`.
    """
    status, _ = refit_expected(clinic, force=True)
    refresh_pooled_sd(clinic, force=True)
    return status, recompute_clinic_signals(clinic)


# --------------------------------------------------------------------------- reading

def signals_for_case(case: Case):
    """The case's signals for the page: those needing attention first, then newest first."""
    rank = {kind: i for i, kind in enumerate(Signal.Type.values)}
    parts = {"total": 0, "bond": 1, "goals": 2, "tasks": 3}
    rows = list(case.signals.select_related("session"))
    return sorted(rows, key=lambda s: (not s.needs_attention, s.state == Signal.State.DISMISSED,
                                       -(s.session.number if s.session else 10 ** 9),
                                       rank.get(s.type, 99), parts.get(s.subject, 9),
                                       s.subject))


def attention_counts(case_ids: Iterable[int]) -> dict[int, int]:
    """Case id → number of signals needing attention (one query), for caseload pages."""
    rows = (Signal.objects.needing_attention().filter(case_id__in=list(case_ids))
            .values("case_id").annotate(n=Count("pk")))
    return {row["case_id"]: row["n"] for row in rows}


def attention_types(case_ids: Iterable[int]) -> dict[int, list[str]]:
    """Case id → the kinds of signal needing attention, in kind words (one query)."""
    labels = dict(Signal.Type.choices)
    rank = {kind: i for i, kind in enumerate(labels)}
    kinds: dict[int, set[str]] = {}
    rows = (Signal.objects.needing_attention().filter(case_id__in=list(case_ids))
            .values_list("case_id", "type").distinct())
    for case_id, kind in rows:
        kinds.setdefault(case_id, set()).add(kind)
    return {case_id: [labels.get(k, k) for k in sorted(found, key=lambda k: rank.get(k, 99))]
            for case_id, found in kinds.items()}


# --------------------------------------------------------------------------- actions

def _check_actor(signal: Signal, by: StaffMember) -> None:
    if signal.case.therapist_id != by.pk:
        raise SignalError("Only the case's therapist can change its signals.")


def acknowledge(signal: Signal, *, by: StaffMember) -> Signal:
    """The therapist has seen the signal and is attending to it."""
    _check_actor(signal, by)
    if signal.state != Signal.State.OPEN:
        raise SignalError("Only an open signal can be acknowledged.")
    signal.state, signal.changed_by = Signal.State.ACKNOWLEDGED, by
    signal.save(update_fields=["state", "changed_by", "updated_at"])
    return signal


def dismiss(signal: Signal, *, by: StaffMember, reason: str) -> Signal:
    """The therapist judges the signal not to need action, and says why (required)."""
    _check_actor(signal, by)
    reason = (reason or "").strip()
    if not reason:
        raise SignalError("Please say briefly why this signal does not need attention.")
    if signal.state not in (Signal.State.OPEN, Signal.State.ACKNOWLEDGED):
        raise SignalError("This signal is already dismissed or resolved.")
    signal.state, signal.dismiss_reason, signal.changed_by = Signal.State.DISMISSED, reason, by
    signal.save(update_fields=["state", "dismiss_reason", "changed_by", "updated_at"])
    return signal


def reopen(signal: Signal, *, by: StaffMember) -> Signal:
    """Back to open, e.g. after a dismissal by mistake. Only while the rules still produce it."""
    _check_actor(signal, by)
    if signal.state == Signal.State.OPEN:
        raise SignalError("This signal is already open.")
    if not signal.is_current:
        raise SignalError("The clinic's current rules no longer flag this, so it cannot be "
                          "reopened.")
    signal.state, signal.dismiss_reason, signal.changed_by = Signal.State.OPEN, "", by
    signal.save(update_fields=["state", "dismiss_reason", "changed_by", "updated_at"])
    return signal


# --------------------------------------------------------------------------- repair

#: The longest note a repair action keeps.
REPAIR_NOTE_LENGTH = 2000


def record_repair(signal: Signal, *, by: StaffMember, kind: str, showed_as: str,
                  note: str = "", session=None) -> RepairAction:
    """Record what the case's therapist did about a rupture, low alliance, discrepancy or
    disengagement signal.

    `kind` is one of `RepairAction.Kind` (what they did), `showed_as` one of
    `RepairAction.ShowedAs` (how the rupture showed: withdrawal, confrontation, not sure),
    `note` a short note (needed when the kind is "other"), `session` the session of the
    case in which it happened (optional; not before the signal's own session).

    An open signal becomes acknowledged: the therapist is attending to it. The outcome
    is left to the client's following check-ins (the core's repair rule, stored as
    `Signal.repair_state`). Raises `SignalError` when a rule says no.
    """
    from alliance.web.monitoring.prompts import REPAIRABLE

    _check_actor(signal, by)
    if signal.type not in REPAIRABLE:
        raise SignalError("Repair actions are recorded for ruptures, lower alliance ratings, "
                          "differing views of the alliance and signs of drifting away.")
    if signal.state == Signal.State.DISMISSED:
        raise SignalError("This signal was dismissed; reopen it first to record what you did.")
    if kind not in RepairAction.Kind.values:
        raise SignalError("Please choose what you did.")
    if showed_as not in RepairAction.ShowedAs.values:
        raise SignalError("Please choose how it showed: withdrawal, confrontation or not sure.")
    note = (note or "").strip()
    if kind == RepairAction.Kind.OTHER and not note:
        raise SignalError("Please say in a few words what you did.")
    if len(note) > REPAIR_NOTE_LENGTH:
        raise SignalError(f"Please keep the note under {REPAIR_NOTE_LENGTH} characters.")
    if session is not None:
        if session.case_id != signal.case_id:
            raise SignalError("That session belongs to another case.")
        if signal.session is not None and session.number < signal.session.number:
            raise SignalError(f"The session can be session {signal.session.number} or a later "
                              f"one, not one before the signal.")
    with transaction.atomic():
        action = RepairAction.objects.create(signal=signal, kind=kind, showed_as=showed_as,
                                             note=note, session=session, by=by)
        if signal.state == Signal.State.OPEN:
            signal.state, signal.changed_by = Signal.State.ACKNOWLEDGED, by
            signal.save(update_fields=["state", "changed_by", "updated_at"])
    return action

"""Keeping a case's signals up to date: detect, then store.

`recompute_case_signals(case)` is the single entry point that turns a case's data into
stored `Signal` rows. It runs in the background worker (`tasks`), enqueued after the
transaction that changed the data commits (a check-in submitted, a session recorded; see
`receivers` and `scheduling`).

Every number comes from `alliance.core`: `detect_signals` does the detection,
`pooled_within_sd` the clinic's usual variation (`baseline`), `fit_expected_response` the
expected course (`baseline`). `planning` maps the clinic settings onto `SignalSettings`,
`detection` finds the signals; this module stores them.

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

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alliance.web.care.models import Case
from alliance.web.clinics.models import Clinic
from alliance.web.goals import detection as goal_detection
from alliance.web.monitoring import data as case_data
from alliance.web.monitoring.baseline import (
    ExpectedStatus,
    expected_model,
    get_baseline,
    refit_expected,
    refresh_pooled_sd,
)
from alliance.web.monitoring.detection import Found, detect, found_signal
from alliance.web.monitoring.events import signals_found
from alliance.web.monitoring.models import ClinicBaseline, RepairAction, Signal
from alliance.web.monitoring.planning import make_plan, settings_fingerprint


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


def _apply(case_ids: list[int], found: Iterable[Found]) -> RecomputeResult:
    """Upsert the found signals of these cases (see the module docstring for the rules)."""
    now = timezone.now()
    wanted: dict[tuple, Found] = {}
    for f in found:
        wanted.setdefault((f.case_id, f.type, f.subject, f.session_id), f)
    # Risk signals are raised at submission (alliance.web.safety), not by the detectors:
    # recomputation never deletes, reopens or rewrites them.
    existing = {(s.case_id, s.type, s.subject, s.session_id): s
                for s in Signal.objects.filter(case_id__in=case_ids)
                .exclude(type=Signal.Type.RISK).defer("dismiss_reason")}
    create, update, delete = [], [], []
    unchanged = kept = updated = 0
    fields = ("rule", "parameters", "data", "explanation", "repair_state", "client_returned",
              "is_current")
    for key, f in wanted.items():
        row = existing.pop(key, None)
        values = {"rule": f.rule, "parameters": f.parameters, "data": f.data,
                  "explanation": f.explanation, "repair_state": f.repair_state,
                  "client_returned": f.client_returned,
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
    if len(create) >= RAW_INSERT_FROM:
        _insert(create, now)
    elif create:  # a case's few: one statement that gives back the ids
        Signal.objects.bulk_create(create)
    if create:
        transaction.on_commit(lambda: signals_found.send(sender=Signal, signals=create))
    if update:
        _update(update, [*fields, "updated_at"])
    if delete:
        Signal.objects.filter(pk__in=delete).delete()
    return RecomputeResult(cases=len(case_ids), created=len(create), updated=updated,
                           unchanged=unchanged, removed=len(delete), kept=kept)


# A clinic-wide recomputation writes tens of thousands of rows: `bulk_create` and
# `bulk_update` spend most of their time building SQL value by value (and `bulk_update` one
# CASE per field and row), so the rows go through `executemany` of one plain statement.
_INSERTED = ("case_id", "session_id", "type", "subject", "rule", "parameters", "data",
             "explanation", "state", "dismiss_reason", "repair_state", "is_current",
             "client_returned", "changed_by_id", "created_at", "updated_at")
_PREPARED = {"parameters", "data", "explanation", "dismiss_reason"}  # JSON, encrypted
_BATCH = 2000
#: From how many new signals `_insert` is used (below, `bulk_create`, which gives back the
#: ids in the same statement: a check-in's recomputation stays at its few queries).
RAW_INSERT_FROM = 200


def _columns(names):
    meta = Signal._meta
    fields = [meta.get_field(name.removesuffix("_id")) if name.endswith("_id")
              else meta.get_field(name) for name in names]
    return fields


def _row(signal: Signal, fields, prepared_now, connection) -> list:
    row = []
    for field in fields:
        if field.name in ("created_at", "updated_at"):
            row.append(prepared_now)
        elif field.name in _PREPARED:
            row.append(field.get_db_prep_save(getattr(signal, field.attname), connection))
        else:
            row.append(getattr(signal, field.attname))
    return row


def _insert(signals: list[Signal], now) -> None:
    """Insert new signals and give them their ids (for the notices sent on commit)."""
    connection = transaction.get_connection()
    fields = _columns(_INSERTED)
    prepared_now = fields[-1].get_db_prep_save(now, connection)
    for signal in signals:
        signal.created_at = signal.updated_at = now
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(Signal._meta.db_table)} "
           f"({', '.join(quote(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    with connection.cursor() as cursor:
        for start in range(0, len(signals), _BATCH):
            cursor.executemany(sql, [_row(s, fields, prepared_now, connection)
                                     for s in signals[start:start + _BATCH]])
    ids = {(case_id, kind, subject, session_id): pk
           for pk, case_id, kind, subject, session_id in
           Signal.objects.filter(case_id__in={s.case_id for s in signals}, created_at=now)
           .values_list("pk", "case_id", "type", "subject", "session_id")}
    for signal in signals:
        signal.pk = ids.get((signal.case_id, signal.type, signal.subject, signal.session_id))


def _update(signals: list[Signal], names: list[str]) -> None:
    connection = transaction.get_connection()
    fields = _columns(names)
    quote = connection.ops.quote_name
    sql = (f"UPDATE {quote(Signal._meta.db_table)} SET "
           f"{', '.join(f'{quote(f.column)} = %s' for f in fields)} WHERE id = %s")
    prepared = {}
    with connection.cursor() as cursor:
        for start in range(0, len(signals), _BATCH):
            rows = []
            for signal in signals[start:start + _BATCH]:
                if signal.updated_at not in prepared:
                    prepared[signal.updated_at] = fields[-1].get_db_prep_save(
                        signal.updated_at, connection)
                rows.append([*_row(signal, fields, prepared[signal.updated_at], connection),
                             signal.pk])
            cursor.executemany(sql, rows)


def _recompute(clinic: Clinic, case_ids: list[int], *, whole_clinic: bool) -> RecomputeResult:
    instruments = case_data.clinic_instruments(clinic)
    baseline = refresh_pooled_sd(clinic, get_baseline(clinic), instruments=instruments)
    plan = make_plan(clinic, baseline, instruments)
    expected = expected_model(baseline, instruments)

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
        # A gap since the last session counts up to today, for the cases still open.
        active = set(Case.objects.filter(pk__in=locked, status=Case.Status.ACTIVE)
                     .values_list("pk", flat=True)) if settings.OPEN_GAP_SIGNALS else set()
        found = detect(data, plan, reference=reference, expected=expected,
                       as_of=timezone.localdate(), open_cases=active)
        # Goals and tasks: the clinic's thresholds, the case's goals, reviews and reports.
        return found + [found_signal(x, data, plan)
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


def pending_recomputation() -> dict | None:
    """What `deferred_recomputation` has noted so far, or None outside such a block."""
    return _deferred.get()


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

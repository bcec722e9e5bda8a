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

Comparing with what is stored decrypts nothing when nothing changed: each row keeps a
keyed fingerprint of its encrypted data and explanation, bound to their tokens
(`Signal.fingerprint`, `crypto.fingerprint`); only a row whose fingerprint does not match
(stored before fingerprints, written by other code, re-encrypted or under a new key) is
decrypted and compared value by value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from alliance.web import crypto

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


def _stored(case_ids: list[int]) -> dict[tuple, tuple]:
    """The cases' stored signals by key: plain columns, and the encrypted ones as their
    tokens (not decrypted: most are compared through their fingerprint)."""
    rows = (Signal.objects.filter(case_id__in=case_ids)
            # Risk signals are raised at submission (alliance.web.safety), not by the
            # detectors: recomputation never deletes, reopens or rewrites them.
            .exclude(type=Signal.Type.RISK).order_by()
            .annotate(data_token=Cast("data", output_field=TextField()),
                      explanation_token=Cast("explanation", output_field=TextField()))
            .values_list("case_id", "type", "subject", "session_id", "pk", "state", "rule",
                         "parameters", "repair_state", "client_returned", "is_current",
                         "fingerprint", "data_token", "explanation_token"))
    return {row[:4]: row[4:] for row in rows}


_DATA = Signal._meta.get_field("data")
_EXPLANATION = Signal._meta.get_field("explanation")


def _same_content(data_text: str, explanation: str, data_token, explanation_token) -> bool:
    """What the stored tokens hold equals the new content (values compared, as JSON reads)."""
    stored_data = _DATA.from_db_value(data_token, None, None)
    stored_explanation = _EXPLANATION.from_db_value(explanation_token, None, None)
    return stored_explanation == explanation and stored_data == json.loads(data_text)


def _wanted(found: Iterable[Found]) -> dict[tuple, tuple[Found, str]]:
    """The signals to store by key, each with its data's JSON text as the encrypted column
    will hold it (prepared before the writing starts: on SQLite, outside the write lock)."""
    wanted: dict[tuple, tuple[Found, str]] = {}
    for f in found:
        key = (f.case_id, f.type, f.subject, f.session_id)
        if key not in wanted:
            wanted[key] = (f, crypto.json_text(f.data, allow_nan=False))
    return wanted


def _apply(case_ids: list[int], wanted: dict[tuple, tuple[Found, str]]) -> RecomputeResult:
    """Upsert the found signals of these cases (see the module docstring for the rules).

    A stored signal whose plain columns match and whose fingerprint matches the new
    content is unchanged without being decrypted; one whose plain columns match but whose
    fingerprint does not (written before fingerprints, by other code, or under another
    key) is decrypted and compared in full, and only its fingerprint is renewed when it
    says the same.
    """
    now = timezone.now()
    existing = _stored(case_ids)
    create: list[Signal] = []
    update: list[tuple] = []  # (pk, found, data text)
    renew: list[tuple] = []  # (fingerprint, pk)
    unchanged = 0
    for key, (f, data_text) in wanted.items():
        explanation = f.explanation
        row = existing.pop(key, None)
        if row is None:
            create.append(_new_signal(f, data_text))
            continue
        (pk, _, rule, parameters, repair_state, client_returned, is_current, stored_print,
         data_token, explanation_token) = row
        if not (is_current and rule == f.rule and repair_state == f.repair_state
                and client_returned == f.client_returned and parameters == f.parameters):
            update.append((pk, f, data_text))
            continue
        mark = crypto.fingerprint(data_text, explanation, data_token or "",
                                  explanation_token or "")
        if mark == stored_print:
            unchanged += 1
        elif _same_content(data_text, explanation, data_token, explanation_token):
            unchanged += 1
            renew.append((mark, pk))
        else:
            update.append((pk, f, data_text))
    # A signal with a recorded repair action is kept like one a therapist acted on.
    unacted = [row[0] for row in existing.values() if row[1] == Signal.State.OPEN]
    with_actions = set(RepairAction.objects.filter(signal_id__in=unacted)
                       .values_list("signal_id", flat=True)) if unacted else set()
    delete, no_longer = [], []
    for pk, state, *_, is_current, _print, _data, _explanation in existing.values():
        if state == Signal.State.OPEN and pk not in with_actions:
            delete.append(pk)
        elif is_current:
            no_longer.append(pk)
    kept = len(existing) - len(delete)
    if len(create) >= RAW_INSERT_FROM:
        _insert(create, now)
    elif create:  # a case's few: one statement that gives back the ids
        _bulk_create(create)
    if create:
        transaction.on_commit(lambda: signals_found.send(sender=Signal, signals=create))
    if update:
        _update(update, now)
    if renew or no_longer:
        _set(renew, no_longer, now)
    if delete:  # (their repair actions and risk alerts go too: not their decrypted values)
        Signal.objects.filter(pk__in=delete).only("pk").delete()
    return RecomputeResult(cases=len(case_ids), created=len(create), updated=len(update),
                           unchanged=unchanged, removed=len(delete), kept=kept)


# A new row's values in the order of the model's fields, from its defaults: building tens
# of thousands of instances positionally costs a third of building them by keyword.
_NEW_ROW = {field.attname: field.get_default() for field in Signal._meta.concrete_fields}


def _new_signal(f: Found, data_text: str) -> Signal:
    """A new signal, its encrypted values already sealed (their tokens fingerprinted)."""
    data, explanation = crypto.seal(data_text), crypto.seal(f.explanation)
    row = {**_NEW_ROW, "case_id": f.case_id, "session_id": f.session_id, "type": f.type,
           "subject": f.subject, "rule": f.rule, "parameters": f.parameters, "data": data,
           "explanation": explanation, "repair_state": f.repair_state,
           "client_returned": f.client_returned,
           "fingerprint": crypto.fingerprint(data_text, f.explanation, data, explanation)}
    signal = Signal(*row.values())
    signal.found = f
    return signal


def _unseal(signals: list[Signal]) -> None:
    # The stored signals as the rest of the code sees them (the notices read them).
    for signal in signals:
        signal.data, signal.explanation = signal.found.data, signal.found.explanation
        del signal.found


def _bulk_create(signals: list[Signal]) -> None:
    Signal.objects.bulk_create(signals)
    _unseal(signals)


# A clinic-wide recomputation writes tens of thousands of rows: `bulk_create` and
# `bulk_update` spend most of their time building SQL value by value (and `bulk_update` one
# CASE per field and row), so the rows go through `executemany` of one plain statement,
# with the values prepared here (the encrypted ones sealed once, for their fingerprint).
_INSERTED = ("case_id", "session_id", "type", "subject", "rule", "parameters", "data",
             "explanation", "state", "dismiss_reason", "repair_state", "is_current",
             "client_returned", "fingerprint", "created_at", "updated_at")
_UPDATED = ("rule", "parameters", "data", "explanation", "repair_state", "client_returned",
            "is_current", "fingerprint", "updated_at")
_BATCH = 2000
#: From how many new signals `_insert` is used (below, `bulk_create`, which gives back the
#: ids in the same statement: a check-in's recomputation stays at its few queries).
RAW_INSERT_FROM = 200


def _sql_columns(names) -> list[str]:
    quote = transaction.get_connection().ops.quote_name
    return [quote(Signal._meta.get_field(name).column) for name in names]


def _insert(signals: list[Signal], now) -> None:
    """Insert new signals and give them their ids (for the notices sent on commit)."""
    connection = transaction.get_connection()
    parameters = Signal._meta.get_field("parameters")
    prepared_now = Signal._meta.get_field("updated_at").get_db_prep_save(now, connection)
    table = connection.ops.quote_name(Signal._meta.db_table)
    sql = (f"INSERT INTO {table} ({', '.join(_sql_columns(_INSERTED))}) "
           f"VALUES ({', '.join(['%s'] * len(_INSERTED))})")
    with connection.cursor() as cursor:
        for start in range(0, len(signals), _BATCH):
            cursor.executemany(sql, [
                (s.case_id, s.session_id, s.type, s.subject, s.rule,
                 parameters.get_db_prep_save(s.parameters, connection), str(s.data),
                 str(s.explanation), Signal.State.OPEN, "", s.repair_state, True,
                 s.client_returned, s.fingerprint, prepared_now, prepared_now)
                for s in signals[start:start + _BATCH]])
    ids = {(case_id, kind, subject, session_id): pk
           for pk, case_id, kind, subject, session_id in
           Signal.objects.filter(case_id__in={s.case_id for s in signals}, created_at=now)
           .values_list("pk", "case_id", "type", "subject", "session_id")}
    for signal in signals:
        signal.created_at = signal.updated_at = now
        signal.pk = ids.get((signal.case_id, signal.type, signal.subject, signal.session_id))
    _unseal(signals)


def _update(rows: list[tuple], now) -> None:
    """Write what the rules produce now into stored signals: (pk, found, data text) each."""
    connection = transaction.get_connection()
    parameters = Signal._meta.get_field("parameters")
    prepared_now = Signal._meta.get_field("updated_at").get_db_prep_save(now, connection)
    table = connection.ops.quote_name(Signal._meta.db_table)
    sql = (f"UPDATE {table} SET {', '.join(f'{c} = %s' for c in _sql_columns(_UPDATED))} "
           "WHERE id = %s")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _BATCH):
            values = []
            for pk, f, data_text in rows[start:start + _BATCH]:
                data, explanation = crypto.seal(data_text), crypto.seal(f.explanation)
                values.append((f.rule, parameters.get_db_prep_save(f.parameters, connection),
                               str(data), str(explanation), f.repair_state, f.client_returned,
                               True, crypto.fingerprint(data_text, f.explanation, data,
                                                        explanation),
                               prepared_now, pk))
            cursor.executemany(sql, values)


def _set(renew: list[tuple], no_longer: list[int], now) -> None:
    """Renew fingerprints (content unchanged); mark signals kept but no longer produced."""
    connection = transaction.get_connection()
    table = connection.ops.quote_name(Signal._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(renew), _BATCH):
            cursor.executemany(f"UPDATE {table} SET fingerprint = %s WHERE id = %s",
                               renew[start:start + _BATCH])
        if no_longer:
            prepared_now = Signal._meta.get_field("updated_at").get_db_prep_save(
                now, connection)
            for start in range(0, len(no_longer), _BATCH):
                cursor.executemany(
                    f"UPDATE {table} SET is_current = %s, updated_at = %s WHERE id = %s",
                    [(False, prepared_now, pk) for pk in no_longer[start:start + _BATCH]])


def _recompute(clinic: Clinic, case_ids: list[int], *, whole_clinic: bool) -> RecomputeResult:
    instruments = case_data.clinic_instruments(clinic)
    baseline = refresh_pooled_sd(clinic, get_baseline(clinic), instruments=instruments)
    plan = make_plan(clinic, baseline, instruments)
    expected = expected_model(baseline, instruments)

    def find(cases: list[tuple[int, str]]) -> list:
        locked = [pk for pk, _ in cases]
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
        active = ({pk for pk, status in cases if status == Case.Status.ACTIVE}
                  if settings.OPEN_GAP_SIGNALS else set())
        found = detect(data, plan, reference=reference, expected=expected,
                       as_of=timezone.localdate(), open_cases=active)
        # Goals and tasks: the clinic's thresholds, the case's goals, reviews and reports.
        found += [found_signal(x, data, plan)
                  for x in goal_detection.detect(data.frame, plan.settings, clinic)]
        return _wanted(found)

    def store(locked: list[int], wanted: dict) -> RecomputeResult:
        result = _apply(locked, wanted)
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
            cases = list(Case.objects.filter(pk__in=case_ids).order_by("pk")
                         .values_list("pk", "status"))
            found = find(cases)
        with transaction.atomic():
            return store([pk for pk, _ in cases], found)
    with transaction.atomic():
        # One recomputation of a case at a time (two workers, or a bulk import beside the
        # worker): the later one waits here and then reads what the first one wrote.
        cases = list(Case.objects.select_for_update(of=("self",))
                     .filter(pk__in=case_ids).order_by("pk").values_list("pk", "status"))
        return store([pk for pk, _ in cases], find(cases))


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

"""A clinic-wide recomputation (one run over every active case) stores the same signals as
recomputing each case on its own, keeps what therapists did, and reads what it needs in a
bounded number of queries."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from alliance.web import crypto
from alliance.web.care.models import Case
from alliance.web.checkins.models import Administration
from alliance.web.interop import history
from alliance.web.monitoring import recompute
from alliance.web.monitoring.models import Signal

FIELDS = ("case_id", "session_id", "type", "subject", "rule", "parameters", "data",
          "explanation", "state", "repair_state", "client_returned", "is_current")


def snapshot(clinic) -> dict:
    rows = Signal.objects.filter(case__client__clinic=clinic).exclude(type=Signal.Type.RISK)
    return {(s.case_id, s.type, s.subject, s.session_id): tuple(getattr(s, f) for f in FIELDS)
            for s in rows}


@pytest.fixture
def year(clinic, therapist, other_therapist, tmp_path):
    """A simulated year of 24 clients with the client, therapist and wellbeing forms, and
    open answers on some of the client's forms."""
    clinic.instruments_in_use = ["alliance-client", "wellbeing", "alliance-therapist"]
    clinic.save()
    path = tmp_path / "year.csv"
    history.write_simulated_year(path, [therapist.user.email, other_therapist.user.email],
                                 clients=24)
    history.import_history(path, clinic, recompute=False)
    forms = list(Administration.objects.filter(instrument_id="alliance-client")
                 .order_by("pk")[:40:7])
    for k, form in enumerate(forms):
        form.answers = {"more_helpful": f"Answer {k}"} if k % 2 else {}
        form.save()
    return clinic


def test_the_clinic_wide_run_stores_what_each_case_on_its_own_would(year, monkeypatch):
    # The clinic's many new signals go through the plain INSERT, each case's few through
    # bulk_create: the same rows either way.
    monkeypatch.setattr(recompute, "RAW_INSERT_FROM", 50)
    with CaptureQueriesContext(connection) as queries:
        result = recompute.refresh_clinic(year)[1]
    assert result.cases == Case.objects.filter(status=Case.Status.ACTIVE).count() > 10
    assert result.created > 100
    together = snapshot(year)
    kinds = {key[1] for key in together}
    assert {"rupture", "discrepancy", "client_feedback"} <= kinds
    # However many cases and signals: a bounded number of statements.
    assert len(queries) < 60

    Signal.objects.all().delete()
    for case in Case.objects.filter(status=Case.Status.ACTIVE):
        recompute.recompute_case_signals(case)
    assert snapshot(year) == together
    # Run again: nothing changes, nothing is written twice.
    again = recompute.recompute_clinic_signals(year)
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert snapshot(year) == together


def test_a_rule_change_keeps_what_therapists_did_and_gives_new_signals_ids(year, therapist,
                                                                          monkeypatch):
    monkeypatch.setattr(recompute, "RAW_INSERT_FROM", 1)
    recompute.refresh_clinic(year)
    ruptures = Signal.objects.filter(type=Signal.Type.RUPTURE, case__therapist=therapist)
    acknowledged = ruptures.first()
    acknowledged.state = Signal.State.ACKNOWLEDGED
    acknowledged.save()
    first_rule = year.rupture_rule
    year.rupture_rule = "rci"
    year.rci_sd, year.rci_reliability = 1000.0, 0.5  # a rule that finds no rupture here
    year.save()
    assert recompute.clinic_settings_saved(year)  # what the worker runs after the save
    acknowledged.refresh_from_db()
    assert acknowledged.state == Signal.State.ACKNOWLEDGED and not acknowledged.is_current
    open_ones = Signal.objects.filter(type=Signal.Type.RUPTURE, state=Signal.State.OPEN)
    assert not open_ones.filter(rule=first_rule).exists()
    # Back to the first rule: the acknowledged rupture is current again, the others new.
    year.rupture_rule = first_rule
    year.save()
    assert recompute.clinic_settings_saved(year)
    acknowledged.refresh_from_db()
    assert acknowledged.is_current and acknowledged.state == Signal.State.ACKNOWLEDGED
    assert all(pk is not None for pk in Signal.objects.values_list("pk", flat=True))
    assert Signal.objects.filter(type=Signal.Type.RUPTURE, rule=first_rule).count() > 1


def test_an_empty_clinic_recomputes_to_nothing(clinic):
    result = recompute.refresh_clinic(clinic)[1]
    assert result.to_dict() == {"cases": 0, "created": 0, "updated": 0, "unchanged": 0,
                                "removed": 0, "kept": 0}


def test_after_a_key_rotation_the_recomputation_reads_the_old_values(year):
    recompute.refresh_clinic(year)
    before = snapshot(year)
    new_key = Fernet.generate_key().decode()
    with override_settings(ENCRYPTION_KEYS=[new_key, *settings.ENCRYPTION_KEYS]):
        result = recompute.recompute_clinic_signals(year)
        assert (result.created, result.updated, result.removed) == (0, 0, 0)
        assert snapshot(year) == before
        feedback = Signal.objects.filter(type=Signal.Type.CLIENT_FEEDBACK).first()
        feedback.explanation = feedback.explanation + " (edited)"
        feedback.save()  # written with the new key
    with override_settings(ENCRYPTION_KEYS=[new_key]):
        assert Signal.objects.get(pk=feedback.pk).explanation.endswith("(edited)")
        with pytest.raises(crypto.EncryptionKeyError):
            list(Signal.objects.exclude(pk=feedback.pk).values_list("explanation"))


def test_a_value_no_key_decrypts_stops_the_recomputation_with_a_clear_error(year):
    recompute.refresh_clinic(year)
    with override_settings(ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        with pytest.raises(crypto.EncryptionKeyError, match="cannot be decrypted"):
            recompute.recompute_clinic_signals(year)
    assert Signal.objects.exists()  # nothing was lost


def test_a_rule_change_stores_the_same_rows_as_computing_from_scratch(year):
    recompute.refresh_clinic(year)
    before = snapshot(year)
    year.rupture_rule = "sd1" if year.rupture_rule != "sd1" else "sd2"
    year.save()
    assert recompute.clinic_settings_saved(year)  # what the worker runs after the save
    changed = snapshot(year)
    assert changed != before
    assert recompute.recompute_clinic_signals(year).to_dict() == {
        "cases": Case.objects.filter(status=Case.Status.ACTIVE).count(), "created": 0,
        "updated": 0, "unchanged": len(changed), "removed": 0, "kept": 0}
    Signal.objects.all().delete()
    recompute.recompute_clinic_signals(year)
    assert snapshot(year) == changed


def test_a_signal_rewritten_elsewhere_is_compared_in_full_not_by_its_fingerprint(year):
    recompute.refresh_clinic(year)
    before = snapshot(year)
    assert not Signal.objects.filter(fingerprint="").exists()
    rewritten = Signal.objects.filter(type=Signal.Type.RUPTURE).first()
    # Other code writes the encrypted values (new tokens): the fingerprint no longer matches.
    Signal.objects.filter(pk=rewritten.pk).update(explanation="Something else.")
    # Signals stored before fingerprints (or under another key): compared in full once.
    Signal.objects.exclude(pk=rewritten.pk).filter(type=Signal.Type.DISCREPANCY).update(
        fingerprint="")
    blank = Signal.objects.filter(fingerprint="").count()
    assert blank > 0
    result = recompute.recompute_clinic_signals(year)
    assert (result.created, result.updated, result.removed) == (0, 1, 0)
    assert result.unchanged == len(before) - 1
    assert snapshot(year) == before
    assert not Signal.objects.filter(fingerprint="").exists()
    again = recompute.recompute_clinic_signals(year)
    assert (again.updated, again.unchanged) == (0, len(before))


def test_a_fingerprint_depends_on_the_key_and_the_tokens():
    token = crypto.encrypt("the same words")
    first = crypto.fingerprint("the same words", token)
    assert first == crypto.fingerprint("the same words", token)
    assert first != crypto.fingerprint("other words", token)
    assert first != crypto.fingerprint("the same words", crypto.encrypt("the same words"))
    with override_settings(ENCRYPTION_KEYS=[Fernet.generate_key().decode()]):
        assert first != crypto.fingerprint("the same words", token)
    assert "same" not in first

"""Free text encrypted at rest: ciphertext in the database, text through the ORM, clear
errors with a wrong key, rotation, and the data migrations that encrypt what was plain."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from alliance.web import crypto
from alliance.web.checkins import services as checkins
from alliance.web.checkins.models import Administration
from alliance.web.goals import services as goals
from alliance.web.goals.models import Goal
from alliance.web.monitoring import actions, recompute
from alliance.web.monitoring.models import Signal
from alliance.web.portal import services as portal

SECRET = "I dread Mondays because of my manager"


def raw(table: str, column: str, pk: int):
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def keys():
    from django.conf import settings
    return list(settings.ENCRYPTION_KEYS)


def test_a_goal_is_ciphertext_in_the_database_and_text_through_the_orm(case, therapist):
    goal = goals.propose_goal(case, SECRET, by=therapist)
    stored = raw("goals_goal", "text", goal.pk)
    assert "Mondays" not in stored and stored.startswith("gAAAAA")
    assert Goal.objects.get(pk=goal.pk).text == SECRET
    # Fernet is randomised: the same text twice gives two different ciphertexts.
    again = goals.propose_goal(case, SECRET, by=therapist)
    assert raw("goals_goal", "text", again.pk) != stored


def test_open_answers_of_a_check_in_are_encrypted_at_rest(session, issued, client_answers):
    administration = checkins.submit_link(issued.token, client_answers,
                                          {"more_helpful": SECRET})
    stored = raw("checkins_administration", "answers", administration.pk)
    assert "Mondays" not in stored and "more_helpful" not in stored
    administration.refresh_from_db()
    assert administration.answers == {"more_helpful": SECRET}
    # Scores stay plain: the dashboards and the signal engine query them.
    assert "total" in str(raw("checkins_administration", "scores", administration.pk))


def test_the_feedback_signal_quoting_the_answer_is_encrypted_too(case, session, issued,
                                                                 client_answers):
    checkins.submit_link(issued.token, client_answers, {"more_helpful": SECRET})
    recompute.recompute_case_signals(case)
    signal = Signal.objects.get(case=case, type=Signal.Type.CLIENT_FEEDBACK)
    assert signal.data["text"] == SECRET
    assert "Mondays" not in raw("monitoring_signal", "data", signal.pk)
    actions.dismiss(signal, by=case.therapist, reason="We talked about the manager")
    assert "manager" not in raw("monitoring_signal", "dismiss_reason", signal.pk)
    signal.refresh_from_db()
    assert signal.dismiss_reason == "We talked about the manager"


def test_portal_feedback_is_encrypted_at_rest(clinic, case, therapist):
    clinic.client_portal_enabled = True
    clinic.save()
    account = portal.invite(case, by=therapist)
    feedback = portal.leave_feedback(account, case, SECRET)
    assert "Mondays" not in raw("portal_clientfeedback", "text", feedback.pk)
    feedback.refresh_from_db()
    assert feedback.text == SECRET


def test_empty_text_stays_empty_so_that_constraints_can_check_it(case, therapist):
    goal = goals.propose_goal(case, "Walk more", by=therapist)
    event = goal.events.get()
    assert raw("goals_goalevent", "old_text", event.pk) == ""
    assert goal.events.filter(old_text="").count() == 1


def test_searching_an_encrypted_field_is_an_error_not_an_empty_result(case, therapist):
    goals.propose_goal(case, SECRET, by=therapist)
    with pytest.raises(FieldError, match="encrypted at rest"):
        list(Goal.objects.filter(text__icontains="Mondays"))
    with pytest.raises(FieldError, match="encrypted at rest"):
        list(Goal.objects.filter(text=SECRET))


def test_a_wrong_key_is_a_clear_error(case, therapist):
    goal = goals.propose_goal(case, SECRET, by=therapist)
    with (override_settings(ENCRYPTION_KEYS=[Fernet.generate_key().decode()]),
          pytest.raises(crypto.EncryptionKeyError, match="cannot be decrypted.*old key")):
        Goal.objects.get(pk=goal.pk)


def test_no_key_at_all_is_a_clear_error(case, therapist):
    with (override_settings(ENCRYPTION_KEYS=[]),
          pytest.raises(crypto.EncryptionKeyError, match="ALLIANCE_ENCRYPTION_KEYS")):
        goals.propose_goal(case, SECRET, by=therapist)


def test_after_rotation_old_rows_read_and_new_rows_use_the_new_key(case, therapist):
    old_goal = goals.propose_goal(case, "Old wording", by=therapist)
    new_key = Fernet.generate_key().decode()
    with override_settings(ENCRYPTION_KEYS=[new_key, *keys()]):
        assert Goal.objects.get(pk=old_goal.pk).text == "Old wording"
        new_goal = goals.propose_goal(case, "New wording", by=therapist)
    with override_settings(ENCRYPTION_KEYS=[new_key]):
        assert Goal.objects.get(pk=new_goal.pk).text == "New wording"
        with pytest.raises(crypto.EncryptionKeyError):
            Goal.objects.get(pk=old_goal.pk)


def test_reencrypt_moves_every_value_to_the_first_key(case, therapist, session, issued,
                                                      client_answers):
    goal = goals.propose_goal(case, "Old wording", by=therapist)
    checkins.submit_link(issued.token, client_answers, {"more_helpful": SECRET})
    new_key = Fernet.generate_key().decode()
    with override_settings(ENCRYPTION_KEYS=[new_key, *keys()]):
        call_command("reencrypt", verbosity=0)
    with override_settings(ENCRYPTION_KEYS=[new_key]):
        assert Goal.objects.get(pk=goal.pk).text == "Old wording"
        assert session.administrations.get(instrument_id="alliance-client").answers == {
            "more_helpful": SECRET}


# -- The data migrations ----------------------------------------------------------------------

def encrypted_columns():
    """(table, column) of every encrypted field in the project's models."""
    return {(model._meta.db_table, field.column)
            for model in apps.get_models() for field in model._meta.local_fields
            if isinstance(field, crypto.EncryptedTextField | crypto.EncryptedJSONField)}


MIGRATIONS = ["alliance.web.checkins.migrations.0002_encrypt_answers",
              "alliance.web.goals.migrations.0002_encrypt_texts",
              "alliance.web.monitoring.migrations.0004_encrypt_texts",
              "alliance.web.portal.migrations.0002_encrypt_feedback"]


#: Columns added as encrypted fields from the start: no row ever held plain text, so no
#: migration has anything to convert.
BORN_ENCRYPTED = {("care_client", "phone"), ("care_client", "name"),
                  ("outreach_clinicmessaging", "sms_webhook_secret"),
                  ("safety_riskalert", "response_note"),
                  ("intake_intake", "hopes"), ("intake_intake", "past_therapy_text"),
                  ("intake_intake", "culture")}


def test_every_encrypted_field_has_a_migration_that_encrypts_existing_rows():
    converted = set()
    for name in MIGRATIONS:
        forward, _ = importlib.import_module(name).ENCRYPT
        converted |= {(table, column) for table, columns in forward.table_columns.items()
                      for column in columns}
    assert encrypted_columns() == converted | BORN_ENCRYPTED
    assert ("goals_goal", "text") in converted and len(converted) == 11
    assert not converted & BORN_ENCRYPTED


def test_the_data_migration_encrypts_plain_rows_once_and_decrypts_them_on_the_way_back(
        case, therapist):
    goal = goals.propose_goal(case, "Placeholder", by=therapist)
    with connection.cursor() as cursor:  # a row as it was before the migration
        cursor.execute("UPDATE goals_goal SET text = %s WHERE id = %s", [SECRET, goal.pk])
    forward, backward = importlib.import_module(MIGRATIONS[1]).ENCRYPT
    editor = SimpleNamespace(connection=connection)

    forward(apps, editor)
    stored = raw("goals_goal", "text", goal.pk)
    assert "Mondays" not in stored
    assert Goal.objects.get(pk=goal.pk).text == SECRET
    forward(apps, editor)  # running it again leaves encrypted values alone
    assert raw("goals_goal", "text", goal.pk) == stored

    backward(apps, editor)
    assert raw("goals_goal", "text", goal.pk) == SECRET


# -- Settings ---------------------------------------------------------------------------------

def run_settings(tmp_path, code, **env):
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("ALLIANCE_", "DJANGO_", "DATABASE_URL"))}
    base.update({"DJANGO_SETTINGS_MODULE": "alliance.web.settings",
                 "ALLIANCE_DATA_DIR": str(tmp_path), "ALLIANCE_SECRET_KEY": "k7Pw" * 15,
                 "ALLIANCE_ALLOWED_HOSTS": "alliance.example"}, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=base, timeout=120, check=False)


CHECK = ("from django.core.management import execute_from_command_line as run; "
         "run(['manage', 'check'])")


def test_production_refuses_to_start_without_an_encryption_key(tmp_path):
    result = run_settings(tmp_path, CHECK)
    assert result.returncode != 0
    assert "alliance.E001" in result.stderr and "No encryption key" in result.stderr
    assert "Fernet.generate_key()" in result.stderr


def test_a_key_file_outside_the_database_is_read(tmp_path):
    key_file = tmp_path / "alliance.key"
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    result = run_settings(tmp_path, CHECK, ALLIANCE_ENCRYPTION_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr


def test_a_malformed_key_is_named_without_echoing_it(tmp_path):
    good = Fernet.generate_key().decode()
    result = run_settings(tmp_path, CHECK,
                          ALLIANCE_ENCRYPTION_KEYS=f"{good},not-a-key-at-all")
    assert result.returncode != 0
    assert "ALLIANCE_ENCRYPTION_KEYS: key 2 is not a Fernet key" in result.stderr
    assert "not-a-key-at-all" not in result.stderr


def test_a_missing_key_file_is_a_clear_error(tmp_path):
    result = run_settings(tmp_path, CHECK,
                          ALLIANCE_ENCRYPTION_KEY_FILE=str(tmp_path / "missing.key"))
    assert result.returncode != 0
    assert "ALLIANCE_ENCRYPTION_KEY_FILE" in result.stderr and "cannot read it" in result.stderr


def test_the_demo_keeps_its_encryption_key_in_a_file_beside_the_database(tmp_path):
    from alliance.cli.demo import demo_environment

    environment = demo_environment(tmp_path, "127.0.0.1", 8000)
    key_file = tmp_path / "demo-encryption-key"
    assert environment["ALLIANCE_ENCRYPTION_KEY_FILE"] == str(key_file)
    assert key_file.stat().st_mode & 0o077 == 0
    Fernet(key_file.read_text().strip())  # a valid key
    # Kept: a second start reads the same key (else the demo's text could not be read).
    before = key_file.read_text()
    demo_environment(tmp_path, "127.0.0.1", 8000)
    assert key_file.read_text() == before


@pytest.mark.django_db(transaction=True)
def test_migrating_a_database_with_plain_answers_encrypts_them(session):
    """The real migration, both ways, on rows written before it (JSON column → ciphertext)."""
    from django.db.migrations.executor import MigrationExecutor

    administration = Administration.objects.create(
        session=session, instrument_id="alliance-client", instrument_version="1",
        respondent="client", via="link")
    executor = MigrationExecutor(connection)
    executor.migrate([("checkins", "0001_initial")])
    try:
        with connection.cursor() as cursor:  # as the JSON field stored it
            cursor.execute("UPDATE checkins_administration SET answers = %s WHERE id = %s",
                           [json.dumps({"more_helpful": SECRET}), administration.pk])
        executor = MigrationExecutor(connection)
        executor.migrate([("checkins", "0002_encrypt_answers")])
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert "Mondays" not in raw("checkins_administration", "answers", administration.pk)
    administration.refresh_from_db()
    assert administration.answers == {"more_helpful": SECRET}


def test_alliance_serve_refuses_to_start_without_an_encryption_key(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", "from alliance.cli.main import cli; cli()", "serve",
         "--port", "9", "--workers", "1"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**{k: v for k, v in os.environ.items()
                if not k.startswith(("ALLIANCE_", "DJANGO_", "DATABASE_URL"))},
             "ALLIANCE_DATA_DIR": str(tmp_path), "ALLIANCE_SECRET_KEY": "k7Pw" * 15,
             "ALLIANCE_HTTPS": "false", "ALLIANCE_ALLOWED_HOSTS": "127.0.0.1"})
    assert result.returncode == 1
    assert "alliance.E001" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "var" / "alliance.sqlite3").exists()  # stopped before migrating

"""Settings from the environment, production checks, and the Content Security Policy."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

import alliance.web
from alliance.web.env import env_bool, env_choice, env_int, env_list, env_str

WEB = Path(alliance.web.__file__).parent


@pytest.mark.parametrize("text, value", [("1", True), ("TRUE", True), ("yes", True), ("on", True),
                                         ("0", False), ("false", False), ("No", False),
                                         ("off", False), ("", True), (None, True)])
def test_yes_no_variables_accept_the_usual_words(text, value):
    environ = {} if text is None else {"X": text}
    assert env_bool("X", True, environ=environ) is value


@pytest.mark.parametrize("text", ["ture", "2", "y e s", "enabled"])
def test_a_malformed_yes_no_variable_stops_start_up_naming_it(text):
    with pytest.raises(ImproperlyConfigured, match=r"ALLIANCE_DEBUG=.* is not a yes/no value"):
        env_bool("ALLIANCE_DEBUG", False, environ={"ALLIANCE_DEBUG": text})


def test_number_variables_are_checked_for_form_and_range():
    assert env_int("N", 3, environ={"N": " 42 "}) == 42
    with pytest.raises(ImproperlyConfigured, match="N='4x' is not a whole number"):
        env_int("N", 3, environ={"N": "4x"})
    with pytest.raises(ImproperlyConfigured, match="below the minimum of 1"):
        env_int("N", 3, minimum=1, environ={"N": "0"})
    with pytest.raises(ImproperlyConfigured, match="above the maximum of 9"):
        env_int("N", 3, maximum=9, environ={"N": "10"})


def test_lists_choices_and_text():
    assert env_list("H", ["a"], environ={"H": "x.example, y.example,"}) == ["x.example",
                                                                          "y.example"]
    assert env_list("H", ["a"], environ={}) == ["a"]
    assert env_choice("L", "INFO", ["INFO", "DEBUG"], environ={"L": "debug"}) == "DEBUG"
    with pytest.raises(ImproperlyConfigured, match="not one of"):
        env_choice("L", "INFO", ["INFO", "DEBUG"], environ={"L": "loud"})
    assert env_str("S", "d", environ={"S": "  "}) == "d"


def run_settings(tmp_path, code, **env):
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("ALLIANCE_", "DJANGO_", "DATABASE_URL"))}
    base.update({"DJANGO_SETTINGS_MODULE": "alliance.web.settings",
                 "ALLIANCE_DATA_DIR": str(tmp_path)}, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=base, timeout=120)


def test_production_settings_pass_check_deploy(tmp_path):
    result = run_settings(
        tmp_path,
        "import sys; from django.core.management import execute_from_command_line as run; "
        "run(['manage', 'check', '--deploy', '--fail-level', 'WARNING'])",
        ALLIANCE_SECRET_KEY="x7Hq2" * 12, ALLIANCE_ALLOWED_HOSTS="alliance.example",
        ALLIANCE_ENCRYPTION_KEYS="dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY=")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    result = run_settings(tmp_path, "from django.conf import settings; settings.DEBUG")
    assert result.returncode != 0
    assert "ALLIANCE_SECRET_KEY is not set" in result.stderr


def test_a_malformed_database_url_is_a_clear_error(tmp_path):
    result = run_settings(tmp_path, "from django.conf import settings; settings.DEBUG",
                          ALLIANCE_SECRET_KEY="k" * 60, DATABASE_URL="nosuchdb://x")
    assert result.returncode != 0
    assert "DATABASE_URL is not a valid database address" in result.stderr


def test_the_default_database_is_sqlite_in_wal_mode_under_the_data_dir(tmp_path):
    result = run_settings(
        tmp_path,
        "from django.conf import settings as s; d = s.DATABASES['default']; "
        "print(d['NAME']); print(d['OPTIONS']['transaction_mode']); "
        "print(d['OPTIONS']['init_command'])",
        ALLIANCE_DEBUG="true")
    name, mode, init = result.stdout.split("\n")[:3]
    assert name == str(tmp_path / "var" / "alliance.sqlite3")
    assert mode == "IMMEDIATE"
    assert "journal_mode=WAL" in init


def test_a_server_process_keeps_its_sqlite_connection_from_one_request_to_the_next(tmp_path):
    # close_old_connections is what Django runs when a request starts and when it ends.
    result = run_settings(
        tmp_path,
        "import django; django.setup(); from django.db import connection, "
        "close_old_connections; connection.ensure_connection(); first = connection.connection; "
        "close_old_connections(); print(connection.connection is first)",
        ALLIANCE_DEBUG="true")
    assert result.stdout.strip() == "True", result.stderr


def test_the_wsgi_application_loads_every_view_and_freezes_it_out_of_the_collector(tmp_path):
    # Frozen objects are no longer among those the collector tracks (gc.get_objects).
    result = run_settings(
        tmp_path,
        "import gc, sys; import alliance.web.wsgi; "
        "from alliance.web.care.views import caseload; "
        "print(any(o is caseload for o in gc.get_objects()), gc.get_freeze_count())",
        ALLIANCE_DEBUG="true")
    tracked, frozen = result.stdout.split()
    assert tracked == "False", result.stderr  # loaded before the freeze, so frozen with it
    assert int(frozen) > 100_000  # Django, pandas and matplotlib: objects never collected


@pytest.mark.django_db
def test_the_test_database_runs_with_the_configured_options():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
        else:
            assert connection.vendor == "postgresql"
            assert os.environ["DATABASE_URL"].startswith("postgres")


def test_every_response_carries_a_strict_content_security_policy(client, db):
    policy = client.get("/login/")["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_no_template_has_inline_script_style_or_event_handlers():
    # The policy forbids inline code; a template with some would break in the browser.
    offenders = []
    for path in WEB.rglob("templates/**/*.html"):
        # Template comments are not sent to the browser (one may well mention "<style>").
        text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", "",
                      path.read_text(), flags=re.DOTALL)
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or "<style" in text \
                or re.search(r"\sstyle=", text) or re.search(r"\son[a-z]+=", text):
            offenders.append(str(path.relative_to(WEB)))
    assert not offenders


def test_no_template_loads_anything_from_another_site():
    offenders = [str(p.relative_to(WEB)) for p in WEB.rglob("templates/**/*.html")
                 if re.search(r"(src|href)=\"(https?:)?//", p.read_text())]
    assert not offenders


def test_a_failed_csrf_check_gets_a_kind_page(db, issued):
    from django.test import Client
    response = Client(enforce_csrf_checks=True).post(issued.path, {"bond1": "5"})
    assert response.status_code == 403
    assert "Please try again" in response.content.decode()

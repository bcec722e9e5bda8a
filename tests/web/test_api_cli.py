"""`alliance api-token create/list/revoke` against the test database."""

from __future__ import annotations

from api_helpers import bearer
from click.testing import CliRunner

from alliance.cli.main import cli
from alliance.web.api.models import ApiToken
from alliance.web.audit.models import Event


def run(*args):
    return CliRunner().invoke(cli, ["api-token", *args])


def test_a_token_created_on_the_command_line_works_once_printed_and_is_audited(
        therapist, case, client):
    result = run("create", "--as", "Therapist@Riverside.example", "--name", "Reports",
                 "--scope", "read", "--expires", "2099-12-31")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    stored = ApiToken.objects.get()
    assert stored.staff == therapist and stored.scope == "read"
    assert f"{stored.expires_at:%Y-%m-%d %H:%M}" == "2100-01-01 00:00"
    assert client.get("/api/cases/", **bearer(token)).json()["count"] == 1
    event = Event.objects.get(action="token_created")
    assert event.actor_name.startswith("alliance api-token")


def test_the_list_shows_tokens_without_their_value_and_revoke_stops_one(therapist, client):
    token = run("create", "--as", therapist.user.email, "--name", "Sync").stdout.split()[-1]
    listing = run("list")
    assert listing.exit_code == 0
    assert "Sync" in listing.output and "live" in listing.output and token not in listing.output
    pk = ApiToken.objects.get().pk
    revoked = run("revoke", str(pk))
    assert revoked.exit_code == 0 and "Revoked" in revoked.output
    assert client.get("/api/cases/", **bearer(token)).status_code == 401
    assert "revoked" in run("list").output
    again = run("revoke", str(pk))
    assert again.exit_code == 1 and "already revoked" in again.output


def test_bad_input_is_a_clean_error(admin, therapist):
    assert run("create", "--as", "nobody@example.org", "--name", "x").exit_code == 2
    as_admin = run("create", "--as", admin.user.email, "--name", "x")
    assert as_admin.exit_code == 1 and "therapist or a supervisor" in as_admin.output
    missing = run("revoke", "99")
    assert missing.exit_code == 1 and "no API token 99" in missing.output
    assert "Traceback" not in as_admin.output + missing.output
    assert not ApiToken.objects.exists()

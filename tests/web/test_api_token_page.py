"""The API tokens page: a therapist or supervisor creates tokens acting as themselves (shown
once); the administrator lists and revokes the clinic's tokens but creates none."""

from __future__ import annotations

import re

import pytest

from api_helpers import bearer

from alliance.web.api.models import ApiToken, hash_token
from alliance.web.audit.models import Event


def test_a_therapist_creates_a_token_acting_as_themselves_and_sees_it_only_once(
        login, therapist, case):
    client = login(therapist)
    page = client.get("/clinic/api-tokens/")
    assert page.status_code == 200 and "No tokens yet" in page.content.decode()
    created = client.post("/clinic/api-tokens/", {"name": "Reports", "scope": "write",
                                                  "expires": "2099-01-31"})
    assert created.status_code == 200
    token = re.search(r'value="(alliance_[^"]+)"', created.content.decode()).group(1)
    stored = ApiToken.objects.get()
    assert stored.token_hash == hash_token(token)
    assert stored.staff == therapist and stored.created_by == therapist
    assert stored.scope == "write" and f"{stored.expires_at:%Y-%m-%d}" == "2099-02-01"
    listing = client.get("/clinic/api-tokens/").content.decode()
    assert "Reports" in listing and stored.hint in listing and token not in listing
    assert Event.objects.filter(action="token_created",
                                actor_name=therapist.user.username).exists()
    client.logout()
    assert client.get("/api/cases/", **bearer(token)).json()["count"] == 1
    used = Event.objects.filter(action="token_used").latest("id")
    assert used.actor_name == therapist.user.username
    assert f"token {stored.pk} created by {therapist.user.username}" in used.detail


def test_an_administrator_cannot_create_a_token_and_so_reads_no_case_record(
        login, admin, therapist, case):
    from alliance.web.api import tokens

    client = login(admin)
    page = client.get("/clinic/api-tokens/").content.decode()
    assert "Create token" not in page and "<option" not in page
    refused = client.post("/clinic/api-tokens/", {"name": "x", "scope": "write",
                                                  "staff": therapist.pk})
    assert refused.status_code == 403 and not ApiToken.objects.exists()
    with pytest.raises(tokens.TokenError, match="acts as the person who creates it"):
        tokens.create_token(admin.clinic, therapist, name="x", scope="read", by=admin)
    assert not ApiToken.objects.exists()


def test_a_token_made_earlier_by_an_administrator_for_someone_else_does_not_work(
        admin, therapist, case, client):
    from alliance.web.api import tokens

    # As the administrator's page used to allow: made by the admin, acting as the therapist.
    issued = tokens.create_token(therapist.clinic, therapist, name="Old", scope="write")
    ApiToken.objects.filter(pk=issued.api_token.pk).update(created_by=admin)
    response = client.get("/api/administrations/?page_size=200", **bearer(issued.token))
    assert response.status_code == 401
    assert "not created by" in response.content.decode()
    failed = Event.objects.filter(action="token_invalid").latest("id")
    assert "created by someone other" in failed.detail


def test_the_command_line_still_creates_a_token_for_a_therapist(therapist, case, client):
    from alliance.web.api import tokens

    issued = tokens.create_token(therapist.clinic, therapist, name="Set-up", scope="read")
    assert client.get("/api/cases/", **bearer(issued.token)).status_code == 200
    used = Event.objects.filter(action="token_used").latest("id")
    assert "created by the command line" in used.detail


def test_a_therapist_sees_and_revokes_only_their_own_tokens(login, therapist,
                                                           other_therapist):
    from api_helpers import make_token

    make_token(other_therapist)
    client = login(therapist)
    page = client.get("/clinic/api-tokens/").content.decode()
    assert "No tokens yet" in page
    theirs = ApiToken.objects.get()
    assert client.post(f"/clinic/api-tokens/{theirs.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_the_admin_revokes_a_token_and_it_stops_working(login, admin, therapist, case):
    from api_helpers import make_token

    token = make_token(therapist)
    client = login(admin)
    response = client.post(f"/clinic/api-tokens/{ApiToken.objects.get().pk}/revoke/",
                           follow=True)
    assert "no longer works" in response.content.decode()
    assert ApiToken.objects.get().revoked_by == admin
    client.logout()
    assert client.get("/api/cases/", **bearer(token)).status_code == 401

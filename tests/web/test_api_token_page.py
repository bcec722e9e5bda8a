"""The clinic administrator's API token page: create (shown once), list, revoke."""

from __future__ import annotations

import re

from api_helpers import bearer

from alliance.web.api.models import ApiToken, hash_token
from alliance.web.audit.models import Event


def test_the_admin_creates_a_token_and_sees_it_only_once(login, admin, therapist, case):
    client = login(admin)
    page = client.get("/clinic/api-tokens/")
    assert page.status_code == 200 and "No tokens yet" in page.content.decode()
    created = client.post("/clinic/api-tokens/", {"name": "Reports", "staff": therapist.pk,
                                                  "scope": "write", "expires": "2099-01-31"})
    assert created.status_code == 200
    token = re.search(r'value="(alliance_[^"]+)"', created.content.decode()).group(1)
    stored = ApiToken.objects.get()
    assert stored.token_hash == hash_token(token) and stored.created_by == admin
    assert stored.scope == "write" and f"{stored.expires_at:%Y-%m-%d}" == "2099-02-01"
    listing = client.get("/clinic/api-tokens/").content.decode()
    assert "Reports" in listing and stored.hint in listing and token not in listing
    assert Event.objects.filter(action="token_created", actor_name=admin.user.username).exists()
    client.logout()
    assert client.get("/api/cases/", **bearer(token)).json()["count"] == 1


def test_only_the_clinics_own_therapists_and_supervisors_can_be_chosen(
        login, admin, therapist, supervisor, other_clinic_therapist):
    client = login(admin)
    page = client.get("/clinic/api-tokens/").content.decode()
    options = set(re.findall(r'<option value="(\d+)"', page))
    assert options == {str(therapist.pk), str(supervisor.pk)}
    refused = client.post("/clinic/api-tokens/", {"name": "x", "scope": "read",
                                                  "staff": other_clinic_therapist.pk})
    assert refused.status_code == 400 and not ApiToken.objects.exists()
    unnamed = client.post("/clinic/api-tokens/", {"name": "", "scope": "read",
                                                  "staff": therapist.pk})
    assert unnamed.status_code == 400 and not ApiToken.objects.exists()


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

"""The client's data page: the treating therapist downloads the export and erases with the
client's code; both are audited; others are refused."""

from __future__ import annotations

import json

from django.urls import reverse

from alliance.web.audit.models import Event
from alliance.web.care import services as care
from alliance.web.care.models import Client
from alliance.web.goals import services as goals


def test_the_case_page_links_to_the_clients_data(login, therapist, case):
    page = login(therapist).get(reverse("care:case", args=[case.pk])).content.decode()
    assert reverse("privacy:client", args=[case.client_id]) in page


def test_the_therapist_downloads_the_export_and_it_is_audited(login, therapist, case):
    goals.propose_goal(case, "Cook a meal on Sundays", by=therapist)
    response = login(therapist).get(reverse("privacy:export", args=[case.client_id]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"].startswith("attachment;")
    document = json.loads(response.content)
    assert document["format"] == "alliance-client-export"
    assert document["cases"][0]["goals"][0]["text"] == "Cook a meal on Sundays"
    event = Event.objects.filter(action="export").order_by("-id").first()
    assert (event.target_type, event.target_id) == ("care.client", str(case.client_id))
    assert event.actor_id == therapist.user_id and event.outcome == "success"


def test_a_supervisor_may_not_export_a_supervisees_client_and_the_refusal_is_audited(
        login, supervisor, case):
    response = login(supervisor).get(reverse("privacy:export", args=[case.client_id]))
    assert response.status_code == 403
    assert Event.objects.filter(action="export", outcome="denied",
                                target_id=str(case.client_id)).exists()


def test_an_administrator_sees_no_client_records(login, admin, case):
    response = login(admin).get(reverse("privacy:export", args=[case.client_id]))
    assert response.status_code == 404


def test_a_client_with_a_second_therapist_cannot_be_exported_by_one_of_them(
        login, therapist, other_therapist, case):
    care.end_case(case, status="closed")
    care.open_case(case.client, other_therapist, modality="cbt")
    response = login(therapist).get(reverse("privacy:export", args=[case.client_id]))
    assert response.status_code == 403
    assert "another therapist" in response.content.decode()


def test_a_wrong_code_erases_nothing(login, therapist, case):
    response = login(therapist).post(reverse("privacy:erase", args=[case.client_id]),
                                     {"code": "C-AAAA2"})
    assert response.status_code == 200
    assert "Type the client&#x27;s code exactly" in response.content.decode()
    client = Client.objects.get(pk=case.client_id)
    assert client.code == "C-AAAA1" and client.erased_at is None
    assert not Event.objects.filter(action="erase").exists()


def test_the_therapist_erases_with_the_clients_code_and_it_is_audited(login, therapist, case):
    browser = login(therapist)
    page = browser.get(reverse("privacy:erase", args=[case.client_id])).content.decode()
    assert "cannot be undone" in page
    response = browser.post(reverse("privacy:erase", args=[case.client_id]), {"code": "C-AAAA1"})
    assert response.status_code == 302
    client = Client.objects.get(pk=case.client_id)
    assert client.erased_at is not None and client.code.startswith("erased-")
    assert client.contact_email == ""
    event = Event.objects.get(action="erase")
    assert (event.target_type, event.target_id) == ("care.client", str(client.pk))
    assert "C-AAAA1" not in event.detail
    page = browser.get(response["Location"]).content.decode()
    assert client.code in page and "were erased" in page

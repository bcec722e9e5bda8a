"""A client's name (optional, encrypted at rest, shown only in scope), the caseload's search
and filters, the ended cases and reopening a case.

The code stays the client's identity in every export: the research export and the FHIR
Bundle never carry the name.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse

from alliance.web.audit.models import Event
from alliance.web.care import services
from alliance.web.care.models import Case, Client
from alliance.web.monitoring.models import Signal

NAME = "Samira Okonkwo-Reyes"


def named(case, name=NAME):
    services.rename_client(case.client, name)
    return case


def stored_name(client) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM care_client WHERE id = %s", [client.pk])
        return cursor.fetchone()[0]


def test_the_name_is_encrypted_at_rest_and_read_back(case):
    named(case)
    client = Client.objects.get(pk=case.client.pk)
    assert client.name == NAME and client.label == f"{NAME} ({client.code})"
    raw = stored_name(client)
    assert raw and NAME not in raw and "Okonkwo" not in raw


def test_a_new_client_can_be_admitted_with_a_name(login, therapist):
    response = login(therapist).post(reverse("care:client_new"), {
        "name": "  Sam   Rivera ", "code": "C-NAME1", "modality": "cbt",
        "start_date": "2026-01-05"})
    assert response.status_code == 302
    assert Client.objects.get(code="C-NAME1").name == "Sam   Rivera"


def test_the_therapist_names_and_renames_the_client_and_it_is_audited(login, therapist, case):
    browser = login(therapist)
    response = browser.post(reverse("care:client_name", args=[case.pk]), {"name": NAME})
    assert response.status_code == 302
    case.client.refresh_from_db()
    assert case.client.name == NAME
    event = Event.objects.get(action="update", detail="client's name changed")
    assert NAME not in event.detail
    page = browser.get(reverse("care:case", args=[case.pk])).content.decode()
    assert NAME in page
    browser.post(reverse("care:client_name", args=[case.pk]), {"name": ""})
    case.client.refresh_from_db()
    assert case.client.name == ""


def test_the_name_is_shown_in_scope_and_nowhere_else(login, supervisor, other_therapist, case):
    named(case)
    assert NAME in login(supervisor).get(reverse("care:case", args=[case.pk])).content.decode()
    other = login(other_therapist)
    assert other.get(reverse("care:case", args=[case.pk])).status_code == 404
    assert NAME not in other.get(reverse("care:caseload")).content.decode()
    # A supervisor reads the case but does not rename the client.
    assert login(supervisor).post(reverse("care:client_name", args=[case.pk]),
                                  {"name": "Someone else"}).status_code == 403


def test_the_research_export_and_the_fhir_bundle_leave_the_name_out(login, therapist, case,
                                                                      session, issued,
                                                                      client_answers):
    from alliance.web.checkins import services as checkins
    from alliance.web.interop import research

    named(case)
    checkins.submit_link(issued.token, client_answers, {"more_helpful": ""})
    fhir = login(therapist).get(reverse("interop:case_fhir", args=[case.pk]))
    assert fhir.status_code == 200
    assert case.client.code in fhir.content.decode()
    assert "Okonkwo" not in fhir.content.decode()
    export = research.build_export(therapist.clinic, include_text=True)
    files = research.export_files(export, "csv")
    assert files and any(b"alliance" in content for content in files.values())
    assert not any(b"Okonkwo" in content for content in files.values())


def test_the_caseload_finds_a_client_by_name_or_code_and_filters(login, therapist, case):
    named(case)
    other = services.admit_client(therapist, code="C-ZZZ99", modality="psychodynamic",
                                  start_date=dt.date(2026, 1, 5))
    browser = login(therapist)

    def shown(**query):
        return [r.case.pk for r in browser.get(reverse("care:caseload"), query).context["rows"]]

    assert set(shown()) == {case.pk, other.pk}
    assert shown(q="okonkwo") == [case.pk]
    assert shown(q="zzz9") == [other.pk]
    assert shown(q="nobody") == []
    assert shown(modality="psychodynamic") == [other.pk]
    assert shown(attention="on") == []
    Signal.objects.create(case=case, type=Signal.Type.DISENGAGEMENT, rule="t",
                          explanation="Two missed sessions in a row.")
    assert shown(attention="on") == [case.pk]
    assert shown(signal="disengagement") == [case.pk]
    assert shown(signal="rupture") == []
    page = browser.get(reverse("care:caseload"), {"q": "nobody"}).content.decode()
    assert "No case matches" in page


def test_a_supervisor_filters_by_therapist(login, supervisor, therapist, case):
    own = services.admit_client(supervisor, code="C-SUP01", modality="cbt",
                                start_date=dt.date(2026, 1, 5))
    browser = login(supervisor)
    rows = browser.get(reverse("care:caseload"), {"therapist": str(therapist.pk)}).context["rows"]
    assert [r.case.pk for r in rows] == [case.pk]
    rows = browser.get(reverse("care:caseload"), {"therapist": str(supervisor.pk)}).context["rows"]
    assert [r.case.pk for r in rows] == [own.pk]


def test_ended_cases_are_listed_and_a_case_can_be_reopened(login, therapist, case):
    named(case)
    services.end_case(case, status=Case.Status.CLOSED, end_date=dt.date(2026, 3, 1))
    browser = login(therapist)
    assert case.pk not in [r.case.pk for r in
                           browser.get(reverse("care:caseload")).context["rows"]]
    ended = browser.get(reverse("care:ended"))
    assert [c.pk for c in ended.context["cases"]] == [case.pk]
    assert NAME in ended.content.decode()
    assert [c.pk for c in browser.get(reverse("care:ended"), {"q": "okon"}).context["cases"]] \
        == [case.pk]
    assert browser.get(reverse("care:ended"), {"q": "nobody"}).context["cases"] == []
    page = browser.get(reverse("care:case", args=[case.pk])).content.decode()
    assert "Reopen this case" in page

    response = browser.post(reverse("care:case_reopen", args=[case.pk]))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.is_active and case.end_date is None
    assert Event.objects.filter(action="update", detail="case reopened",
                                target_id=str(case.pk)).exists()
    # Reopening an active case changes nothing.
    browser.post(reverse("care:case_reopen", args=[case.pk]))
    assert Event.objects.filter(detail="case reopened").count() == 1


def test_a_client_with_another_active_case_keeps_the_ended_one_ended(therapist, case):
    services.end_case(case, status=Case.Status.CLOSED, end_date=dt.date(2026, 3, 1))
    services.open_case(case.client, therapist, modality="cbt", start_date=dt.date(2026, 3, 2))
    with pytest.raises(services.CareError, match="another active case"):
        services.reopen_case(case)


def test_erasing_the_client_removes_the_name(case, therapist):
    from alliance.web.privacy import services as privacy

    named(case)
    assert privacy.export_client(case.client)["client"]["name"] == NAME
    privacy.erase_client(case.client, confirm_code=case.client.code)
    client = Client.objects.get(pk=case.client.pk)
    assert client.name == "" and stored_name(client) == ""

"""A case's history as a FHIR R4 Bundle, downloaded from the web app and audited."""

from __future__ import annotations

import json

from fhir.resources.R4B.bundle import Bundle

from alliance.core import fhir
from alliance.core.instruments import load_bundled
from alliance.core.scoring import score_administration
from alliance.web.audit.models import Event
from alliance.web.care import services as care
from alliance.web.checkins import services as checkins
from alliance.web.checkins.models import Administration


def answer(session, therapist, client_answers):
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    checkins.submit_link(issued.token, client_answers, {"more_helpful": "A bit slower."})


def test_the_therapist_downloads_the_case_as_a_valid_bundle_with_its_answers(
        case, session, therapist, client_answers, login):
    answer(session, therapist, client_answers)
    care.record_session(case, date=session.date.replace(day=12), status="no_show")

    response = login(therapist).get(f"/cases/{case.pk}/fhir.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Cache-Control"] == "private, no-store"
    bundle = json.loads(response.content)
    Bundle.model_validate(bundle)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["Patient", "EpisodeOfCare", "Encounter", "Encounter", "Questionnaire",
                     "QuestionnaireResponse"]
    patient = bundle["entry"][0]["resource"]
    assert patient["identifier"][0]["value"] == "C-AAAA1"
    assert "telecom" not in patient and "client@example.org" not in response.content.decode()
    assert bundle["entry"][3]["resource"]["status"] == "cancelled"
    # The response reads back to the same answers, which score as stored.
    response_resource = bundle["entry"][5]["resource"]
    assert response_resource["subject"]["reference"] == bundle["entry"][0]["fullUrl"]
    responses, text = fhir.responses_from_questionnaire_response(
        response_resource, instrument=load_bundled("alliance-client"))
    stored = Administration.objects.get(session=session, instrument_id="alliance-client")
    assert text == {"more_helpful": "A bit slower."}
    assert score_administration(load_bundled("alliance-client"), responses).total == \
        stored.scores["total"]
    event = Event.objects.get(action="export")
    assert event.target_id == str(case.pk) and "FHIR" in event.detail


def test_a_searchset_bundle_counts_the_responses(case, session, therapist, client_answers,
                                                 login):
    answer(session, therapist, client_answers)
    bundle = json.loads(login(therapist).get(f"/cases/{case.pk}/fhir.json?type=searchset")
                        .content)
    assert bundle["type"] == "searchset" and bundle["total"] == 1


def test_another_therapist_cannot_download_the_case(case, other_therapist, login):
    assert login(other_therapist).get(f"/cases/{case.pk}/fhir.json").status_code == 404
    assert not Event.objects.filter(action="export").exists()


def test_the_case_page_links_to_the_bundle(case, therapist, login):
    page = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/cases/{case.pk}/fhir.json"' in page

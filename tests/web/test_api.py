"""The REST API: tokens, scoping, forms, signals, goals and tasks, pagination, filters, errors.

Users are named by role (tests/web/conftest.py); each request carries a token acting as one.
"""

from __future__ import annotations

import datetime as dt

import pytest
from api_helpers import CLIENT_ANSWERS, api, bearer, make_token  # noqa: F401 (api: a fixture)
from django.utils import timezone

from alliance.web import instruments
from alliance.web.api import tokens
from alliance.web.api.models import ApiToken, hash_token
from alliance.web.audit.models import Event
from alliance.web.care import services as care
from alliance.web.checkins.models import Administration, CheckinLink
from alliance.web.goals import services as goals
from alliance.web.goals.models import Goal
from alliance.web.monitoring.models import Signal

THERAPIST_ANSWERS = {"bond1": 7, "bond2": 8, "goals1": 6, "goals2": 6, "tasks1": 5,
                     "tasks2": 7}


def errors_of(response) -> list[dict]:
    assert response["Content-Type"] == "application/json", response.content[:200]
    body = response.json()
    assert set(body) == {"errors"} and body["errors"], body
    for item in body["errors"]:
        assert set(item) == {"field", "message"} and item["message"], item
    return body["errors"]


def feedback_signal(case, number=1) -> Signal:
    return Signal.objects.create(case=case, type="client_feedback",
                                 subject="alliance-client:more_helpful",
                                 session=case.sessions.get(number=number), rule="open_answer",
                                 explanation="The client wrote something.")


# --------------------------------------------------------------------------- tokens

def test_a_new_token_is_shown_once_and_only_its_hash_is_stored(therapist):
    issued = tokens.create_token(therapist.clinic, therapist, name="Reports", scope="read",
                                 by=therapist)
    stored = ApiToken.objects.get()
    assert issued.token.startswith("alliance_") and len(issued.token) > 40
    assert stored.token_hash == hash_token(issued.token)
    assert issued.token not in {getattr(stored, f.attname) for f in ApiToken._meta.fields}
    event = Event.objects.get(action="token_created")
    assert event.target_id == str(stored.pk) and event.actor_name == therapist.user.username


def test_a_token_cannot_act_as_an_administrator_or_a_member_of_another_clinic(
        admin, therapist, other_clinic_therapist):
    with pytest.raises(tokens.TokenError, match="therapist or a supervisor"):
        tokens.create_token(admin.clinic, admin, name="x", scope="read")
    with pytest.raises(tokens.TokenError, match="own clinic"):
        tokens.create_token(therapist.clinic, other_clinic_therapist, name="x", scope="read")
    with pytest.raises(tokens.TokenError, match="future"):
        tokens.create_token(therapist.clinic, therapist, name="x", scope="read",
                            expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert not ApiToken.objects.exists()


def test_a_request_without_a_token_gets_a_401_in_json(api, case):
    response = api(None)("get", "/api/cases/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "Bearer" in errors_of(response)[0]["message"]


@pytest.mark.parametrize("header", ["Bearer alliance_not-a-real-token", "Bearer", "Token abc",
                                    "Bearer a b"])
def test_a_wrong_token_gets_a_401_and_is_recorded(client, therapist, header):
    response = client.get("/api/cases/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    errors_of(response)


def test_an_unknown_token_is_recorded_as_invalid(api, therapist):
    api("alliance_made-up")("get", "/api/cases/")
    event = Event.objects.get(action="token_invalid")
    assert event.outcome == "failure" and "unknown token" in event.detail


def test_a_revoked_token_stops_working_and_both_steps_are_recorded(api, therapist, admin, case):
    token = make_token(therapist)
    assert api(token)("get", "/api/cases/").status_code == 200
    tokens.revoke_token(ApiToken.objects.get(), by=admin)
    response = api(token)("get", "/api/cases/")
    assert response.status_code == 401 and "revoked" in errors_of(response)[0]["message"]
    assert Event.objects.filter(action="token_revoked", outcome="success").count() == 1
    assert Event.objects.filter(action="token_invalid", detail__contains="revoked").exists()


def test_an_expired_token_stops_working(api, therapist, case):
    token = make_token(therapist, expires_at=timezone.now() + dt.timedelta(hours=1))
    ApiToken.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = api(token)("get", "/api/cases/")
    assert response.status_code == 401 and "expired" in errors_of(response)[0]["message"]


def test_a_token_of_a_deactivated_therapist_stops_working(api, therapist, case):
    token = make_token(therapist)
    therapist.is_active = False
    therapist.save()
    assert api(token)("get", "/api/cases/").status_code == 401


def test_using_a_token_records_its_last_use_and_an_audit_event(api, therapist, case):
    token = make_token(therapist)
    api(token)("get", f"/api/cases/{case.pk}/")
    stored = ApiToken.objects.get()
    assert stored.last_used_at is not None
    used = Event.objects.get(action="token_used")
    assert used.actor_name == therapist.user.username and f"/api/cases/{case.pk}/" in used.detail
    read = Event.objects.get(action="read")
    assert read.target_type == "care.case" and read.target_id == str(case.pk)
    assert read.client_id == case.client_id


def test_a_read_only_token_cannot_change_anything(api, therapist, case):
    token = make_token(therapist, scope="read")
    response = api(token)("post", "/api/goals/", {"case": case.pk, "text": "Sleep well"})
    assert response.status_code == 403 and "read-only" in errors_of(response)[0]["message"]
    assert not Goal.objects.exists()


# --------------------------------------------------------------------------- scoping

def test_a_therapist_sees_their_own_clients_and_cases_only(
        api, therapist, case, other_therapist_case, other_clinic_case):
    call = api(make_token(therapist))
    assert [c["id"] for c in call("get", "/api/cases/").json()["results"]] == [case.pk]
    assert [c["code"] for c in call("get", "/api/clients/").json()["results"]] == ["C-AAAA1"]
    for record in (other_therapist_case, other_clinic_case):
        assert call("get", f"/api/cases/{record.pk}/").status_code == 404
        assert call("get", f"/api/clients/{record.client_id}/").status_code == 404
        session = record.sessions.get()
        assert call("get", f"/api/sessions/{session.pk}/").status_code == 404


def test_a_supervisor_reads_a_supervisees_case_but_cannot_act_on_it(
        api, supervisor, therapist, case):
    call = api(make_token(supervisor))
    signal = feedback_signal(case)
    assert call("get", f"/api/cases/{case.pk}/").status_code == 200
    assert call("get", f"/api/signals/{signal.pk}/").status_code == 200
    response = call("post", f"/api/signals/{signal.pk}/acknowledge/")
    assert response.status_code == 403
    errors_of(response)
    signal.refresh_from_db()
    assert signal.state == "open"


def test_another_therapist_gets_404_for_a_record_named_in_the_body(
        api, other_therapist, case):
    response = api(make_token(other_therapist))("post", "/api/goals/",
                                                {"case": case.pk, "text": "Sleep well"})
    assert response.status_code == 404
    assert not Goal.objects.exists()


# --------------------------------------------------------------------------- forms

def test_a_therapist_form_is_scored_by_the_core_engine_like_the_web_form(
        api, therapist, session):
    response = api(make_token(therapist))("post", "/api/administrations/", {
        "session": session.pk, "instrument": "alliance-therapist",
        "responses": THERAPIST_ANSWERS, "answers": {"try_next": "Slow down"}})
    assert response.status_code == 201, response.content
    body = response.json()
    expected = instruments.score(instruments.get_instrument("alliance-therapist"),
                                 {k: float(v) for k, v in THERAPIST_ANSWERS.items()})
    assert body["scores"] == expected
    assert body["respondent"] == "therapist" and body["via"] == "staff"
    assert body["answers"] == {"try_next": "Slow down"} and body["submitted_at"]
    assert Event.objects.filter(action="create", target_id=str(body["id"])).exists()


def test_a_client_form_entered_by_staff_is_scored_and_replaces_the_clients_link(
        api, therapist, session, issued):
    response = api(make_token(therapist))("post", "/api/administrations/", {
        "session": session.pk, "instrument": "alliance-client", "responses": CLIENT_ANSWERS,
        "answers": {"more_helpful": ""}})
    assert response.status_code == 201, response.content
    administration = Administration.objects.get(pk=response.json()["id"])
    assert administration.via == "staff" and administration.respondent == "client"
    assert administration.language == response.json()["language"] == "en"
    assert administration.scores == instruments.score(
        instruments.get_instrument("alliance-client"), CLIENT_ANSWERS)
    # The link sent earlier no longer works: the form is answered.
    assert CheckinLink.objects.get(pk=issued.link.pk).state() == "revoked"


def test_an_answer_off_the_scale_is_a_400_naming_the_item_and_stores_nothing(
        api, therapist, session, issued):
    response = api(make_token(therapist))("post", "/api/administrations/", {
        "session": session.pk, "instrument": "alliance-client",
        "responses": {**CLIENT_ANSWERS, "bond1": 11, "nonsense": 3}})
    assert response.status_code == 400
    fields = {e["field"]: e["message"] for e in errors_of(response)}
    assert "not on this scale" in fields["responses.bond1"]
    assert "no item 'nonsense'" in fields["responses.nonsense"]
    assert not Administration.objects.filter(submitted_at__isnull=False).exists()
    assert CheckinLink.objects.get(pk=issued.link.pk).state() == "live"


def test_a_form_answered_twice_is_a_400(api, therapist, session):
    call = api(make_token(therapist))
    body = {"session": session.pk, "instrument": "alliance-therapist",
            "responses": THERAPIST_ANSWERS}
    assert call("post", "/api/administrations/", body).status_code == 201
    second = call("post", "/api/administrations/", body)
    assert second.status_code == 400
    assert "already been answered" in errors_of(second)[0]["message"]


def test_an_instrument_not_in_use_is_a_400(api, therapist, session):
    response = api(make_token(therapist))("post", "/api/administrations/", {
        "session": session.pk, "instrument": "phq-9", "responses": {}})
    assert response.status_code == 400
    assert errors_of(response)[0]["field"] == "instrument"


# --------------------------------------------------------------------------- signals

def test_the_therapist_acknowledges_and_dismisses_signals_like_on_the_web(
        api, therapist, case):
    call = api(make_token(therapist))
    first, second = feedback_signal(case), Signal.objects.create(
        case=case, type="rupture", subject="total", session=case.sessions.get(),
        rule="sd1", repair_state="pending", explanation="Alliance dropped.")
    response = call("post", f"/api/signals/{first.pk}/acknowledge/")
    assert response.status_code == 200 and response.json()["state"] == "acknowledged"
    again = call("post", f"/api/signals/{first.pk}/acknowledge/")
    assert again.status_code == 400 and "open signal" in errors_of(again)[0]["message"]
    no_reason = call("post", f"/api/signals/{second.pk}/dismiss/", {"reason": ""})
    assert no_reason.status_code == 400 and errors_of(no_reason)[0]["field"] == "reason"
    dismissed = call("post", f"/api/signals/{second.pk}/dismiss/",
                     {"reason": "Talked it through."})
    assert dismissed.json()["state"] == "dismissed"
    assert dismissed.json()["dismiss_reason"] == "Talked it through."
    assert Event.objects.filter(action="update", target_type="monitoring.signal").count() == 2
    # Reopened, in the words the case page and the audit trail use for it.
    reopened = call("post", f"/api/signals/{second.pk}/reopen/")
    assert reopened.status_code == 200 and reopened.json()["state"] == "open"
    from alliance.web.monitoring.actions import VERBS

    details = set(Event.objects.filter(target_type="monitoring.signal")
                  .values_list("detail", flat=True))
    # (the first signal is a client's comment: acknowledging it marks it read)
    assert {VERBS[k].audit for k in ("mark_read", "dismiss", "reopen")} <= details


# --------------------------------------------------------------------------- goals and tasks

def test_goals_and_tasks_are_created_and_agreed_with_the_goal_rules(api, therapist, case):
    call = api(make_token(therapist))
    created = call("post", "/api/goals/", {"case": case.pk, "text": "Sleep through the night"})
    assert created.status_code == 201, created.content
    goal = created.json()
    assert goal["proposed_by"] == "client" and goal["waiting_for"] == "therapist"
    agreed = call("post", f"/api/goals/{goal['id']}/agree/")
    assert agreed.json()["status"] == "agreed" and agreed.json()["agreed"] is True
    twice = call("post", f"/api/goals/{goal['id']}/agree/")
    assert twice.status_code == 400 and "already agreed" in errors_of(twice)[0]["message"]
    task = call("post", "/api/tasks/", {"goal": goal["id"], "what": "Phone away at 10 pm",
                                        "how_often": "every night"})
    assert task.status_code == 201 and task.json()["waiting_for"] == "client"
    goals.confirm_task(goals.Task.objects.get(), by=case.client)
    listed = call("get", f"/api/tasks/?case={case.pk}").json()["results"]
    assert [t["agreed"] for t in listed] == [True]


def test_a_goal_with_no_words_is_a_400_on_the_text(api, therapist, case):
    response = api(make_token(therapist))("post", "/api/goals/", {"case": case.pk, "text": " "})
    assert response.status_code == 400
    assert errors_of(response)[0]["field"] == "text"


# --------------------------------------------------------------------------- lists

@pytest.fixture
def long_case(therapist):
    """A case with 7 sessions a week apart from 5 January 2026."""
    case = care.admit_client(therapist, code="C-LONG", modality="cbt",
                             start_date=dt.date(2026, 1, 5))
    for week in range(7):
        care.record_session(case, date=dt.date(2026, 1, 5) + dt.timedelta(weeks=week),
                            status="attended")
    return case


def test_pages_have_a_size_with_a_maximum_and_a_stable_order(api, therapist, long_case):
    call = api(make_token(therapist))
    first = call("get", "/api/sessions/?page_size=3").json()
    assert first["count"] == 7 and len(first["results"]) == 3 and first["next"]
    second = call("get", "/api/sessions/?page_size=3&page=2").json()
    third = call("get", "/api/sessions/?page_size=3&page=3").json()
    numbers = [s["number"] for page in (first, second, third) for s in page["results"]]
    assert numbers == [1, 2, 3, 4, 5, 6, 7]
    assert len(call("get", "/api/sessions/?page_size=100000").json()["results"]) == 7
    past = call("get", "/api/sessions/?page=9")
    assert past.status_code == 404 and errors_of(past)


def test_the_page_size_is_capped_at_200(api, therapist, case):
    from alliance.web.care.models import Session

    Session.objects.bulk_create(Session(case=case, number=n, date=dt.date(2026, 1, 5))
                                for n in range(2, 206))
    page = api(make_token(therapist))("get", "/api/sessions/?page_size=1000").json()
    assert page["count"] == 205 and len(page["results"]) == 200 and page["next"]


def test_lists_filter_by_case_and_date_range(api, therapist, case, long_case):
    call = api(make_token(therapist))
    sessions = call("get", f"/api/sessions/?case={long_case.pk}"
                           "&date_after=2026-01-12&date_before=2026-01-26").json()["results"]
    assert [s["number"] for s in sessions] == [2, 3, 4]
    assert all(s["case"] == long_case.pk for s in sessions)
    call("post", "/api/administrations/", {"session": sessions[0]["id"],
                                           "instrument": "alliance-therapist",
                                           "responses": THERAPIST_ANSWERS})
    forms = call("get", "/api/administrations/?date_after=2026-01-12&date_before=2026-01-12")
    assert [a["session_number"] for a in forms.json()["results"]] == [2]
    assert call("get", "/api/administrations/?date_after=2026-01-13").json()["count"] == 0
    feedback_signal(case)
    today = timezone.now().date().isoformat()
    assert call("get", f"/api/signals/?case={case.pk}&date_after={today}").json()["count"] == 1
    assert call("get", f"/api/signals/?case={long_case.pk}").json()["count"] == 0


def test_bad_filters_are_a_400_naming_the_parameter(api, therapist):
    call = api(make_token(therapist))
    response = call("get", "/api/sessions/?date_after=last-week&case=-3")
    assert response.status_code == 400
    assert {e["field"] for e in errors_of(response)} == {"date_after", "case"}
    huge = call("get", f"/api/sessions/?case={10**30}")
    assert huge.status_code == 400


# --------------------------------------------------------------------------- errors

def test_errors_are_json_whatever_was_asked(api, client, therapist, case):
    call = api(make_token(therapist))
    not_allowed = call("delete", f"/api/cases/{case.pk}/")
    assert not_allowed.status_code == 405 and errors_of(not_allowed)
    form_body = client.post("/api/goals/", {"case": case.pk, "text": "x"},
                            **bearer(make_token(therapist)))
    assert form_body.status_code == 415 and errors_of(form_body)
    bad_json = call("post", "/api/goals/", None, data="{not json",
                    content_type="application/json")
    assert bad_json.status_code == 400 and errors_of(bad_json)
    nowhere = call("get", "/api/no-such-thing/")
    assert nowhere.status_code == 404 and errors_of(nowhere)
    huge = call("get", f"/api/cases/{10**30}/")
    assert huge.status_code == 404 and errors_of(huge)
    html = call("get", "/api/cases/", HTTP_ACCEPT="text/html")
    assert html.status_code == 200 and html["Content-Type"] == "application/json"


# --------------------------------------------------------------------------- schema

def test_the_openapi_document_describes_every_resource_and_its_errors(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert {"/api/clients/", "/api/cases/", "/api/sessions/", "/api/administrations/",
            "/api/signals/{id}/dismiss/", "/api/goals/{id}/agree/",
            "/api/tasks/"} <= set(document["paths"])
    listing = document["paths"]["/api/sessions/"]["get"]
    assert {"400", "401", "403", "404"} <= set(listing["responses"])
    assert {p["name"] for p in listing["parameters"]} >= {"case", "date_after", "date_before",
                                                          "page", "page_size", "ordering"}
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_docs_page_loads_its_assets_from_this_site_without_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>" not in page and "<style" not in page and "cdn" not in page.lower()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "/api/schema/" in script.content.decode()


def test_ordering_is_chosen_and_ties_are_broken_by_id(api, therapist):
    case = care.admit_client(therapist, code="C-SAME", modality="cbt",
                             start_date=dt.date(2026, 1, 5))
    for _ in range(5):  # five sessions on one day: only the id tells them apart
        care.record_session(case, date=dt.date(2026, 1, 5), status="attended")
    call = api(make_token(therapist))
    newest = call("get", "/api/sessions/?ordering=-number").json()["results"]
    assert [s["number"] for s in newest] == [5, 4, 3, 2, 1]
    pages = [call("get", f"/api/sessions/?ordering=date&page_size=2&page={n}").json()
             for n in (1, 2, 3)]
    ids = [s["id"] for page in pages for s in page["results"]]
    assert ids == sorted(ids) and len(set(ids)) == 5
    ignored = call("get", "/api/sessions/?ordering=no_such_field")
    assert ignored.status_code == 200 and ignored.json()["count"] == 5


def test_a_session_recorded_through_the_api_carries_its_format_or_none(api, therapist, case):
    call = api(make_token(therapist))
    today = str(timezone.localdate())
    made = call("post", "/api/sessions/", {"case": case.pk, "date": today, "format": "phone"})
    assert made.status_code == 201, made.content
    assert made.json()["format"] == "phone"
    assert case.sessions.get(number=made.json()["number"]).format == "phone"
    unrecorded = call("post", "/api/sessions/", {"case": case.pk, "date": today})
    assert unrecorded.status_code == 201 and unrecorded.json()["format"] == ""
    listed = call("get", f"/api/sessions/{made.json()['id']}/").json()
    assert listed["format"] == "phone"
    refused = call("post", "/api/sessions/", {"case": case.pk, "date": today, "format": "fax"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "format"

"""Every read of a client's record, every change, and every check-in writes one audit event."""

from __future__ import annotations

import pytest
from django.urls import reverse

from alliance.web.audit.models import Event
from alliance.web.portal import services as portal

from helpers import checkin_post


@pytest.fixture
def new_events(db):
    """new_events(): the events written since the fixture was set up, oldest first, other than
    the test's signing in (audited by the accounts code)."""
    start = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    return lambda: list(Event.objects.filter(id__gt=start).exclude(action="login")
                        .order_by("id"))


def summary(events):
    return [(e.action, e.outcome, e.target_type, e.target_id) for e in events]


def test_a_therapist_opening_a_case_page_writes_one_read_of_the_case(login, therapist, case,
                                                                      new_events):
    response = login(therapist).get(reverse("care:case", args=[case.pk]),
                                    REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 200
    [event] = new_events()
    assert summary([event]) == [("read", "success", "care.case", str(case.pk))]
    assert (event.actor_id, event.clinic_id, event.client_id, event.address) == (
        therapist.user_id, therapist.clinic_id, case.client_id, "192.0.2.10")


def test_a_session_page_writes_one_read_of_the_session(login, therapist, session, new_events):
    login(therapist).get(reverse("care:session", args=[session.case_id, session.number]))
    assert summary(new_events()) == [("read", "success", "care.session", str(session.pk))]


def test_opening_another_therapists_case_is_recorded_as_refused(login, other_therapist, case,
                                                                new_events):
    response = login(other_therapist).get(reverse("care:case", args=[case.pk]))
    assert response.status_code == 404
    [event] = new_events()
    assert (event.action, event.outcome, event.actor_id) == ("read", "denied",
                                                             other_therapist.user_id)
    assert event.target_type == "" and f"case {case.pk}" in event.detail


def test_a_supervisor_changing_a_supervisees_case_is_recorded_as_refused(login, supervisor,
                                                                         case, new_events):
    response = login(supervisor).post(reverse("care:case_end", args=[case.pk]),
                                      {"status": "closed", "end_date": "2026-02-01"})
    assert response.status_code == 403
    assert summary(new_events()) == [("update", "denied", "care.case", str(case.pk))]


def test_recording_a_session_writes_one_create_event_and_no_read(login, therapist, case,
                                                                 new_events):
    response = login(therapist).post(reverse("care:session_new", args=[case.pk]),
                                     {"date": "2026-01-12", "status": "attended", "format": "in_person"})
    assert response.status_code == 302
    session = case.sessions.get(number=2)
    assert summary(new_events()) == [("create", "success", "care.session", str(session.pk))]


def test_the_caseload_writes_one_event_however_many_cases_it_shows(login, therapist,
                                                                   open_case, new_events):
    for n in range(3):
        open_case(therapist, f"C-LIST{n}")
    login(therapist).get(reverse("care:caseload"))
    [event] = new_events()
    assert (event.action, event.target_type, event.target_id) == (
        "read", "clinics.staffmember", str(therapist.pk))
    assert event.detail == "caseload: 3 cases"


def test_the_supervision_page_writes_one_event(login, supervisor, case, new_events):
    login(supervisor).get(reverse("monitoring:supervision"))
    assert summary(new_events()) == [("read", "success", "clinics.staffmember",
                                      str(supervisor.pk))]


def test_a_client_answering_a_check_in_link_writes_one_event_with_the_link_as_actor(
        client, issued, client_answers, new_events):
    response = client.post(issued.path, checkin_post(client_answers))
    assert response.status_code == 302
    [event] = new_events()
    administration = issued.administration
    assert summary([event]) == [("update", "success", "checkins.administration",
                                 str(administration.pk))]
    assert event.actor_id is None and event.actor_name.endswith(f" {issued.link.pk}")
    assert event.clinic_id == administration.session.case.client.clinic_id
    assert event.client_id == administration.session.case.client_id


def test_sending_a_check_in_link_writes_one_token_created_event(login, therapist, session,
                                                                new_events):
    response = login(therapist).post(
        reverse("care:checkin_link", args=[session.case_id, session.number]),
        {"instrument": "alliance-client"})
    assert response.status_code == 200
    [event] = new_events()
    assert (event.action, event.target_type) == ("token_created", "checkins.administration")


def test_adding_a_goal_writes_one_create_event_for_the_goal(login, therapist, case, new_events):
    login(therapist).post(reverse("goals:propose", args=[case.pk]),
                          {"text": "Sleep through the night", "proposed_by": "therapist"})
    goal = case.goals.get()
    assert summary(new_events()) == [("create", "success", "goals.goal", str(goal.pk))]


def test_a_case_report_is_recorded_as_an_export_without_a_second_read_event(login, therapist,
                                                                            case, new_events):
    response = login(therapist).get(reverse("reports:case", args=[case.pk]))
    assert response.status_code == 200
    assert [(e.action, e.target_type) for e in new_events()] == [("export", "care.case")]


def test_a_client_reading_their_progress_in_the_portal_writes_one_read(client, clinic, case,
                                                                       therapist, new_events):
    clinic.client_portal_enabled = True
    clinic.save()
    account = portal.invite(case, by=therapist)
    client.force_login(account.user)
    start = len(new_events())
    assert client.get(reverse("portal:progress")).status_code == 200
    [event] = new_events()[start:]
    assert (event.action, event.target_type, event.actor_id, event.clinic_id) == (
        "read", "care.case", account.user_id, clinic.pk)


def test_an_administrator_deactivating_a_therapist_is_recorded(login, admin, therapist,
                                                               new_events):
    response = login(admin).post(reverse("clinics:staff_deactivate", args=[therapist.pk]))
    assert response.status_code == 302
    [event] = new_events()
    assert (event.action, event.target_type, event.target_id, event.detail) == (
        "update", "clinics.staffmember", str(therapist.pk), "deactivated")
    assert event.actor_id == admin.user_id and event.clinic_id == admin.clinic_id

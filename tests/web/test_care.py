"""Clients, cases and sessions: the therapist's pages and the rules behind them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import override_settings

from alliance.web.audit.models import Event
from alliance.web.care import services
from alliance.web.care.models import Case, Client, Session
from alliance.web.checkins.models import Administration

from helpers import checkin_post


def test_a_therapist_adds_a_client_and_opens_their_case(login, therapist):
    client = login(therapist)
    form = client.get("/clients/new/")
    assert form.status_code == 200
    response = client.post("/clients/new/", {"code": "C-NEW01", "contact_email": "",
                                             "modality": "humanistic",
                                             "start_date": "2026-02-02"})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert case.therapist == therapist
    assert case.client.code == "C-NEW01" and case.client.clinic == therapist.clinic
    assert case.modality == "humanistic" and case.status == "active"


def test_a_client_code_is_unique_within_a_clinic_only(therapist, other_therapist,
                                                     other_clinic_therapist):
    services.admit_client(therapist, code="C-SAME1", modality="cbt")
    with pytest.raises(services.CareError, match="already in use"):
        services.admit_client(other_therapist, code="C-SAME1", modality="cbt")
    services.admit_client(other_clinic_therapist, code="C-SAME1", modality="cbt")
    assert Client.objects.filter(code="C-SAME1").count() == 2


def test_the_new_client_form_suggests_an_unused_pseudonymous_code(login, therapist):
    html = login(therapist).get("/clients/new/").content.decode()
    assert 'name="code"' in html and 'value="C-' in html


def test_an_admin_cannot_open_cases(admin):
    with pytest.raises(services.CareError):
        services.admit_client(admin, code="C-ADM01", modality="cbt")


def test_sessions_are_numbered_in_order_and_unique_per_case(case):
    second = services.record_session(case, date=dt.date(2026, 1, 12), status="cancelled")
    third = services.record_session(case, date=dt.date(2026, 1, 19), status="attended")
    assert (second.number, third.number) == (2, 3)
    with pytest.raises(services.CareError, match="already recorded"):
        services.record_session(case, date=dt.date(2026, 1, 26), status="attended", number=3)


def test_recording_a_session_from_the_case_page(login, therapist, case):
    client = login(therapist)
    response = client.post(f"/cases/{case.pk}/sessions/new/",
                           {"date": "2026-01-12", "status": "no_show", "format": "video"})
    assert response.status_code == 302
    session = case.sessions.get(number=2)
    assert session.status == Session.Status.NO_SHOW
    assert session.format == Session.Format.VIDEO
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Did not attend" in page


def test_a_session_before_the_start_of_the_case_is_refused(login, therapist, case):
    response = login(therapist).post(f"/cases/{case.pk}/sessions/new/",
                                     {"date": "2025-12-01", "status": "attended",
                                      "format": "phone"})
    assert response.status_code == 200
    assert "cannot be before the case started" in response.content.decode()


def test_the_session_form_asks_how_it_took_place_with_nothing_chosen(login, therapist, case):
    client = login(therapist)
    html = client.get(f"/cases/{case.pk}/sessions/new/").content.decode()
    for value in ("in_person", "video", "phone", "text", "attended", "cancelled", "no_show"):
        assert f'value="{value}"' in html
    assert not re.search(r'name="(format|status)"[^>]*checked', html)
    response = client.post(f"/cases/{case.pk}/sessions/new/",
                           {"date": "2026-01-12", "format": "video"})
    assert response.status_code == 200 and not case.sessions.filter(number=2).exists()
    assert "This field is required" in response.content.decode()
    response = client.post(f"/cases/{case.pk}/sessions/new/",
                           {"date": "2026-01-12", "status": "attended"})
    assert response.status_code == 200 and not case.sessions.filter(number=2).exists()
    assert "This field is required" in response.content.decode()
    response = client.post(f"/cases/{case.pk}/sessions/new/",
                           {"date": "2026-01-12", "status": "attended", "format": "fax"})
    assert response.status_code == 200 and not case.sessions.filter(number=2).exists()
    response = client.post(f"/cases/{case.pk}/sessions/new/",
                           {"date": "2026-01-12", "status": "attended", "format": "text"},
                           follow=True)
    assert case.sessions.get(number=2).format == "text"
    assert "attended · text (chat or messages)" in response.content.decode()


def test_a_session_recorded_without_a_format_is_not_recorded_not_guessed(case):
    session = services.record_session(case, date=dt.date(2026, 1, 12), status="attended")
    assert session.format == ""
    with pytest.raises(services.CareError, match="Unknown session format 'fax'"):
        services.record_session(case, date=dt.date(2026, 1, 19), status="attended",
                                format="fax")


def test_ending_a_case_and_no_more_sessions_after(login, therapist, case):
    client = login(therapist)
    client.post(f"/cases/{case.pk}/end/", {"status": "dropped_out", "end_date": "2026-03-01"})
    case.refresh_from_db()
    assert case.status == "dropped_out" and case.end_date == dt.date(2026, 3, 1)
    with pytest.raises(services.CareError, match="active case"):
        services.record_session(case, date=dt.date(2026, 3, 2), status="attended")


def test_the_caseload_lists_active_cases_and_a_supervisor_sees_the_therapist(
        login, therapist, supervisor, case, other_therapist_case):
    mine = login(therapist).get("/cases/").content.decode()
    assert case.client.code in mine and other_therapist_case.client.code not in mine
    theirs = login(supervisor).get("/cases/").content.decode()
    assert case.client.code in theirs and therapist.display_name in theirs


def test_the_session_page_creates_a_copyable_link_shown_once(login, therapist, case):
    client = login(therapist)
    response = client.post(f"/cases/{case.pk}/sessions/1/link/", {"instrument": "alliance-client"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-copy="checkin-url"' in html
    assert "http://testserver/c/" in html
    # Only the hash is stored, so the session page cannot show the link again.
    page = client.get(f"/cases/{case.pk}/sessions/1/").content.decode()
    assert "http://testserver/c/" not in page
    assert "Waiting for answers" in page


def test_a_link_can_be_emailed_to_the_clients_address(login, therapist, case, mailoutbox):
    response = login(therapist).post(f"/cases/{case.pk}/sessions/1/link/",
                                     {"instrument": "alliance-client", "send_email": "1"})
    assert response.status_code == 200
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["client@example.org"]
    assert "http://testserver/c/" in message.body
    assert case.client.code not in message.body and case.client.code not in message.subject


def test_an_in_room_check_in_opens_the_form_on_this_device(login, therapist, case,
                                                           client_answers):
    client = login(therapist)
    response = client.post(f"/cases/{case.pk}/sessions/1/in-room/",
                           {"instrument": "alliance-client"})
    assert response.status_code == 302 and response["Location"].startswith("/c/")
    form = client.get(response["Location"])
    assert form.status_code == 200
    done = client.post(response["Location"], checkin_post(client_answers))
    assert done["Location"] == "/c/thanks/?in_room=1"
    assert "hand the device back" in client.get(done["Location"]).content.decode()
    assert Administration.objects.get(instrument_id="alliance-client").via == "in_room"


def test_handing_the_device_to_the_client_signs_the_therapist_out(login, therapist, case):
    client = login(therapist)
    response = client.post(f"/cases/{case.pk}/sessions/1/in-room/",
                           {"instrument": "alliance-client"})
    assert response.status_code == 302 and response["Location"].startswith("/c/")
    # Whoever holds the device now reaches only the sign-in page, not the caseload.
    caseload = client.get("/cases/")
    assert caseload.status_code == 302 and caseload["Location"].startswith("/login/")
    assert client.get(f"/cases/{case.pk}/")["Location"].startswith("/login/")
    form = client.get(response["Location"]).content.decode()
    assert "/cases/" not in form and "/logout/" not in form
    assert Event.objects.filter(action="logout").exists()


def test_the_therapist_rates_the_session_with_the_parallel_form(login, therapist, case):
    client = login(therapist)
    page = client.get(f"/cases/{case.pk}/sessions/1/therapist-form/")
    assert page.status_code == 200
    answers = {"bond1": 7, "bond2": 7, "goals1": 6, "goals2": 6, "tasks1": 8, "tasks2": 8}
    from alliance.web import instruments
    instrument = instruments.get_instrument("alliance-therapist")
    assert set(answers) == set(instrument.item_ids)
    response = client.post(f"/cases/{case.pk}/sessions/1/therapist-form/",
                           {**answers, "instrument": "alliance-therapist"})
    assert response.status_code == 302
    administration = Administration.objects.get(respondent="therapist")
    assert administration.via == "staff"
    assert administration.scores == instruments.score(instrument, answers)
    again = client.post(f"/cases/{case.pk}/sessions/1/therapist-form/",
                        {**answers, "instrument": "alliance-therapist"})
    assert "already been answered" in again.content.decode()


def test_the_client_open_answer_appears_on_the_case_page(login, therapist, case, issued,
                                                         client, client_answers):
    client.post(issued.path, checkin_post(client_answers, "Less homework, please."))
    page = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    assert "Less homework, please." in page


@override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                   EMAIL_HOST="127.0.0.1", EMAIL_PORT=9)  # nothing listens on the discard port
def test_when_email_fails_the_link_is_still_shown(login, therapist, case):
    from alliance.web.outreach.models import Message

    response = login(therapist).post(f"/cases/{case.pk}/sessions/1/link/",
                                     {"instrument": "alliance-client", "send_email": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    # Recorded like an automatic message, for the session page and the worklist.
    assert Message.objects.get(session__case=case).status == "failed"
    assert "could not be sent" in html and "http://testserver/c/" in html


def test_one_view_of_the_case_page_is_one_read_in_the_audit_trail(login, supervisor, case):
    # The page and its two chart images: three requests, one page view.
    client = login(supervisor)
    assert client.get(f"/cases/{case.pk}/").status_code == 200
    for chart in ("alliance", "wellbeing"):
        assert client.get(f"/cases/{case.pk}/charts/{chart}.svg").status_code == 200
    reads = Event.objects.filter(action="read", target_type="care.case", target_id=str(case.pk))
    assert reads.count() == 1

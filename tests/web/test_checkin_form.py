"""The public check-in form, end to end through Django's test client."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils.html import escape

from alliance.web import instruments
from alliance.web.checkins.models import Administration, CheckinLink

from helpers import checkin_post


def post_answers(client, path, answers, open_text="", **kwargs):
    return client.post(path, checkin_post(answers, open_text, **kwargs))


def alliance_form():
    return Administration.objects.get(instrument_id="alliance-client")


def test_opening_the_link_shows_every_question_as_a_scale_with_nothing_chosen(client, issued):
    response = client.get(issued.path)
    assert response.status_code == 200
    html = response.content.decode()
    spec = instruments.form_spec(instruments.get_instrument("alliance-client"))
    for item in spec.items:
        assert escape(item.text) in html
        # Eleven radio buttons, 0 to 10, in a group named by the question.
        assert html.count(f'name="{item.id}"') == 11
        assert f'name="{item.id}" value="0"' in html and f'name="{item.id}" value="10"' in html
    assert 'type="range"' not in html
    assert " checked" not in html  # nothing is answered until the client answers it
    assert "Not really" in html and "Very much" in html
    assert "What would make our work together more helpful for you?" in html
    # The session's questions (and the four wellbeing questions) come before the intake,
    # which the first session's check-in also carries (tests/web/test_intake.py).
    session_part, _, intake = html.partition('id="intake-heading"')
    assert session_part.count("<legend") == len(spec.items) + 4
    assert intake and " checked" not in intake
    assert CheckinLink.objects.get().used_at is None


def test_the_form_page_is_not_cached_and_has_no_inline_script(client, issued):
    response = client.get(issued.path)
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert "<script>" not in response.content.decode()


def test_a_valid_submit_stores_scores_from_core_and_shows_thanks(client, issued, client_answers):
    response = post_answers(client, issued.path, client_answers, "Slower pace, please.")
    assert response.status_code == 302
    assert response["Location"] == "/c/thanks/"
    administration = alliance_form()
    expected = instruments.score(instruments.get_instrument("alliance-client"), client_answers)
    assert administration.scores == expected
    assert administration.responses == {k: float(v) for k, v in client_answers.items()}
    assert administration.answers == {"more_helpful": "Slower pace, please."}
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "Thank you" in thanks.content.decode()


def test_an_out_of_range_value_shows_a_clear_error_and_keeps_the_other_answers(
        client, issued, client_answers):
    response = post_answers(client, issued.path, {**client_answers, "goals1": 14},
                            "Keep this text")
    assert response.status_code == 400
    html = response.content.decode()
    assert "14 is not on this scale: please choose a value from 0 to 10." in html
    assert 'aria-invalid="true"' in html
    # The other answers come back as they were given.
    assert 'name="bond1" value="8" checked' in html and 'name="bond2" value="9" checked' in html
    assert "Keep this text" in html
    assert not Administration.objects.filter(submitted_at__isnull=False).exists()
    assert CheckinLink.objects.get().used_at is None


def test_a_non_numeric_value_is_an_error_not_a_crash(client, issued, client_answers):
    response = post_answers(client, issued.path, {**client_answers, "tasks2": "lots"})
    assert response.status_code == 400
    assert "Please choose a value from 0 to 10." in response.content.decode()


def test_a_missing_answer_asks_for_it(client, issued, client_answers):
    answers = dict(client_answers)
    del answers["bond2"]
    response = post_answers(client, issued.path, answers)
    assert response.status_code == 400
    assert "Please give an answer to this question." in response.content.decode()


def test_submitting_twice_stores_once_and_the_second_gets_a_kind_page(client, issued,
                                                                      client_answers):
    first = post_answers(client, issued.path, client_answers)
    second = post_answers(client, issued.path, {**client_answers, "bond1": 0})
    assert first.status_code == 302
    assert second.status_code == 410
    assert "already" in second.content.decode()
    assert alliance_form().responses["bond1"] == 8.0


def test_a_used_link_gets_a_kind_page(client, issued, client_answers):
    post_answers(client, issued.path, client_answers)
    response = client.get(issued.path)
    assert response.status_code == 410
    assert "Your answers are already in" in response.content.decode()


def test_an_expired_link_gets_a_kind_page_and_changes_nothing(client, issued, client_answers):
    CheckinLink.objects.update(expires_at=issued.link.expires_at - timedelta(days=30))
    assert client.get(issued.path).status_code == 410
    response = post_answers(client, issued.path, client_answers)
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert not Administration.objects.filter(submitted_at__isnull=False).exists()


@pytest.mark.parametrize("path", ["/c/not-a-real-token/", "/c/x/"])
def test_an_unknown_link_gets_a_kind_not_found_page(client, issued, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "We could not open this check-in" in response.content.decode()


def test_a_tampered_link_gets_not_found_on_submit_and_changes_nothing(client, issued,
                                                                      client_answers):
    response = post_answers(client, issued.path.replace(issued.token, issued.token[:-2] + "zz"),
                            client_answers)
    assert response.status_code == 404
    assert not Administration.objects.filter(submitted_at__isnull=False).exists()


def test_the_form_works_without_javascript(client, issued):
    # Every question is a group of plain radio buttons; nothing needs a script.
    html = client.get(issued.path).content.decode()
    assert 'method="post"' in html and '<button type="submit"' in html
    assert 'type="radio"' in html and "data-slider" not in html


def brand(html: str) -> str:
    """The name in the page header."""
    return re.search(r'<span class="brand"><span class="brand-mark"[^>]*></span>([^<]*)</span>',
                     html).group(1).strip()


def test_the_pages_of_a_known_link_name_the_clinic_and_an_unknown_link_names_nobody(
        client, issued, client_answers, clinic):
    assert brand(client.get(issued.path).content.decode()) == "Riverside Counselling"
    thanks = client.get(post_answers(client, issued.path, client_answers)["Location"])
    assert "Thank you" in thanks.content.decode()
    assert brand(thanks.content.decode()) == "Riverside Counselling"
    used = client.get(issued.path)
    assert used.status_code == 410 and brand(used.content.decode()) == "Riverside Counselling"
    for path in ("/c/not-a-real-token/", issued.path[:-3] + "zz/"):
        unknown = client.get(path).content.decode()
        assert brand(unknown) == "Alliance" and "Riverside" not in unknown
    # The thank-you page learns the clinic from a signed cookie, not from the URL.
    fresh = client.__class__()
    page = fresh.get("/c/thanks/").content.decode()
    assert brand(page) == "Alliance"
    fresh.cookies["checkin_clinic"] = str(clinic.pk)   # forged, unsigned: ignored
    assert brand(fresh.get("/c/thanks/").content.decode()) == "Alliance"


def test_an_expired_or_replaced_link_names_the_clinic(client, issued, session, therapist):
    from alliance.web.checkins import services

    services.issue_link(session, "alliance-client", by=therapist)   # replaces `issued`
    replaced = client.get(issued.path)
    assert replaced.status_code == 410
    assert "This link has expired" in replaced.content.decode()
    assert brand(replaced.content.decode()) == "Riverside Counselling"


# --- no answer is invented ------------------------------------------------------------

def test_an_untouched_check_in_stores_nothing_and_names_every_blank_question(client, issued):
    response = client.post(issued.path, {"more_helpful": ""})
    assert response.status_code == 400
    html = response.content.decode()
    # Six alliance questions and four wellbeing questions, each asked for by name.
    assert html.count("Please give an answer to this question.") == 10
    assert not Administration.objects.filter(submitted_at__isnull=False).exists()
    assert CheckinLink.objects.get().used_at is None


def test_one_answer_of_many_is_kept_and_nothing_is_made_up_for_the_rest(client, issued):
    response = client.post(issued.path, {"bond1": "3", "more_helpful": ""})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'name="bond1" value="3" checked' in html
    assert html.count(" checked") == 1
    assert html.count("Please give an answer to this question.") == 9
    assert not Administration.objects.filter(submitted_at__isnull=False).exists()


def test_the_wellbeing_part_sits_under_its_own_heading_after_the_session_questions(
        client, issued):
    html = client.get(issued.path).content.decode()
    session = html.index("About today&#x27;s session")
    week = html.index("How life has been going")
    assert session < html.index('name="bond1"') < week < html.index('name="wellbeing-self"')
    assert "about your last session" not in html.lower()[week:]


def test_one_link_stores_both_forms_of_the_session_at_once(client, issued, client_answers):
    response = post_answers(client, issued.path, client_answers, wellbeing=4)
    assert response.status_code == 302
    wellbeing = Administration.objects.get(instrument_id="wellbeing")
    assert wellbeing.submitted_at == alliance_form().submitted_at
    assert wellbeing.responses == dict.fromkeys(("self", "close", "everyday", "overall"), 4.0)
    assert wellbeing.scores["total"] == 4.0
    assert CheckinLink.objects.count() == 1


def test_a_new_link_for_the_session_replaces_the_old_one_for_every_form(
        client, issued, session, therapist):
    from alliance.web.checkins import services

    newer = services.issue_link(session, "wellbeing", by=therapist)
    assert client.get(issued.path).status_code == 410
    html = client.get(newer.path).content.decode()
    # The same two parts, whichever form the link was made for: the session's first.
    assert html.index("About today") < html.index('name="alliance-client-bond1"') < \
        html.index("How life has been going") < html.index('name="self"')


# --- a short check-in -----------------------------------------------------------------

def test_a_new_clinic_asks_at_most_eight_answers_at_an_ordinary_session(client, db):
    from django.contrib.auth import get_user_model

    from alliance.web.care import services as care
    from alliance.web.checkins import services
    from alliance.web.clinics.models import Clinic, StaffMember
    from alliance.web.intake import services as intake

    clinic = Clinic.objects.create(name="New Practice")
    assert clinic.instruments_in_use == ["alliance-brief", "alliance-therapist", "wellbeing"]
    user = get_user_model().objects.create_user("t@new.example", "t@new.example")
    therapist = StaffMember.objects.create(user=user, clinic=clinic, role="therapist",
                                           display_name="T")
    case = care.admit_client(therapist, code="C-NEW01", contact_email="", modality="cbt",
                             start_date=date(2026, 1, 5))
    session = care.record_session(case, date=case.start_date, status="attended")
    # Answered already: the intake goes only with the check-in of the first sessions.
    intake.update(case, {"hopes": "To sleep better."})
    issued = services.issue_link(session, "alliance-brief", by=therapist)
    response = client.get(issued.path)
    assert response.context["inputs"] == 8  # three + an optional comment + four
    html = response.content.decode()
    assert html.count('type="radio"') == (3 + 4) * 11
    assert html.count("<textarea") == 1 and "(optional)" in html

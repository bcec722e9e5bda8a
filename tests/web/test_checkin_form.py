"""The public check-in form, end to end through Django's test client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils.html import escape

from alliance.web import instruments
from alliance.web.checkins.models import Administration, CheckinLink


def post_answers(client, path, answers, open_text=""):
    return client.post(path, {**{k: str(v) for k, v in answers.items()},
                              "more_helpful": open_text})


def test_opening_the_link_shows_the_form_with_sliders_anchors_and_the_open_question(client, issued):
    response = client.get(issued.path)
    assert response.status_code == 200
    html = response.content.decode()
    spec = instruments.form_spec(instruments.get_instrument("alliance-client"))
    for item in spec.items:
        assert escape(item.text) in html
        assert f'name="{item.id}"' in html
    assert html.count('type="range"') == len(spec.items)
    assert 'min="0" max="10" step="1"' in html
    assert "0 = Not really" in html and "10 = Very much" in html
    assert "What would make our work together more helpful for you?" in html
    assert 'for="id_bond1"' in html  # every slider has a label
    assert CheckinLink.objects.get().used_at is None


def test_the_form_page_is_not_cached_and_has_no_inline_script(client, issued):
    response = client.get(issued.path)
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert "<script>" not in response.content.decode()


def test_a_valid_submit_stores_scores_from_core_and_shows_thanks(client, issued, client_answers):
    response = post_answers(client, issued.path, client_answers, "Slower pace, please.")
    assert response.status_code == 302
    assert response["Location"] == "/c/thanks/"
    administration = Administration.objects.get()
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
    assert 'name="bond1"' in html and 'value="8"' in html
    assert 'value="9"' in html
    assert "Keep this text" in html
    assert Administration.objects.get().submitted_at is None
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
    assert Administration.objects.get().responses["bond1"] == 8.0


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
    assert Administration.objects.get().submitted_at is None


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
    assert Administration.objects.get().submitted_at is None


def test_the_form_works_without_javascript(client, issued):
    # Every field is a plain form control with a name and a server-rendered value.
    html = client.get(issued.path).content.decode()
    assert 'method="post"' in html
    assert 'value="5"' in html  # sliders start in the middle of 0–10
    assert '<button type="submit"' in html


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


def test_the_value_beside_a_slider_is_for_the_eye_only_not_a_live_region(client, issued):
    html = client.get(issued.path).content.decode()
    # The slider announces "7 out of 10" itself (aria-valuetext); the number beside it
    # must not be announced again as a status.
    assert "<output" not in html and 'role="status"' not in html.split("<form")[1]
    assert '<span class="slider-value" id="id_bond1_value" aria-hidden="true">5</span>' in html

"""Link (token) pages: every unknown, used or expired link is audited, and one address that
opens too many (or too many pages in a minute) gets a 429 page; portal sign-in links work
once, for at most 20 minutes, and asking for one answers the same for any address."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts_helpers import events
from alliance.web.portal import services as portal
from alliance.web.portal.models import SignInLink

MADE_UP = "x" * 43


@pytest.fixture(autouse=True)
def limits(settings, db):
    cache.clear()
    settings.PASSWORD_RESET_ANSWER_SECONDS = 0
    settings.TOKEN_INVALID_PER_HOUR = 3
    settings.TOKEN_REQUESTS_PER_MINUTE = 8


def test_the_documented_defaults():
    from alliance.web import settings as production

    assert production.TOKEN_REQUESTS_PER_MINUTE == 10
    assert production.TOKEN_INVALID_PER_HOUR == 20
    assert production.CACHES["default"]["BACKEND"].endswith("DatabaseCache")


def test_an_unknown_check_in_link_is_an_audit_event(client):
    assert client.get(f"/c/{MADE_UP}/").status_code == 404
    (event,) = events("token_invalid")
    assert event.outcome == "failure" and "checkins:form" in event.detail
    assert event.address == "127.0.0.1"
    assert MADE_UP not in event.detail


def test_a_made_up_set_password_link_is_an_audit_event(client):
    response = client.get(reverse("password_set", args=["MQ", "not-a-token"]), follow=True)
    assert response.context["validlink"] is False
    assert events("token_invalid")


def test_a_working_check_in_link_is_no_audit_event_of_guessing(client, issued):
    assert client.get(issued.path).status_code == 200
    assert not events("token_invalid")


def test_after_three_bad_links_one_address_gets_429_even_for_a_good_link(client, issued):
    for _ in range(3):
        assert client.get(f"/c/{MADE_UP}/").status_code == 404
    response = client.get(issued.path)
    assert response.status_code == 429
    assert "links are paused" in response.content.decode()
    assert int(response["Retry-After"]) > 0
    # Another address is not affected.
    assert Client(REMOTE_ADDR="198.51.100.7").get(issued.path).status_code == 200


def test_opening_good_links_is_not_limited(client, issued):
    assert {client.get(issued.path).status_code for _ in range(12)} == {200}


def test_too_many_requests_for_a_link_in_a_minute_get_429(client):
    forgot = reverse("accounts:password_forgot")
    statuses = [client.post(forgot, {"email": "someone@example.org"}).status_code
                for _ in range(9)]
    assert statuses[:8] == [302] * 8
    assert statuses[8] == 429
    assert "wait a minute" in client.post(forgot, {"email": "a@example.org"}).content.decode()
    assert Client(REMOTE_ADDR="198.51.100.7").post(
        forgot, {"email": "someone@example.org"}).status_code == 302


def test_bad_portal_sign_in_links_count_too(client):
    for _ in range(3):
        assert client.get(reverse("portal:sign_in_link", args=[MADE_UP])).status_code == 404
    assert client.get(f"/c/{MADE_UP}/").status_code == 429
    assert len(events("token_invalid")) == 3


# --------------------------------------------------------------------------- portal links

@pytest.fixture
def account(clinic, case, therapist):
    clinic.client_portal_enabled = True
    clinic.save()
    return portal.invite(case, by=therapist)


def _token():
    return mail.outbox[-1].body.split("/portal/sign-in/")[1].split("/")[0]


def test_a_portal_sign_in_link_signs_in_once(client, account):
    portal.request_sign_in_link(account.client.contact_email)
    path = reverse("portal:sign_in_link", args=[_token()])
    assert client.post(path).status_code == 302
    again = Client().post(path)
    assert again.status_code == 410
    assert events("token_invalid")


def test_a_portal_sign_in_link_lives_twenty_minutes_at_most(account, settings):
    settings.PORTAL_SIGN_IN_LINK_MINUTES = 60
    portal.request_sign_in_link(account.client.contact_email)
    link = SignInLink.objects.get(account=account)
    assert link.expires_at - link.created_at <= dt.timedelta(minutes=20)
    later = timezone.now() + dt.timedelta(minutes=21)
    with pytest.raises(portal.LinkExpired):
        portal.use_sign_in_link(_token(), now=later)


def test_asking_for_a_portal_link_answers_the_same_for_an_unknown_address(client, account):
    url = reverse("portal:sign_in")
    known = client.post(url, {"method": "link", "link-email": account.client.contact_email})
    unknown = Client().post(url, {"method": "link", "link-email": "stranger@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 2  # the invitation and one sign-in link

"""Forgotten passwords: a staff reset link works once, for at most 20 minutes, and asking
gives the same answer, after about the same time, for any address."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts_helpers import events, sign_in
from alliance.web.accounts.tokens import StaffPasswordResetTokenGenerator
from alliance.web.clinics import services as clinic_services

FORGOT = reverse("accounts:password_forgot")
NEW = "a fresh sentence I will remember"


@pytest.fixture(autouse=True)
def quick_answer(settings):
    settings.PASSWORD_RESET_ANSWER_SECONDS = 0.05


def ask(client, email):
    return client.post(FORGOT, {"email": email})


def link_in(message) -> str:
    return re.search(r"http://testserver(/account/password/reset/\S+/)", message.body).group(1)


def choose(client, link, password=NEW):
    page = client.get(link, follow=True)
    if not page.context or not page.context.get("validlink"):
        return page
    return client.post(page.redirect_chain[-1][0] if page.redirect_chain else link,
                       {"new_password1": password, "new_password2": password})


def test_a_therapist_who_forgot_their_password_chooses_a_new_one(client, therapist):
    response = ask(client, therapist.user.email.upper())
    assert response["Location"] == reverse("accounts:password_forgot_sent")
    (message,) = mail.outbox
    assert message.to == [therapist.user.email]
    assert "20 minutes" in message.body
    done = choose(client, link_in(message))
    assert done.status_code == 302 and done["Location"] == reverse("password_set_done")
    assert sign_in(Client(), therapist, NEW).status_code == 302
    assert events("password_reset_requested", outcome="success")
    assert events("password_changed", target_id=str(therapist.user.pk))


def test_a_reset_link_works_once(client, therapist):
    ask(client, therapist.user.email)
    link = link_in(mail.outbox[0])
    choose(client, link)
    again = choose(Client(), link, "yet another sentence to remember")
    assert again.status_code == 200 and "no longer works" in again.content.decode()
    therapist.user.refresh_from_db()
    assert therapist.user.check_password(NEW)


def _token_made(minutes_ago, user):
    class Then(StaffPasswordResetTokenGenerator):
        def _now(self):
            return dt.datetime.now() - dt.timedelta(minutes=minutes_ago)
    return Then().make_token(user)


def _reset_url(user, token):
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return reverse("accounts:password_reset",
                   args=[urlsafe_base64_encode(force_bytes(user.pk)), token])


def test_a_reset_link_expires_after_twenty_minutes(client, therapist):
    fresh = client.get(_reset_url(therapist.user, _token_made(19, therapist.user)), follow=True)
    assert fresh.context["validlink"] is True
    stale = Client().get(_reset_url(therapist.user, _token_made(21, therapist.user)),
                         follow=True)
    assert stale.context["validlink"] is False
    assert "20 minutes" in stale.content.decode()


def test_an_invitation_link_is_not_a_reset_link_and_a_reset_link_is_no_invitation(
        client, therapist):
    invitation = default_token_generator.make_token(therapist.user)
    page = client.get(_reset_url(therapist.user, invitation), follow=True)
    assert page.context["validlink"] is False
    ask(client, therapist.user.email)
    reset_token = link_in(mail.outbox[0]).rstrip("/").rsplit("/", 1)[1]
    assert not default_token_generator.check_token(therapist.user, reset_token)


def test_invitations_keep_their_longer_validity(settings, therapist):
    assert settings.PASSWORD_RESET_TIMEOUT == 72 * 3600
    path = clinic_services.set_password_path(therapist.user)
    assert Client().get(path, follow=True).context["validlink"] is True


def test_an_unknown_address_gets_the_same_answer_and_no_e_mail(client, therapist):
    known = ask(client, therapist.user.email)
    unknown = ask(Client(), "nobody@nowhere.example")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    assert events("password_reset_requested", outcome="failure")


def test_known_and_unknown_addresses_take_about_the_same_time(client, therapist, settings):
    settings.PASSWORD_RESET_ANSWER_SECONDS = 0.4

    def timed(email):
        started = time.monotonic()
        ask(Client(), email)
        return time.monotonic() - started

    known = [timed(therapist.user.email) for _ in range(2)]
    unknown = [timed("nobody@nowhere.example") for _ in range(2)]
    assert min(known + unknown) >= 0.4
    assert abs(sum(known) / 2 - sum(unknown) / 2) < 0.15


def test_client_portal_accounts_and_deactivated_staff_get_no_staff_reset_link(
        client, clinic, case, therapist, admin, other_therapist):
    from alliance.web.portal import services as portal

    clinic.client_portal_enabled = True
    clinic.save()
    portal.invite(case, by=therapist)
    mail.outbox.clear()
    ask(client, case.client.contact_email)
    clinic_services.deactivate(other_therapist, by=admin)
    ask(client, other_therapist.user.email)
    assert mail.outbox == []


def test_a_bad_address_is_answered_with_the_form_and_its_error(client, db):
    response = ask(client, "not an address")
    assert response.status_code == 400
    assert "valid email" in response.content.decode()

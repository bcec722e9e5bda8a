"""Sessions: idle and absolute timeouts on the server, and ending them everywhere."""

from __future__ import annotations

import time

from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from accounts_helpers import events, sign_in
from alliance.web.accounts import sessions
from alliance.web.accounts.models import UserSession

CASELOAD = reverse("care:caseload")


def age(client, **seconds_ago):
    """Move the session's timestamps into the past, as if time had passed."""
    session = client.session
    for key, ago in seconds_ago.items():
        session[getattr(sessions, key)] = time.time() - ago
    session.save()


def test_the_defaults_are_fifteen_minutes_idle_and_twelve_hours_in_all(settings):
    assert settings.SESSION_IDLE_MINUTES == 15
    assert settings.SESSION_ABSOLUTE_HOURS == 12
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


def test_a_therapist_idle_for_sixteen_minutes_is_signed_out_kindly(client, therapist):
    client.force_login(therapist.user)
    key = client.session.session_key
    age(client, LAST_SEEN=16 * 60)
    response = client.get(CASELOAD)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "next=/cases/" in response["Location"]
    message = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("nothing happened for 15 minutes" in m for m in message)
    assert not Session.objects.filter(session_key=key).exists()
    assert not UserSession.objects.filter(session_key=key).exists()
    (expired,) = events("session_expired")
    assert expired.actor_id == therapist.user.pk and "idle" in expired.detail
    assert client.get(CASELOAD)["Location"].startswith(reverse("login"))


def test_a_therapist_active_within_the_idle_time_stays_signed_in(client, therapist):
    client.force_login(therapist.user)
    age(client, LAST_SEEN=14 * 60)
    assert client.get(CASELOAD).status_code == 200
    # The request counted as activity: the clock starts again.
    assert time.time() - client.session[sessions.LAST_SEEN] < 5


def test_twelve_hours_after_signing_in_the_session_ends_even_when_active(client, therapist):
    client.force_login(therapist.user)
    age(client, STARTED=12 * 3600 + 60, LAST_SEEN=10)
    response = client.get(CASELOAD)
    assert response["Location"].startswith(reverse("login"))
    assert "12 hours" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_a_portal_client_who_timed_out_goes_to_the_portal_sign_in(client, clinic, case,
                                                                  therapist):
    from alliance.web.portal import services as portal

    clinic.client_portal_enabled = True
    clinic.save()
    account = portal.invite(case, by=therapist)
    client.force_login(account.user)
    age(client, LAST_SEEN=20 * 60)
    response = client.get(reverse("portal:home"))
    assert response["Location"].startswith(reverse("portal:sign_in"))


def test_the_timeouts_follow_the_settings(client, therapist, settings):
    settings.SESSION_IDLE_MINUTES = 60
    client.force_login(therapist.user)
    age(client, LAST_SEEN=30 * 60)
    assert client.get(CASELOAD).status_code == 200


def test_signing_out_ends_the_sessions_on_every_device(client, therapist):
    laptop, phone = Client(), Client()
    laptop.force_login(therapist.user)
    phone.force_login(therapist.user)
    assert UserSession.objects.filter(user=therapist.user).count() == 2
    laptop.post(reverse("logout"))
    assert phone.get(CASELOAD)["Location"].startswith(reverse("login"))
    assert not UserSession.objects.filter(user=therapist.user).exists()


def test_signing_out_leaves_colleagues_signed_in(client, therapist, other_therapist):
    colleague = Client()
    colleague.force_login(other_therapist.user)
    client.force_login(therapist.user)
    client.post(reverse("logout"))
    assert colleague.get(CASELOAD).status_code == 200


def test_deactivating_a_therapist_ends_their_sessions_at_once(client, admin, therapist):
    therapists_laptop = Client()
    sign_in(therapists_laptop, therapist)
    key = therapists_laptop.session.session_key
    client.force_login(admin.user)
    response = client.post(reverse("clinics:staff_deactivate", args=[therapist.pk]))
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()
    assert therapists_laptop.get(CASELOAD)["Location"].startswith(reverse("login"))


def test_a_session_whose_key_changed_is_still_ended_by_signing_out(client, therapist):
    phone = Client()
    phone.force_login(therapist.user)
    client.force_login(therapist.user)
    new = "another long sentence to remember"
    # Changing the password gives this session a new key (and ends the phone's session).
    client.post(reverse("password_change"), {"new_password1": new, "new_password2": new})
    client.get(CASELOAD)
    phone.force_login(therapist.user)
    client.post(reverse("logout"))
    assert phone.get(CASELOAD)["Location"].startswith(reverse("login"))
    assert not UserSession.objects.filter(user=therapist.user).exists()


def test_changing_the_password_asks_for_it_again_after_five_minutes(client, therapist):
    client.force_login(therapist.user)
    age(client, REAUTH_AT=6 * 60)
    response = client.get(reverse("password_change"))
    assert response["Location"].startswith(reverse("accounts:reauth"))
    assert "next=%2Fpassword%2Fchange%2F" in response["Location"]

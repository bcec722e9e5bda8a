"""Two-factor sign-in (TOTP) for staff: enrolment, the second step, its limits, and reset."""

from __future__ import annotations

import os
import time

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts_helpers import PASSWORD, code_for, events, sign_in
from alliance.web.accounts import sessions

SETUP = reverse("accounts:two_factor_setup")
VERIFY = reverse("accounts:two_factor_verify")


@pytest.fixture(autouse=True)
def staff_2fa(settings):
    settings.STAFF_2FA = True


def enrol(client, member):
    """Sign in with the password and enrol an app; returns the confirmed device."""
    assert sign_in(client, member).status_code == 302
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=member.user)
    response = client.post(SETUP, {"code": code_for(device)})
    assert response.status_code == 302, response.content.decode()
    device.refresh_from_db()
    return device


def test_production_settings_require_two_factor_for_staff_and_the_demo_does_not(tmp_path):
    from alliance.cli.demo import demo_environment
    from alliance.web import settings as production

    if os.environ.get("ALLIANCE_STAFF_2FA") is None:
        assert production.STAFF_2FA is True
    assert demo_environment(tmp_path, "127.0.0.1", 8000)["ALLIANCE_STAFF_2FA"] == "false"


def test_after_the_password_a_therapist_reaches_only_the_two_factor_pages(client, therapist):
    sign_in(client, therapist)
    response = client.get(reverse("care:caseload"))
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)
    assert client.get(reverse("password_change"))["Location"].startswith(SETUP)
    assert client.get(reverse("clinics:staff"))["Location"].startswith(SETUP)
    assert client.get(SETUP).status_code == 200
    assert client.post(reverse("logout")).status_code == 302


def test_the_enrolment_page_shows_a_qr_code_and_the_secret(client, therapist):
    sign_in(client, therapist)
    response = client.get(SETUP)
    text = response.content.decode()
    device = TOTPDevice.objects.get(user=therapist.user, confirmed=False)
    svg = text[text.index("<svg"):text.index("</svg>")]
    assert "<path" in svg and "script" not in svg and "http" not in svg.replace(
        "http://www.w3.org/2000/svg", "")
    import base64
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert secret[:4] + " " + secret[4:8] in text


def test_a_therapist_enrols_an_app_and_then_reaches_their_pages(client, therapist):
    device = enrol(client, therapist)
    assert device.confirmed
    assert client.get(reverse("care:caseload")).status_code == 200
    (enrolled,) = events("otp_enrolled")
    assert enrolled.actor_id == therapist.user.pk


def test_a_wrong_enrolment_code_confirms_nothing(client, therapist):
    sign_in(client, therapist)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=therapist.user)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(SETUP, {"code": wrong})
    assert response.status_code == 400
    assert "did not match" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get(reverse("care:caseload")).status_code == 302


def test_next_time_the_therapist_signs_in_with_password_and_code(client, therapist):
    device = enrol(client, therapist)
    client.post(reverse("logout"))
    sign_in(client, therapist)
    caseload = client.get(reverse("care:caseload"))
    assert caseload["Location"].startswith(VERIFY)
    response = client.post(VERIFY + "?next=/cases/",
                           {"code": code_for(device, steps_ahead=1), "next": "/cases/"})
    assert response.status_code == 302 and response["Location"] == "/cases/"
    assert client.get(reverse("care:caseload")).status_code == 200
    assert events("otp_verified")


def test_a_wrong_code_at_sign_in_is_refused_and_audited(client, therapist):
    device = enrol(client, therapist)
    client.post(reverse("logout"))
    sign_in(client, therapist)
    wrong = f"{(int(code_for(device, steps_ahead=1)) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 400
    assert client.get(reverse("care:caseload")).status_code == 302
    assert events("otp_failed", outcome="failure")


def test_a_code_is_used_once(client, therapist):
    device = enrol(client, therapist)
    client.post(reverse("logout"))
    sign_in(client, therapist)
    device.refresh_from_db()
    # The code of the period whose code confirmed the enrolment.
    seconds_ago = time.time() - (device.t0 + device.last_t * device.step)
    used = code_for(device, steps_ahead=-(seconds_ago // device.step))
    assert client.post(VERIFY, {"code": used}).status_code == 400
    assert client.get(reverse("care:caseload")).status_code == 302


def test_repeated_wrong_codes_are_slowed_down(client, therapist):
    device = enrol(client, therapist)
    client.post(reverse("logout"))
    sign_in(client, therapist)
    wrong = f"{(int(code_for(device, steps_ahead=1)) + 1) % 1_000_000:06d}"
    for _ in range(3):
        client.post(VERIFY, {"code": wrong})
    response = client.post(VERIFY, {"code": code_for(device, steps_ahead=1)})
    assert response.status_code == 400
    assert "wait" in response.content.decode()


def test_with_only_the_password_nobody_can_enrol_a_new_app(client, therapist):
    enrol(client, therapist)
    client.post(reverse("logout"))
    sign_in(client, therapist)
    response = client.get(SETUP)
    assert response["Location"].startswith(VERIFY)
    assert TOTPDevice.objects.filter(user=therapist.user).count() == 1


def test_replacing_the_app_asks_for_the_password_after_five_minutes(client, therapist):
    enrol(client, therapist)
    session = client.session
    session[sessions.REAUTH_AT] = time.time() - 6 * 60
    session.save()
    response = client.get(SETUP)
    assert response["Location"].startswith(reverse("accounts:reauth"))
    wrong = client.post(response["Location"], {"password": "not my password", "next": SETUP})
    assert wrong.status_code == 400
    right = client.post(response["Location"], {"password": PASSWORD, "next": SETUP})
    assert right["Location"] == SETUP
    page = client.get(SETUP)
    assert page.status_code == 200 and "new app" in page.content.decode()


def test_client_portal_accounts_are_never_asked_for_a_second_factor(client, clinic, case,
                                                                    therapist):
    from alliance.web.portal import services as portal

    clinic.client_portal_enabled = True
    clinic.save()
    account = portal.invite(case, by=therapist)
    client.force_login(account.user)
    assert client.get(reverse("portal:home")).status_code == 200
    assert client.get(SETUP).status_code == 403


def test_an_administrator_resets_a_colleagues_second_factor(client, admin, therapist):
    therapist_device = Client()
    enrol(therapist_device, therapist)
    enrol(client, admin)
    response = client.post(reverse("accounts:staff_two_factor_reset", args=[therapist.pk]))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=therapist.user).exists()
    assert not Session.objects.filter(
        session_key=therapist_device.session.session_key).exists()
    (reset,) = events("otp_reset")
    assert reset.actor_id == admin.user.pk and reset.target_id == str(therapist.pk)
    # The therapist's next sign-in starts a new enrolment.
    sign_in(therapist_device, therapist)
    assert therapist_device.get(reverse("care:caseload"))["Location"].startswith(SETUP)


def test_another_clinics_administrator_cannot_reset_the_therapists_second_factor(
        client, other_admin, therapist):
    enrol(Client(), therapist)
    enrol(client, other_admin)
    response = client.post(reverse("accounts:staff_two_factor_reset", args=[therapist.pk]))
    assert response.status_code == 404
    assert TOTPDevice.objects.filter(user=therapist.user, confirmed=True).exists()


def test_the_staff_page_offers_the_reset_for_colleagues_but_not_for_oneself(client, admin,
                                                                          therapist):
    enrol(client, admin)
    colleague = client.get(reverse("clinics:staff_edit", args=[therapist.pk])).content.decode()
    assert reverse("accounts:staff_two_factor_reset", args=[therapist.pk]) in colleague
    own = client.get(reverse("clinics:staff_edit", args=[admin.pk])).content.decode()
    assert reverse("accounts:staff_two_factor_reset", args=[admin.pk]) not in own

"""Lock-out after repeated failed sign-ins (django-axes), per e-mail address and address."""

from __future__ import annotations

from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from accounts_helpers import PASSWORD, events, sign_in

WRONG = "not the password at all"


def fail(client, member, times, **extra):
    return [sign_in(client, member, WRONG, **extra).status_code for _ in range(times)]


def test_the_documented_threshold_is_five_failures_and_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_five_wrong_passwords_lock_the_account_at_this_address_with_a_kind_page(
        client, therapist):
    statuses = fail(client, therapist, 5)
    assert statuses[:4] == [200] * 4  # the form again, with its error
    assert statuses[4] == 429
    response = sign_in(client, therapist)  # even the right password now
    assert response.status_code == 429
    text = response.content.decode()
    assert "paused" in text and "15 minutes" in text
    assert len(events("login_failed")) >= 5
    assert events("lockout", outcome="denied")
    assert not client.session.get("_auth_user_id")


def test_the_lock_holds_one_address_and_not_another(client, therapist):
    fail(client, therapist, 5)
    elsewhere = sign_in(client, therapist, REMOTE_ADDR="192.0.2.44")
    assert elsewhere.status_code == 302


def test_a_lock_does_not_touch_colleagues(client, therapist, other_therapist):
    fail(client, therapist, 5)
    assert sign_in(client, other_therapist).status_code == 302


def test_after_the_cool_off_the_therapist_can_sign_in_again(client, therapist):
    fail(client, therapist, 5)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time
                                 - timedelta(minutes=16))
    assert sign_in(client, therapist).status_code == 302


def test_an_administrator_unlocks_with_axes_reset_username(client, therapist):
    fail(client, therapist, 5)
    call_command("axes_reset_username", therapist.user.username)
    assert sign_in(client, therapist).status_code == 302


def test_a_successful_sign_in_forgets_earlier_failures(client, therapist):
    fail(client, therapist, 4)
    assert sign_in(client, therapist).status_code == 302
    client.post(reverse("logout"))
    assert fail(client, therapist, 4) == [200] * 4


def test_signing_in_and_out_are_audited(client, therapist):
    sign_in(client, therapist)
    client.post(reverse("logout"))
    (login,) = events("login")
    (logout,) = events("logout")
    assert login.actor_id == logout.actor_id == therapist.user.pk
    assert login.address == "127.0.0.1"


def test_a_wrong_password_is_audited_with_the_address_typed(client, therapist):
    sign_in(client, therapist, WRONG)
    (failed,) = events("login_failed")
    assert failed.outcome == "failure"
    assert failed.actor_name == therapist.user.email
    assert PASSWORD not in failed.detail

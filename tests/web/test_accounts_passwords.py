"""Staff passwords: Argon2 in production, older hashes upgraded, passphrase-friendly rules."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse

from accounts_helpers import PASSWORD, sign_in
from alliance.web import settings as production


def test_production_settings_hash_new_passwords_with_argon2():
    assert production.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS):
        assert make_password("a long test password").startswith("argon2$argon2id$")


def test_an_older_hash_is_upgraded_to_argon2_when_the_therapist_signs_in(client, therapist):
    assert therapist.user.password.startswith("md5$")  # the test settings' fast hasher
    with override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS
                           + ["django.contrib.auth.hashers.MD5PasswordHasher"]):
        response = sign_in(client, therapist)
    assert response.status_code == 302
    therapist.user.refresh_from_db()
    assert therapist.user.password.startswith("argon2$")


def test_a_long_passphrase_with_spaces_is_accepted(therapist):
    passphrase = ("the heron waits by the grey river while the kettle sings "
                  "in the quiet kitchen at dawn")
    assert len(passphrase) > 64
    validate_password(passphrase, therapist.user)


@pytest.mark.parametrize("password", ["password1234", "qwertyuiop123", "short pass"])
def test_common_or_short_passwords_are_refused(therapist, password):
    with pytest.raises(ValidationError):
        validate_password(password, therapist.user)


def test_a_therapist_can_sign_in_with_a_long_passphrase(client, clinic):
    from alliance.web.clinics import services as clinic_services

    member = clinic_services.add_staff(clinic, email="long@riverside.example",
                                       display_name="Long", role="therapist")
    passphrase = "x " * 60 + "the end of a very long sentence"
    member.user.set_password(passphrase)
    member.user.save()
    response = sign_in(client, member, password=passphrase)
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_changing_the_password_saves_the_new_one_and_signs_out_other_devices(
        client, therapist, django_user_model):
    from django.test import Client

    other_device = Client()
    other_device.force_login(therapist.user)
    client.force_login(therapist.user)
    new = "a brand new sentence to remember"
    response = client.post(reverse("password_change"),
                           {"new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert get_user_model().objects.get(pk=therapist.user.pk).check_password(new)
    assert client.get(reverse("care:caseload")).status_code == 200
    assert other_device.get(reverse("care:caseload")).status_code == 302


def test_a_password_change_refused_by_the_rules_keeps_the_old_password(client, therapist):
    client.force_login(therapist.user)
    response = client.post(reverse("password_change"),
                           {"new_password1": "password1234", "new_password2": "password1234"})
    assert response.status_code == 200
    assert b"too common" in response.content
    therapist.user.refresh_from_db()
    assert therapist.user.check_password(PASSWORD)

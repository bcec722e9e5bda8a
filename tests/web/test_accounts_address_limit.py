"""Failed sign-ins counted per client address for any e-mail addresses (staff and client
portal), and which address counts: X-Forwarded-For only behind a proxy (off by default)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from alliance.web.audit.services import client_address
from alliance.web.portal import services as portal

from accounts_helpers import PASSWORD, sign_in

LIMIT = 20


@pytest.fixture(autouse=True)
def address_limit(db):
    cache.clear()
    with override_settings(LOCKOUT_ADDRESS_FAILURES=LIMIT):
        yield
    cache.clear()


def try_many_addresses(client, count, **extra):
    return [sign_in(client, f"guess{k}@clinic.example", "not the password", **extra).status_code
            for k in range(count)]


def test_twenty_e_mail_addresses_tried_from_one_address_pause_it_for_every_account(
        client, therapist):
    statuses = try_many_addresses(client, LIMIT)
    assert statuses == [200] * LIMIT  # each pair failed once: django-axes alone never pauses
    response = sign_in(client, therapist)  # a real account with its right password
    assert response.status_code == 429
    text = response.content.decode()
    assert "from this connection, for any accounts" in text and "15 minutes" in text
    assert not client.session.get("_auth_user_id")
    # Another address is not affected.
    assert sign_in(client, therapist, REMOTE_ADDR="192.0.2.44").status_code == 302


def test_fewer_failures_than_the_limit_do_not_pause_the_address(client, therapist):
    try_many_addresses(client, LIMIT - 1)
    assert sign_in(client, therapist).status_code == 302


def test_the_client_portal_counts_the_same_failures_per_address(clinic, case, therapist,
                                                                 client):
    clinic.client_portal_enabled = True
    clinic.save()
    account = portal.invite(case, by=therapist)
    account.user.set_password(PASSWORD)
    account.user.save()

    def portal_sign_in(email, password, **extra):
        return client.post(reverse("portal:sign_in"), {
            "method": "password", "password-email": email, "password-password": password},
            **extra)

    statuses = [portal_sign_in(f"guess{k}@example.org", "wrong").status_code
                for k in range(LIMIT)]
    assert statuses == [400] * LIMIT
    assert portal_sign_in("client@example.org", PASSWORD).status_code == 429
    assert portal_sign_in("client@example.org", PASSWORD,
                          REMOTE_ADDR="192.0.2.77").status_code == 302


def test_a_forged_forwarded_address_does_not_escape_the_count_by_default(client, therapist):
    statuses = [sign_in(client, f"guess{k}@clinic.example", "wrong",
                        HTTP_X_FORWARDED_FOR=f"198.51.100.{k}").status_code
                for k in range(LIMIT)]
    assert statuses == [200] * LIMIT
    assert sign_in(client, therapist, HTTP_X_FORWARDED_FOR="198.51.100.250").status_code == 429


def test_behind_a_proxy_the_address_it_appended_counts(client, therapist):
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        try_many_addresses(client, LIMIT, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
        # The proxy's own address (REMOTE_ADDR) is shared by everyone: it is not paused.
        assert sign_in(client, therapist, HTTP_X_FORWARDED_FOR="203.0.113.10").status_code \
            == 302
        client.logout()
        assert sign_in(client, therapist, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code \
            == 429


def test_client_address_trusts_the_header_only_behind_a_proxy(rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
    with override_settings(SECURE_PROXY_SSL_HEADER=None):
        assert client_address(request) == "10.0.0.2"
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        assert client_address(request) == "203.0.113.9"


def proxy_header(**env) -> str:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("ALLIANCE_", "DJANGO_", "DATABASE_URL"))}
    clean.update(ALLIANCE_SECRET_KEY="x" * 50, ALLIANCE_ENCRYPTION_KEYS=
                 "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY=", ALLIANCE_DEBUG="false",
                 ALLIANCE_HTTPS="true", **env)
    done = subprocess.run([sys.executable, "-c", "from alliance.web import settings as s; "
                           "print(getattr(s, 'SECURE_PROXY_SSL_HEADER', None))"],
                          env=clean, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_proxy_headers_are_trusted_only_when_asked_for(tmp_path):
    assert proxy_header(ALLIANCE_DATA_DIR=str(tmp_path)) == "None"
    assert proxy_header(ALLIANCE_DATA_DIR=str(tmp_path), ALLIANCE_BEHIND_PROXY="true") == \
        "('HTTP_X_FORWARDED_PROTO', 'https')"

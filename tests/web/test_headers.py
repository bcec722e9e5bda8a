"""Security headers: the enforced Content Security Policy, its start-up checks, and
`Cache-Control: no-store` on every page of the access matrix."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from alliance.web.checks import check_content_security_policy, check_no_store, unsafe_sources
from alliance.web.headers import is_no_store

import test_access_matrix as matrix
from _pytest.fixtures import getfixturemarker

# The access matrix's rows and world: every URL of the site, for every role. Its fixtures
# (the world and the roles it defines) are made available here under the same names.
MATRIX, ROLES = matrix.MATRIX, matrix.ROLES
globals().update({name: value for name, value in vars(matrix).items()
                  if getfixturemarker(value) is not None})

DIRECTIVES = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
WITHOUT_CSP = [m for m in settings.MIDDLEWARE if m != "csp.middleware.CSPMiddleware"]
WITHOUT_NO_STORE = [m for m in settings.MIDDLEWARE
                    if m != "alliance.web.headers.NoStoreMiddleware"]


def with_directive(name, *sources):
    return {"DIRECTIVES": {**DIRECTIVES, name: list(sources)}}


def ids(messages):
    return [m.id for m in messages]


def test_the_configured_policy_passes_the_checks():
    assert check_content_security_policy() == []
    assert check_no_store() == []


@pytest.mark.parametrize("policy, where", [
    (with_directive("script-src", "'self'", "'unsafe-inline'"), "script-src"),
    (with_directive("style-src", "'self'", "'unsafe-inline'"), "style-src"),
    (with_directive("script-src", "'self'", "'unsafe-eval'"), "script-src"),
    (with_directive("style-src-attr", "'UNSAFE-INLINE'"), "style-src-attr"),
    # Without script-src, scripts fall back to default-src.
    ({"DIRECTIVES": {"default-src": ["'self'", "'unsafe-inline'"]}}, "default-src"),
])
def test_production_refuses_a_policy_that_lets_inline_code_run(policy, where):
    with override_settings(DEBUG=False, CONTENT_SECURITY_POLICY=policy):
        errors = check_content_security_policy()
        assert "alliance.csp.E002" in ids(errors)
        assert any(where in e.msg for e in errors)
        with pytest.raises(SystemCheckError, match="alliance.csp.E002"):
            call_command("check")


def test_production_refuses_to_run_without_the_csp_middleware():
    with override_settings(DEBUG=False, MIDDLEWARE=WITHOUT_CSP):
        assert ids(check_content_security_policy()) == ["alliance.csp.E001"]
        with pytest.raises(SystemCheckError, match="alliance.csp.E001"):
            call_command("check")


def test_production_refuses_a_report_only_policy_alone():
    report_only = {"DIRECTIVES": DIRECTIVES}
    with override_settings(DEBUG=False, CONTENT_SECURITY_POLICY={},
                           CONTENT_SECURITY_POLICY_REPORT_ONLY=report_only):
        assert ids(check_content_security_policy()) == ["alliance.csp.E001"]


def test_production_refuses_to_run_without_the_no_store_middleware():
    with override_settings(DEBUG=False, MIDDLEWARE=WITHOUT_NO_STORE):
        with pytest.raises(SystemCheckError, match="alliance.cache.E001"):
            call_command("check")


def test_development_may_try_a_looser_policy():
    policy = with_directive("script-src", "'self'", "'unsafe-inline'")
    with override_settings(DEBUG=True, CONTENT_SECURITY_POLICY=policy, MIDDLEWARE=WITHOUT_CSP):
        assert check_content_security_policy() == []


def test_a_nonce_or_a_hash_is_not_unsafe():
    assert unsafe_sources({"script-src": ["'self'", "'nonce-abc'", "'sha256-xyz'"],
                           "style-src": "'self'"}) == {}


def test_responses_carry_the_enforced_policy_from_the_settings(client, db):
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "Content-Security-Policy-Report-Only" not in response


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_page_of_the_site_is_no_store_for_every_role(name, world, client, request):
    row = MATRIX[name]
    cached = []
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(request.getfixturevalue(role).user)
        response = getattr(client, row.method)(row.url(world), row.data)
        if not is_no_store(response.get("Cache-Control", "")):
            cached.append(f"{role} ({response.status_code}): {response.get('Cache-Control')}")
    assert not cached, f"{row.method.upper()} {name} may be cached: " + "; ".join(cached)


def test_error_pages_and_unknown_addresses_are_no_store(client, db):
    assert is_no_store(client.get("/no/such/page/")["Cache-Control"])
    assert is_no_store(client.get("/c/not-a-real-link/")["Cache-Control"])


def test_static_files_keep_their_cache(client):
    # Served by WhiteNoise above the no-store middleware (in production, hashed names are
    # cached for a year as immutable: tests/web/test_crash.py checks that on gunicorn).
    response = client.get("/static/alliance/css/alliance.css")
    assert response.status_code == 200
    assert not is_no_store(response["Cache-Control"])
    assert "max-age=" in response["Cache-Control"]
    b"".join(response.streaming_content)


def test_a_view_asking_for_a_cache_still_gets_no_store(rf):
    from django.http import HttpResponse

    from alliance.web.headers import NoStoreMiddleware

    def view(request):
        response = HttpResponse("client data")
        response["Cache-Control"] = "public, max-age=3600"
        return response

    response = NoStoreMiddleware(view)(rf.get("/"))
    assert is_no_store(response["Cache-Control"])
    assert "public" not in response["Cache-Control"]
    assert "max-age=0" in response["Cache-Control"]


DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb", "serial", "hid",
                   "bluetooth", "midi", "display-capture")


def denies_devices(response) -> bool:
    policy = {part.strip().split("=")[0]: part.strip().split("=", 1)[1]
              for part in response.get("Permissions-Policy", "").split(",") if "=" in part}
    return all(policy.get(feature) == "()" for feature in DENIED_FEATURES)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_every_page_of_the_site_denies_devices_for_every_role(name, world, client, request):
    row = MATRIX[name]
    allowed = []
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(request.getfixturevalue(role).user)
        response = getattr(client, row.method)(row.url(world), row.data)
        if not denies_devices(response):
            allowed.append(f"{role} ({response.status_code}): "
                           f"{response.get('Permissions-Policy')!r}")
    assert not allowed, f"{row.method.upper()} {name} lacks the policy: " + "; ".join(allowed)


def test_error_pages_and_static_files_deny_devices(client, db):
    assert denies_devices(client.get("/no/such/page/"))
    assert denies_devices(client.get("/c/not-a-real-link/"))
    static = client.get("/static/alliance/css/alliance.css")
    assert static.status_code == 200 and denies_devices(static)
    b"".join(static.streaming_content)

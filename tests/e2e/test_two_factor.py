"""A therapist sets up two-factor sign-in and then signs in with password and code.

The code is computed here from the secret the enrolment page shows (as an authenticator
app would from the QR code), with django-otp's TOTP: nothing is read from the database.
"""

from __future__ import annotations

import base64
import re
import time

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from browser_steps import DESKTOP, PASSWORD

pytestmark = pytest.mark.e2e


def app_code(secret: str, *, steps_ahead: int = 0) -> str:
    key = secret.replace(" ", "")
    key = base64.b32decode(key + "=" * (-len(key) % 8))
    totp = TOTP(key, 30, 0, 6, 0)
    totp.time = time.time() + 30 * steps_ahead
    return f"{totp.token():06d}"


def password_step(page, email):
    page.goto("/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_therapist_enrols_an_authenticator_app_and_signs_in_with_a_code(
        open_context, riverside, settings, screenshot):
    settings.STAFF_2FA = True
    page = open_context(**DESKTOP)
    email = riverside.therapist.user.email

    password_step(page, email)
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.get_by_role("img", name="QR code to scan with your authenticator app")) \
        .to_be_visible()
    secret = page.locator("[data-secret]").inner_text()
    screenshot(page, "two-factor-enrolment")
    # Nothing else opens before the second factor is set up.
    page.goto("/cases/")
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()

    page.get_by_label("6-digit code from your authenticator app").fill(app_code(secret))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/cases/$"))
    expect(page.get_by_role("status")).to_contain_text("Two-factor sign-in is set up")

    page.locator("details.account > summary").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login/"))
    password_step(page, email)
    expect(page.get_by_role("heading", name="Type the code from your app")).to_be_visible()
    # The next period's code: the one that confirmed the app cannot be used twice.
    page.get_by_label("6-digit code from your authenticator app").fill(
        app_code(secret, steps_ahead=1))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/cases/$"))
    expect(page.get_by_role("heading", name="Caseload")).to_be_visible()

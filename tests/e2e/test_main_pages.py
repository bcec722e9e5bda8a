"""The main pages of a clinic in daily use (the demo clinic), on a laptop and on a phone.

Each page loads without a console or server error, every image (sparklines, charts) loads,
nothing needs sideways scrolling on a phone, and a full-page screenshot is saved in
test-artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from alliance.web import demo

from browser_steps import (DESKTOP, PASSWORD, PHONE, images_loaded, no_sideways_scroll,
                           sign_in)

pytestmark = pytest.mark.e2e

TODAY = dt.date(2026, 3, 16)


@pytest.fixture
def demo_clinic(transactional_db):
    return demo.seed_demo(PASSWORD, today=TODAY)


def signed_in(open_context, email: str, options: dict):
    page = open_context(**options)
    sign_in(page, email)
    return page


def check_page(page, screenshot, name: str, *, phone: bool = False) -> None:
    assert images_loaded(page) == [], f"images that did not load on {name}"
    if phone:
        assert no_sideways_scroll(page), f"{name} needs sideways scrolling on a phone"
    screenshot(page, name)


def test_the_main_pages_of_a_clinic_in_daily_use_load_cleanly_on_a_laptop_and_a_phone(
        demo_clinic, open_context, screenshot):
    page = open_context(**DESKTOP)
    page.goto("/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_page(page, screenshot, "login")

    therapist = demo.LOGINS[0]
    for options, suffix in ((DESKTOP, ""), (PHONE, "-phone")):
        page = signed_in(open_context, therapist.email, options)
        expect(page.get_by_role("heading", level=1)).to_have_text("Your caseload")
        check_page(page, screenshot, f"caseload{suffix}", phone=bool(suffix))
        # The case that needs attention most is first; open it.
        first = page.locator("tbody tr").first.get_by_role("link").first
        code = first.inner_text()
        first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(code)
        if not suffix:
            for summary in page.get_by_text("Show the numbers as a table").all():
                summary.click()
        check_page(page, screenshot, f"case-page{suffix}", phone=bool(suffix))
        if suffix:
            # Phones get the narrow charts, without JavaScript (<picture>).
            sources = page.evaluate("() => Array.from(document.querySelectorAll('img.chart'))"
                                    ".map(img => img.currentSrc)")
            assert sources and all(src.endswith("?size=narrow") for src in sources)

    supervisor = demo.LOGINS[1]
    page = signed_in(open_context, supervisor.email, DESKTOP)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Supervision").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Supervision")
    check_page(page, screenshot, "supervision")

    admin = demo.LOGINS[2]
    page = signed_in(open_context, admin.email, DESKTOP)
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff")
    check_page(page, screenshot, "staff")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("Clinic", exact=True).click()
    nav.get_by_role("link", name="Clinic settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Clinic settings")
    check_page(page, screenshot, "clinic-settings-demo")

"""The staff header: one row on a laptop, every page reachable from its menus, downloads
labelled as downloads."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser_steps import PHONE, no_sideways_scroll, sign_in

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("width", [1280, 1366])
def test_the_header_is_one_row_on_a_laptop_for_every_role(riverside, open_context, screenshot,
                                                          width):
    for who in (riverside.admin, riverside.supervisor, riverside.therapist):
        page = open_context(viewport={"width": width, "height": 800})
        sign_in(page, who)
        height = page.locator(".site-header .header-row").bounding_box()["height"]
        assert height < 80, f"{who.display_name}: header {height:.0f} px high at {width} px"
        if who is riverside.supervisor:
            screenshot(page, f"header-supervisor-{width}")


def test_the_reports_menu_leads_to_the_signals_report_and_labels_the_pdf_as_a_download(
        riverside, open_context, screenshot):
    page = open_context(viewport={"width": 1280, "height": 800})
    sign_in(page, riverside.admin)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("Reports", exact=True).click()
    pdf = nav.get_by_role("link", name="Download the clinic report (PDF)")
    expect(pdf).to_have_attribute("download", "")
    screenshot(page, "header-reports-menu-1280")
    nav.get_by_role("link", name="Signals and repair").click()
    page.wait_for_url("**/reports/signals/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Signals")
    # The account menu holds the password, two-factor and sign-out.
    page.locator("details.account > summary").click()
    expect(page.get_by_role("link", name="Two-factor")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_on_a_phone_the_header_fits_and_its_menus_open(riverside, open_context, screenshot):
    page = open_context(**PHONE)
    sign_in(page, riverside.supervisor)
    assert no_sideways_scroll(page)
    page.get_by_role("navigation", name="Main").get_by_text("Reports", exact=True).tap()
    expect(page.get_by_role("link", name="Signals and repair")).to_be_visible()
    assert no_sideways_scroll(page)
    screenshot(page, "header-reports-menu-phone")

"""The case page fits: its summary and the brief for the next session on the first screen,
then sections reached from the in-page navigation, folded on a phone.

The case has three check-ins of 8 and one of 7 (a possible rupture under the clinic's
sensitive rule, see test_therapist_and_supervisor.py).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser_steps import PHONE, answer_check_in, no_sideways_scroll, sign_in

pytestmark = pytest.mark.e2e

CODE = "C-BRF01"


def page_height(page) -> int:
    return page.evaluate("() => document.documentElement.scrollHeight")


def test_the_brief_for_the_next_session_is_on_the_first_screen_of_a_laptop(
        riverside, open_context, screenshot):
    case, token = riverside.case(CODE, [8, 8, 8], then_link=True)
    answer_check_in(open_context(**PHONE), token, 7)
    page = open_context(viewport={"width": 1366, "height": 768})
    sign_in(page, riverside.therapist)
    page.goto(f"/cases/{case.pk}/")
    brief = page.get_by_role("region", name="For the next session")
    expect(brief).to_contain_text("Last check-in: session 4")
    expect(brief).to_contain_text("Alliance fell from 8.0 to 7.0 at session 4")
    expect(brief).to_contain_text("Last time you rated our work together lower than before")
    # The whole brief is within the first screen.
    box = brief.bounding_box()
    assert box["y"] + box["height"] <= 768
    nav = page.get_by_role("navigation", name="On this page")
    for name in ("Signals", "Alliance", "Wellbeing", "Goals and tasks", "Sessions", "Documents"):
        expect(nav.get_by_role("link", name=name)).to_be_visible()
    # Every action on a signal in one style, with its meaning in words on the page.
    signals = page.get_by_role("region", name="Signals")
    signals.get_by_text("What the actions do").click()
    expect(signals.get_by_text("You have seen it and will take it up with the client.")
           ).to_be_visible()
    expect(signals.get_by_role("button", name="Acknowledge")).to_be_visible()
    expect(signals.get_by_text("Dismiss…")).to_be_visible()
    # Downloads are labelled as downloads.
    expect(page.get_by_role("link", name="Download the case report for the record")
           ).to_have_attribute("download", "")
    screenshot(page, "case-brief-laptop-1366")
    print("case page height at 1366 px:", page_height(page))


def test_on_a_phone_the_sections_fold_and_the_in_page_links_open_them(
        riverside, open_context, screenshot):
    case, token = riverside.case(CODE, [8, 8, 8], then_link=True)
    answer_check_in(open_context(**PHONE), token, 7)
    page = open_context(**PHONE)
    sign_in(page, riverside.therapist)
    page.goto(f"/cases/{case.pk}/")
    expect(page.get_by_role("region", name="For the next session")).to_be_visible()
    sessions = page.locator("#sessions details.fold")
    expect(sessions).not_to_have_attribute("open", "")
    assert no_sideways_scroll(page)
    folded = page_height(page)
    screenshot(page, "case-brief-phone")
    print("case page height on a phone, folded:", folded)
    assert folded < 6000

    page.get_by_role("navigation", name="On this page").get_by_role("link",
                                                                    name="Sessions").tap()
    expect(sessions).to_have_attribute("open", "")
    expect(page.get_by_role("link", name="4", exact=True)).to_be_visible()
    page.locator("#signals details.fold > summary").tap()
    expect(page.get_by_role("button", name="Acknowledge")).to_be_visible()
    assert no_sideways_scroll(page)
    screenshot(page, "case-brief-phone-open")

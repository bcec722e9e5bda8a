"""A client answers a check-in from a link: on a phone with touch and keys, and by keyboard only.

The client's case has three earlier check-ins; the link is for session 4. Answers are
checked where they end up: the stored item responses and the core's scores.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alliance.web import instruments
from alliance.web.checkins.models import Administration

from browser_steps import ITEMS, no_sideways_scroll

pytestmark = pytest.mark.e2e

FORM = instruments.form_spec(instruments.get_instrument("alliance-client"))
ITEM_TEXT = {item.id: item.text for item in FORM.items}
QUESTION = FORM.questions[0].text


def answered(token_case) -> Administration:
    return Administration.objects.get(session__case=token_case, session__number=4,
                                      instrument_id="alliance-client")


def test_a_client_completes_a_check_in_from_a_link_on_a_phone(riverside, phone, screenshot):
    case, token = riverside.case("C-7KQ4M", [8, 8, 8], then_link=True)

    response = phone.goto(f"/c/{token}/")
    assert response.status == 200
    expect(phone.get_by_role("heading", level=1)).to_have_text(
        "How is our work together going?")
    expect(phone.get_by_text("There are no right or wrong answers")).to_be_visible()
    expect(phone.get_by_text("Riverside Counselling")).to_be_visible()
    assert no_sideways_scroll(phone)
    screenshot(phone, "checkin-form-phone")

    sliders = phone.get_by_role("slider")
    expect(sliders).to_have_count(6)
    # Bond with the arrow keys: from the middle (5) two steps up.
    for item in ("bond1", "bond2"):
        slider = phone.get_by_role("slider", name=ITEM_TEXT[item])
        expect(slider).to_have_value("5")
        slider.focus()
        slider.press("ArrowRight")
        slider.press("ArrowRight")
        expect(slider).to_have_value("7")
        # alliance.js shows the value beside the track and announces it in words.
        expect(phone.locator(f"#id_{item}_value")).to_have_text("7")
        expect(slider).to_have_attribute("aria-valuetext", "7 out of 10")
    # Goals and tasks with a finger: a tap at 70 % of the track is a 7.
    for item in ("goals1", "goals2", "tasks1", "tasks2"):
        slider = phone.get_by_role("slider", name=ITEM_TEXT[item])
        slider.scroll_into_view_if_needed()
        box = slider.bounding_box()
        phone.touchscreen.tap(box["x"] + 0.7 * box["width"], box["y"] + box["height"] / 2)
        expect(slider).to_have_value("7")
        expect(phone.locator(f"#id_{item}_value")).to_have_text("7")
    phone.get_by_label(QUESTION).fill("Maybe a little more time on what happens at work.")
    phone.get_by_role("button", name="Send my answers").tap()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(phone.get_by_text("Your answers have been sent to your therapist.")).to_be_visible()
    assert no_sideways_scroll(phone)
    screenshot(phone, "checkin-thanks-phone")
    stored = answered(case)
    assert stored.responses == dict.fromkeys(ITEMS, 7)
    assert stored.scores["total"] == pytest.approx(7.0)
    assert stored.answers == {"more_helpful": "Maybe a little more time on what happens at work."}

    # The link works once: opening it again says so, kindly, and changes nothing.
    response = phone.goto(f"/c/{token}/")
    assert response.status == 410
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your answers are already in")
    expect(phone.get_by_text("the link cannot be used again")).to_be_visible()
    expect(phone.get_by_role("slider")).to_have_count(0)
    screenshot(phone, "checkin-already-used-phone")

    # A link with one character changed is not recognised.
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = phone.goto(f"/c/{tampered}/")
    assert response.status == 404
    expect(phone.get_by_role("heading", level=1)).to_have_text("We could not open this check-in")
    expect(phone.get_by_text("ask your therapist for a new one")).to_be_visible()
    screenshot(phone, "checkin-not-found-phone")
    assert answered(case).responses == dict.fromkeys(ITEMS, 7)


def test_the_check_in_form_can_be_completed_with_the_keyboard_alone(riverside, desktop):
    case, token = riverside.case("C-7KQ4M", [8, 8, 8], then_link=True)
    desktop.goto(f"/c/{token}/")

    # Every control has an accessible name: the sliders and the text box by their
    # question, the button by its words.
    for text in ITEM_TEXT.values():
        expect(desktop.get_by_role("slider", name=text, exact=True)).to_have_count(1)
    expect(desktop.get_by_role("textbox", name=QUESTION)).to_have_count(1)
    expect(desktop.get_by_role("button", name="Send my answers")).to_have_count(1)
    controls = desktop.locator("form input:not([type=hidden]), form textarea, form select, "
                               "form button")
    expect(controls).to_have_count(len(ITEM_TEXT) + 2)
    unnamed = re.findall(r"^\s*- (slider|textbox|button|radio|checkbox|combobox)\s*(?::|$)",
                         desktop.locator("form").aria_snapshot(), flags=re.M)
    assert unnamed == []
    # The scale's ends are read with each slider.
    expect(desktop.get_by_role("slider", name=ITEM_TEXT["bond1"])).to_have_accessible_description(
        re.compile("0 = Not really.*10 = Very much"))

    def focused():
        return desktop.evaluate("() => document.activeElement.id || "
                                "document.activeElement.textContent.trim()")

    wanted = {"bond1": 8, "bond2": 9, "goals1": 6, "goals2": 7, "tasks1": 4, "tasks2": 10}
    desktop.keyboard.press("Tab")
    assert focused() == "Skip to the main content"
    for item, value in wanted.items():
        desktop.keyboard.press("Tab")
        assert focused() == f"id_{item}"
        # The focused slider shows a focus ring.
        assert desktop.evaluate("() => getComputedStyle(document.activeElement).boxShadow") \
            != "none"
        key, steps = ("ArrowRight", value - 5) if value >= 5 else ("ArrowLeft", 5 - value)
        if value == 10:
            key, steps = "End", 1
        for _ in range(steps):
            desktop.keyboard.press(key)
    desktop.keyboard.press("Tab")
    assert focused() == "id_more_helpful"
    desktop.keyboard.type("Nothing to add, thank you.")
    desktop.keyboard.press("Tab")
    assert focused() == "Send my answers"
    desktop.keyboard.press("Enter")

    expect(desktop.get_by_role("heading", level=1)).to_have_text("Thank you")
    stored = answered(case)
    assert stored.responses == wanted
    assert stored.answers == {"more_helpful": "Nothing to add, thank you."}

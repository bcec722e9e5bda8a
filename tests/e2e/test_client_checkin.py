"""A client answers a session's check-in from a link: on a phone by touch, by keyboard
alone, without JavaScript, and what happens to questions left alone.

Every question is a scale of radio buttons with nothing chosen: an untouched question
sends nothing, and the form names what is missing instead of inventing an answer. The
answers are checked where they end up: the stored item responses and the core's scores.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alliance.web import instruments
from alliance.web.checkins.models import Administration

from browser_steps import ITEMS, PHONE, WELLBEING_ITEMS, choose, no_sideways_scroll, scale

pytestmark = pytest.mark.e2e

FORM = instruments.form_spec(instruments.get_instrument("alliance-client"))
WELLBEING = instruments.form_spec(instruments.get_instrument("wellbeing"))
ITEM_TEXT = {item.id: item.text for item in FORM.items}
QUESTION = FORM.questions[0].text


def stored(case, instrument="alliance-client") -> Administration:
    return Administration.objects.get(session__case=case, session__number=4,
                                      instrument_id=instrument)


def nothing_stored(case) -> bool:
    return not Administration.objects.filter(session__case=case, session__number=4,
                                             submitted_at__isnull=False).exists()


def test_a_client_completes_a_check_in_from_a_link_on_a_phone(riverside, phone, screenshot):
    case, token = riverside.case("C-7KQ4M", [8, 8, 8], then_link=True)

    response = phone.goto(f"/c/{token}/")
    assert response.status == 200
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your check-in")
    expect(phone.get_by_text("There are no right or wrong answers")).to_be_visible()
    expect(phone.get_by_text("Riverside Counselling")).to_be_visible()
    # The session's two parts, each under its own heading, nothing chosen yet.
    expect(phone.get_by_role("heading", level=2)).to_have_text(
        ["About today's session", "How life has been going"])
    expect(phone.locator("input[type=radio]:checked")).to_have_count(0)
    assert no_sideways_scroll(phone)
    screenshot(phone, "checkin-form-phone")

    for item in ITEMS:
        choose(scale(phone, ITEM_TEXT[item]), 7, tap=True)
        expect(scale(phone, ITEM_TEXT[item]).locator("input:checked")).to_have_value("7")
    for item in WELLBEING.items:
        choose(scale(phone, item.text), 6, tap=True)
    phone.get_by_label(QUESTION).fill("Maybe a little more time on what happens at work.")
    phone.get_by_role("button", name="Send my answers").tap()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(phone.get_by_text("Your answers have been sent to your therapist.")).to_be_visible()
    assert no_sideways_scroll(phone)
    screenshot(phone, "checkin-thanks-phone")
    alliance = stored(case)
    assert alliance.responses == dict.fromkeys(ITEMS, 7)
    assert alliance.scores["total"] == pytest.approx(7.0)
    assert alliance.answers == {"more_helpful": "Maybe a little more time on what happens at work."}
    assert stored(case, "wellbeing").responses == dict.fromkeys(WELLBEING_ITEMS, 6)

    # The link works once: opening it again says so, kindly, and changes nothing.
    response = phone.goto(f"/c/{token}/")
    assert response.status == 410
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your answers are already in")
    expect(phone.get_by_text("the link cannot be used again")).to_be_visible()
    expect(phone.get_by_role("radio")).to_have_count(0)
    screenshot(phone, "checkin-already-used-phone")

    # A link with one character changed is not recognised.
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = phone.goto(f"/c/{tampered}/")
    assert response.status == 404
    expect(phone.get_by_role("heading", level=1)).to_have_text("We could not open this check-in")
    expect(phone.get_by_text("ask your therapist for a new one")).to_be_visible()
    screenshot(phone, "checkin-not-found-phone")
    assert stored(case).responses == dict.fromkeys(ITEMS, 7)


def test_an_untouched_check_in_stores_nothing_and_asks_for_every_question(riverside, phone,
                                                                          screenshot):
    case, token = riverside.case("C-7KQ4M", [8, 8, 8], then_link=True)
    phone.goto(f"/c/{token}/")
    phone.get_by_role("button", name="Send my answers").tap()

    expect(phone.get_by_role("alert").first).to_contain_text("Please look at the questions")
    expect(phone.get_by_text("Please give an answer to this question.")).to_have_count(
        len(ITEMS) + len(WELLBEING_ITEMS))
    expect(phone.locator("input[type=radio]:checked")).to_have_count(0)
    screenshot(phone, "checkin-untouched-phone")
    assert nothing_stored(case)


def test_answering_one_question_of_many_keeps_it_and_invents_none(riverside, phone):
    case, token = riverside.case("C-7KQ4M", [8, 8, 8], then_link=True)
    phone.goto(f"/c/{token}/")
    choose(scale(phone, ITEM_TEXT["bond1"]), 2, tap=True)
    phone.get_by_role("button", name="Send my answers").tap()

    expect(phone.get_by_text("Please give an answer to this question.")).to_have_count(
        len(ITEMS) + len(WELLBEING_ITEMS) - 1)
    # The one answer given is still chosen, and nothing else is.
    expect(phone.locator("input[type=radio]:checked")).to_have_count(1)
    expect(scale(phone, ITEM_TEXT["bond1"]).locator("input:checked")).to_have_value("2")
    assert nothing_stored(case)
    # Completing it stores exactly what was chosen.
    for item in ITEMS[1:]:
        choose(scale(phone, ITEM_TEXT[item]), 5)
    for item in WELLBEING.items:
        choose(scale(phone, item.text), 5)
    phone.get_by_role("button", name="Send my answers").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert stored(case).responses == {**dict.fromkeys(ITEMS, 5), "bond1": 2}


def test_the_check_in_form_can_be_completed_with_the_keyboard_alone(riverside, desktop):
    case, token = riverside.case("C-7KQ4M", [8, 8, 8], then_link=True)
    desktop.goto(f"/c/{token}/")

    # Every question is a group named by its wording; every radio button has a name (its
    # number; the ends also their words), the text box its question, the button its words.
    for text in ITEM_TEXT.values():
        expect(scale(desktop, text)).to_have_count(1)
        expect(scale(desktop, text).get_by_role("radio")).to_have_count(11)
    expect(scale(desktop, ITEM_TEXT["bond1"]).get_by_role(
        "radio", name=re.compile(r"^0\W+Not really$"))).to_have_count(1)
    expect(desktop.get_by_role("textbox", name=QUESTION)).to_have_count(1)
    unnamed = re.findall(r"^\s*- (slider|textbox|button|radio|checkbox|combobox|group)\s*(?::|$)",
                         desktop.locator("form.checkin-form").aria_snapshot(), flags=re.M)
    assert unnamed == []

    def focused():
        return desktop.evaluate("() => { const e = document.activeElement; return e.name ? "
                                "e.name + '=' + e.value : (e.id || e.textContent.trim()); }")

    wanted = {"bond1": 8, "bond2": 9, "goals1": 6, "goals2": 7, "tasks1": 4, "tasks2": 10}
    desktop.keyboard.press("Tab")
    assert focused() == "Skip to the main content"
    # Then the language switcher in the header: the language, and its button.
    desktop.keyboard.press("Tab")
    assert focused() == "language=en"
    desktop.keyboard.press("Tab")
    assert focused() == "Change language"
    for item, value in wanted.items():
        # Tab enters the group on its first button; Space chooses it, arrows move on.
        desktop.keyboard.press("Tab")
        assert focused() == f"{item}=0"
        assert desktop.evaluate(
            "() => getComputedStyle(document.activeElement.nextElementSibling).boxShadow") \
            != "none"  # the focused number shows a focus ring
        desktop.keyboard.press("Space")
        for _ in range(value):
            desktop.keyboard.press("ArrowRight")
        assert focused() == f"{item}={value}"
    desktop.keyboard.press("Tab")
    assert focused() == "more_helpful="  # the comment box, still empty
    desktop.keyboard.type("Nothing to add, thank you.")
    for item in WELLBEING_ITEMS:
        desktop.keyboard.press("Tab")
        assert focused() == f"wellbeing-{item}=0"
        desktop.keyboard.press("Space")
        for _ in range(6):
            desktop.keyboard.press("ArrowRight")
    desktop.keyboard.press("Tab")
    assert focused() == "Send my answers"
    desktop.keyboard.press("Enter")

    expect(desktop.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert stored(case).responses == wanted
    assert stored(case).answers == {"more_helpful": "Nothing to add, thank you."}
    assert stored(case, "wellbeing").responses == dict.fromkeys(WELLBEING_ITEMS, 6)


def test_the_check_in_works_without_javascript(riverside, open_context):
    case, token = riverside.case("C-7KQ4M", [8, 8, 8], then_link=True)
    page = open_context(**PHONE, java_script_enabled=False)
    page.goto(f"/c/{token}/")
    expect(page.locator("html.js")).to_have_count(0)  # alliance.js did not run
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_text("Please give an answer to this question.").first).to_be_visible()
    assert nothing_stored(case)
    for item in ITEMS:
        choose(scale(page, ITEM_TEXT[item]), 4)
    for item in WELLBEING.items:
        choose(scale(page, item.text), 3)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert stored(case).responses == dict.fromkeys(ITEMS, 4)
    assert stored(case, "wellbeing").responses == dict.fromkeys(WELLBEING_ITEMS, 3)


def test_a_new_clinics_check_in_is_short_on_a_phone(riverside, phone, screenshot):
    """The default for a new clinic: three questions about the session, an optional
    comment, and four about the week: eight answers, on one page from one link."""
    from alliance.web.clinics.models import Clinic

    clinic = Clinic.objects.get(pk=riverside.clinic.pk)
    clinic.instruments_in_use = ["alliance-brief", "alliance-therapist", "wellbeing"]
    clinic.save()
    riverside.therapist.clinic = clinic
    case, token = riverside.case("C-SHORT", [], then_link=True, form="alliance-brief")
    # An ordinary session's check-in: the intake, which goes with the first sessions' check-in
    # while the case has none (test_intake_browser.py), was answered already.
    from alliance.web.intake import services as intake

    intake.update(case, {"hopes": "To sleep better."})
    phone.goto(f"/c/{token}/")
    expect(phone.locator("fieldset.scale-item")).to_have_count(7)
    expect(phone.locator("textarea")).to_have_count(1)
    height = phone.evaluate("() => document.documentElement.scrollHeight")
    assert no_sideways_scroll(phone)
    screenshot(phone, "checkin-short-form-phone")
    brief = instruments.form_spec(instruments.get_instrument("alliance-brief"))
    for item in brief.items:
        choose(scale(phone, item.text), 8, tap=True)
    for item in WELLBEING.items:
        choose(scale(phone, item.text), 7, tap=True)
    phone.get_by_role("button", name="Send my answers").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    answered = Administration.objects.get(session__case=case, instrument_id="alliance-brief")
    assert answered.scores["total"] == pytest.approx(8.0)
    # The six-question page with sliders was about 4,000 px tall on this phone.
    assert height < 3200, height

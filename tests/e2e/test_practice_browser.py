"""A therapist opens My practice; a supervisor uses the supervision view (the demo clinic).

Screenshots in test-artifacts/screenshots/: my-practice, my-practice-new-focus,
my-practice-phone,
supervision-practice, supervisee-practice, clinic-practice.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from alliance.web import demo

from browser_steps import DESKTOP, PASSWORD, PHONE, images_loaded, no_sideways_scroll, sign_in

pytestmark = pytest.mark.e2e

TODAY = dt.date(2026, 3, 16)
START = TODAY - dt.timedelta(days=365)


@pytest.fixture
def demo_clinic(transactional_db):
    return demo.seed_demo(PASSWORD, today=TODAY)


#: The first view of a practice page fits the clinic's models (then cached): allow for a
#: busy test machine.
FIRST_VIEW_MS = 60_000


def patient(page):
    page.set_default_timeout(FIRST_VIEW_MS)
    return page


def choose_period(page) -> None:
    page.get_by_label("From:", exact=True).fill(START.isoformat())
    page.get_by_label("To:", exact=True).fill(TODAY.isoformat())
    page.get_by_role("button", name="Show this period").click()
    expect(page.get_by_text(f"from {START:%-d %b %Y} to {TODAY:%-d %b %Y}")).to_be_visible()


def test_a_therapist_opens_their_practice_and_notes_a_focus(demo_clinic, open_context,
                                                             screenshot):
    therapist = demo.LOGINS[0]
    page = patient(open_context(**DESKTOP))
    sign_in(page, therapist.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My practice").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My practice")
    choose_period(page)

    level = page.get_by_role("region", name="Alliance across your clients")
    expect(level).to_contain_text("your clients rate the alliance at about")
    # Beside the clinic's spread (or, when the demo's therapists do not differ beyond
    # chance, saying so).
    expect(level).to_contain_text(re.compile(
        "Most therapists in the clinic are between|do not differ on this beyond"))
    table = level.get_by_role("table")
    expect(table).to_be_hidden()
    level.get_by_text("Show the numbers as a table").click()
    expect(table).to_be_visible()
    expect(table.get_by_role("row").nth(1)).to_contain_text("You")
    level.get_by_text("Technical details").click()
    expect(level).to_contain_text("alliance ~ 1 + (1 | therapist) + (1 | therapist:client)")
    agreement = page.get_by_role("region", name="Do your ratings move with theirs?")
    expect(agreement).to_contain_text("a correlation of")
    assert images_loaded(page) == []

    # The demo's focus, agreed eight weeks before the history ends: before and after.
    focus = page.get_by_role("region", name="Practice focus")
    expect(focus).to_contain_text("Inviting negative feedback, since")
    expect(focus).to_contain_text("before the start")
    expect(focus).to_contain_text("likely between")
    screenshot(page, "my-practice")

    page.get_by_text("Note a new focus").click()
    page.get_by_label("Skill to practise").select_option(label="Inviting negative feedback")
    page.get_by_label("Start date").fill(dt.date.today().isoformat())
    page.get_by_label("What you agreed (optional)").fill("Ask what did not help, every session.")
    page.get_by_role("button", name="Note this focus").click()
    focus = page.get_by_role("region", name="Practice focus")
    expect(focus).to_contain_text(
        f"Inviting negative feedback, since {dt.date.today():%-d %b %Y}")
    # Nothing after today's start yet: the page says so instead of a figure.
    expect(focus).to_contain_text("A comparison needs at least 10 observations")
    expect(focus).to_contain_text("Earlier foci")
    choose_period(page)
    screenshot(page, "my-practice-new-focus")

    phone = patient(open_context(**PHONE))
    sign_in(phone, therapist.email)
    phone.goto(f"/practice/?start={START.isoformat()}&end={TODAY.isoformat()}")
    expect(phone.get_by_role("heading", level=1)).to_have_text("My practice")
    assert images_loaded(phone) == []
    assert no_sideways_scroll(phone)
    # Phones get the narrow charts (<picture>, no JavaScript).
    narrow = phone.evaluate("() => Array.from(document.querySelectorAll('img.practice-chart'))"
                            ".map(img => img.currentSrc !== img.src)")
    assert narrow and all(narrow)
    screenshot(phone, "my-practice-phone")


def test_a_supervisor_uses_the_supervision_view_and_opens_a_supervisees_practice(
        demo_clinic, open_context, screenshot):
    supervisor = demo.LOGINS[1]
    page = patient(open_context(**DESKTOP))
    sign_in(page, supervisor.email)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Supervision").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Supervision")
    sam = page.get_by_role("region", name="Sam Rivera")
    expect(sam).to_contain_text("Cases to bring to supervision")
    expect(sam).to_contain_text("Practice focus: Inviting negative feedback")
    expect(page.get_by_role("region", name="Jonas Berg")).to_contain_text(
        "No practice focus noted")
    bring = sam.locator("ul.supervision-bring > li")
    assert bring.count() > 0
    expect(bring.first).to_contain_text("session")
    screenshot(page, "supervision-practice")

    sam.get_by_role("link", name="Practice of Sam Rivera").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Practice of Sam Rivera")
    choose_period(page)
    expect(page.get_by_role("region", name="Ruptures repaired")).to_be_visible()
    assert images_loaded(page) == []
    screenshot(page, "supervisee-practice")

    admin = demo.LOGINS[2]
    page = patient(open_context(**DESKTOP))
    sign_in(page, admin.email)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_text("Reports", exact=True).click()
    nav.get_by_role("link", name="Practice across the clinic").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Practice across the clinic")
    choose_period(page)
    expect(page.get_by_text("Clinic mean:").first).to_be_visible()
    screenshot(page, "clinic-practice")

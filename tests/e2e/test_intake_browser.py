"""The intake in the browser: a client answers it on a phone in the first session's
check-in, and the therapist reads it on the case page, with what to talk about."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from alliance.web import instruments

from browser_steps import DESKTOP, ITEMS, PHONE, choose, no_sideways_scroll, scale, sign_in

pytestmark = pytest.mark.e2e

FORM = instruments.form_spec(instruments.get_instrument("alliance-client"))
WELLBEING = instruments.form_spec(instruments.get_instrument("wellbeing"))
ITEM_TEXT = {item.id: item.text for item in FORM.items}
HOPES = "To stop dreading Monday mornings."
CULTURE = "Arabic is my first language."


def test_a_client_answers_the_intake_in_the_check_in_and_the_therapist_reads_it(
        riverside, open_context, screenshot):
    from alliance.web.goals import services as goals
    from alliance.web.intake.models import Intake

    case, token = riverside.case("C-INTK1", [], then_link=True)  # CBT, session 1
    goal = goals.propose_goal(case, "Sleep through most nights", by=riverside.therapist)
    goals.propose_task(goal, "Phone away at 10 pm", by=riverside.therapist)

    phone = open_context(**PHONE)
    phone.goto(f"/c/{token}/")
    intake = phone.get_by_role("region", name="Getting started: about you and your therapy")
    expect(intake).to_be_visible()
    expect(phone.locator("input[type=radio]:checked")).to_have_count(0)
    for item in ITEMS:
        choose(scale(phone, ITEM_TEXT[item]), 7, tap=True)
    for item in WELLBEING.items:
        choose(scale(phone, item.text), 6, tap=True)
    intake.get_by_label("What do you hope will be different for you").fill(HOPES)
    intake.get_by_role("radio", name="Yes, and it was mixed").tap()
    intake.get_by_role("radio", name="More room to explore and see what comes up").tap()
    intake.get_by_role("radio", name="No, I would rather keep the work to the sessions").tap()
    choose(scale(phone, "How ready do you feel to make changes in your life at the moment?"),
           5, tap=True)
    intake.get_by_label("Is there anything about who you are").fill(CULTURE)
    assert no_sideways_scroll(phone)
    screenshot(phone, "intake-checkin-phone")
    phone.get_by_role("button", name="Send my answers").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")

    stored = Intake.objects.get(case=case)
    assert (stored.hopes, stored.past_therapy, stored.structure, stored.tasks,
            stored.readiness, stored.culture) == (HOPES, "mixed", "explore", "no_tasks", 5,
                                                  CULTURE)
    assert (stored.focus, stored.lead, stored.past_therapy_text) == ("", "", "")

    page = open_context(**DESKTOP)
    sign_in(page, riverside.therapist)
    page.goto(f"/cases/{case.pk}/")
    summary = page.get_by_role("region", name="At the start: hopes and preferences")
    expect(summary).to_contain_text(HOPES)
    expect(summary).to_contain_text("Had therapy before; mixed.")
    expect(summary).to_contain_text("More room to explore; no tasks between sessions")
    expect(summary).to_contain_text("5 out of 10")
    expect(summary).to_contain_text(CULTURE)
    expect(summary).to_contain_text("which CBT does not usually offer")
    expect(summary).to_contain_text("this case has 1 between-session task in its goals")
    brief = page.get_by_role("region", name="For the next session")
    expect(brief).to_contain_text("The client hopes:")
    page.get_by_role("navigation", name="On this page").get_by_role(
        "link", name="Hopes and preferences").click()
    screenshot(page, "intake-case-page")

    # The next session's check-in does not ask again.
    from alliance.web.care import services as care
    from alliance.web.checkins import services as checkins

    later = care.record_session(case, date=case.start_date.replace(day=12), status="attended")
    token = checkins.issue_link(later, "alliance-client", by=riverside.therapist).token
    phone.goto(f"/c/{token}/")
    expect(phone.get_by_role("heading", name="About today's session")).to_be_visible()
    expect(phone.get_by_role("region", name="Getting started: about you and your therapy")
           ).to_have_count(0)

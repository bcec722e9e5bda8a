"""Rupture → repair → follow-up in the browser.

The client rated the alliance 8 on every item for three weeks; last week the two bond
items fell to 5 (goals and tasks stayed at 8), so the total fell from 8.0 to 7.0. The
clinic is new, so its pooled SD is the default of 1 point: both drops are beyond the
threshold of the clinic's rule (sd1, s_t = 0.7746, docs/signals.md), and the case has one
possible rupture at session 4, of the total with the bond. Today's check-in (session 5)
comes back to 8 on every item, at least the reference of 8.0: repaired at session 5
(the repair rule, window 3).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from alliance.web.monitoring.models import RepairAction, Signal

from browser_steps import DESKTOP, PHONE, sign_in
from course_steps import answers, next_check_in, rate_alliance, weekly_case

pytestmark = pytest.mark.e2e

NOTE = "Asked how last session felt; she had felt rushed when we moved on from her mother."


def test_a_rupture_is_repaired_after_the_therapist_records_what_they_did(riverside,
                                                                         open_context,
                                                                         screenshot):
    from django.utils import timezone

    today = timezone.localdate()
    case = weekly_case(riverside, "C-REPAIR", [8, 8, 8, answers(bond=5, goals=8, tasks=8)],
                       last=today - dt.timedelta(days=7))

    # The therapist opens the case: the rupture, what moved, and what to try.
    page = open_context(**DESKTOP)
    sign_in(page, riverside.therapist)
    page.goto(f"/cases/{case.pk}/")
    signals = page.get_by_role("region", name="Signals")
    rupture = signals.locator("ul.signal-list > li").filter(
        has=page.get_by_role("heading", name="Possible rupture", exact=True))
    expect(rupture).to_have_count(1)
    expect(rupture).to_contain_text("Alliance fell from 8.0 to 7.0 at session 4")
    expect(rupture).to_contain_text("Repair window open")
    expect(rupture.locator(".repair-parts")).to_have_text(
        re.compile(r"What moved:\s*Alliance overall 8.0 → 7.0\s*·\s*Bond 8.0 → 5.0"))
    prompts = rupture.locator("details.repair-prompts")
    prompts.get_by_text("What to try").click()
    expect(prompts.get_by_role("heading", name="The bond: attend to the relationship")
           ).to_be_visible()
    expect(prompts.get_by_role("heading", name=re.compile("^Goals"))).to_have_count(0)
    expect(prompts.get_by_role("heading", name="If it shows as withdrawal")).to_be_visible()
    expect(prompts.get_by_role("heading", name="If it shows as confrontation")).to_be_visible()
    history = page.get_by_role("region", name="Ruptures and repair")
    expect(history.get_by_role("row").nth(1).get_by_role("cell")).to_contain_text(
        [re.compile(r"\d+ \w+ \d{4}"), "Alliance overall 8.0 → 7.0", "Nothing recorded", "Pending"])
    screenshot(page, "repair-1-rupture-with-prompts-case-page")

    # They record what they did in session 4, with the form under the signal.
    rupture.get_by_text("Record what you did…").click()
    form = rupture.locator("form.repair-form")
    form.get_by_role("group", name="What did you do?").get_by_label(
        "Explored the client's view").check()
    form.get_by_role("group", name="How did it show?").get_by_label(
        re.compile("Withdrawal")).check()
    form.get_by_label("A short note").fill(NOTE)
    form.get_by_label("In session (optional)").fill("4")
    screenshot(rupture, "repair-2-record-what-you-did-form")
    form.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_contain_text("Recorded what you did.")
    expect(rupture).to_contain_text("Acknowledged")
    actions = rupture.locator("ul.repair-actions > li")
    expect(actions).to_have_count(1)
    expect(actions).to_contain_text("Explored the client's view")
    expect(actions).to_contain_text("in session 4 · showed as withdrawal · Alex Moreno")
    expect(actions).to_contain_text(NOTE)
    expect(rupture.locator(".repair-outcome")).to_have_text(
        "Outcome: Not yet: the next check-ins decide within 3 rated sessions.")
    # Now that it is recorded as withdrawal, only that way of showing is offered.
    for heading, count in (("The bond: attend to the relationship", 1),
                           ("If it shows as withdrawal", 1),
                           ("If it shows as confrontation", 0)):
        expect(prompts.get_by_role("heading", name=heading, include_hidden=True)
               ).to_have_count(count)
    screenshot(page, "repair-3-action-recorded-case-page")

    # Today's check-in, from a link on the client's phone, is back at 8 on every item.
    phone = open_context(**PHONE)
    phone.goto(f"/c/{next_check_in(riverside, case, date=today)}/")
    rate_alliance(phone, 8)
    phone.get_by_role("button", name="Send my answers").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")

    signal = Signal.objects.get(case=case, type="rupture")
    assert (signal.repair_state, signal.data["repaired_session"]) == ("repaired", 5)
    assert RepairAction.objects.get(signal=signal).session.number == 4

    # The case page: repaired at session 5, with the recorded action beside it.
    page.reload()
    expect(rupture.locator(".signal-head")).to_contain_text("Repaired at session 5")
    expect(rupture.locator(".repair-outcome")).to_have_text(
        "Outcome: Repaired at session 5, after 1 recorded repair action.")
    expect(actions).to_contain_text("Explored the client's view")
    expect(prompts).to_have_count(0)
    row = history.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="4", exact=True))
    expect(row.get_by_role("cell")).to_contain_text(
        [re.compile(r"\d+ \w+ \d{4}"), re.compile("Alliance overall 8.0 → 7.0\\s*Bond 8.0 → 5.0"),
         re.compile("Explored the client's view \\(session 4\\)\\s*" + re.escape(NOTE)),
         "Repaired at session 5"])
    screenshot(page, "repair-4-repaired-case-page")
    screenshot(history, "repair-5-history")

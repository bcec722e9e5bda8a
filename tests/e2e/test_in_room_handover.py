"""The therapist hands the device to the client for an in-room check-in.

Handing over signs the therapist out in that browser before the client's form opens:
whatever the client does with the device (Back, the address bar), staff pages answer only
with the sign-in page. The thank-you page asks for the device back; the therapist signs in
again with their password.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alliance.web.checkins.models import Administration

from browser_steps import DESKTOP, PHONE, rate_every_question, sign_in

pytestmark = pytest.mark.e2e

CODE = "C-ROOM1"
SIGN_IN = re.compile(r"/login/")


def hand_over(page, case, screenshot, label) -> None:
    page.goto(f"/cases/{case.pk}/sessions/4/")
    expect(page.get_by_text("signs you out first")).to_be_visible()
    screenshot(page, f"session-page-{label}")
    page.get_by_role("button", name="Hand this device to the client").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your check-in")


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["laptop", "phone"])
def test_after_handing_the_device_over_back_and_the_caseload_reach_only_the_sign_in_page(
        riverside, open_context, screenshot, device):
    case, _ = riverside.case(CODE, [8, 8, 8], then_link=True)
    page = open_context(**device)
    sign_in(page, riverside.therapist)
    label = "phone" if device is PHONE else "laptop"
    hand_over(page, case, screenshot, label)
    # The client's page names the clinic and leads nowhere into staff pages.
    assert page.locator("a[href^='/cases'], a[href^='/clinic'], a[href^='/reports']").count() == 0
    expect(page.get_by_text(CODE)).to_have_count(0)

    # Back, before answering: the session page is gone, the sign-in page answers.
    page.go_back()
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.go_forward()

    rate_every_question(page, 7)
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.get_by_text("Please hand the device back to your therapist.")).to_be_visible()
    expect(page.get_by_text("sign in again with their own password")).to_be_visible()
    screenshot(page, f"in-room-thanks-{label}")
    assert Administration.objects.get(session__case=case, session__number=4,
                                      instrument_id="alliance-client").via == "in_room"

    # Back through the whole history, and the caseload typed in: only the sign-in page.
    for _ in range(4):
        page.go_back()
        assert CODE not in page.content()
        assert not re.search(r"/cases/", page.url) or SIGN_IN.search(page.url)
    page.goto("/cases/")
    expect(page).to_have_url(SIGN_IN)
    expect(page.get_by_text(CODE)).to_have_count(0)
    page.goto(f"/cases/{case.pk}/")
    expect(page).to_have_url(SIGN_IN)

    # The therapist signs in again with the password and is back on their caseload.
    sign_in(page, riverside.therapist)
    expect(page.get_by_role("link", name=CODE)).to_be_visible()

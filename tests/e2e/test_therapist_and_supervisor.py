"""The therapist sees a client's new check-in and acts on its signals; the supervisor reads them.

The client's case has three check-ins of 8 (the clinic is new, so its pooled SD is the
default of 1 point). A new check-in of 7 is a drop of 1.0: beyond the sensitive rule's
threshold (s_t = 0.7746, docs/signals.md and tests/web/test_monitoring.py), so the clinic's
rule (sd1, the one this clinic chose) shows a possible rupture at session 4.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alliance.web.monitoring.models import Signal

from browser_steps import (DESKTOP, PHONE, answer_check_in, images_loaded, sign_in,
                           wait_for_image)

pytestmark = pytest.mark.e2e

CODE = "C-7KQ4M"
DROP = "Alliance fell from 8.0 to 7.0 at session 4"


def signal_item(page, title: str):
    """The entry of the signal list with this title."""
    return page.locator("ul.signal-list > li").filter(
        has=page.get_by_role("heading", name=title, exact=True))


def test_the_therapist_sees_the_new_scores_the_chart_and_a_rupture_and_acts_on_the_signals(
        riverside, open_context, screenshot):
    case, token = riverside.case(CODE, [8, 8, 8], then_link=True)
    answer_check_in(open_context(**PHONE), token, 7,
                    "Maybe a little more time on what happens at work.")

    page = open_context(**DESKTOP)
    sign_in(page, riverside.therapist)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your caseload")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=CODE))
    expect(row).to_contain_text("Possible rupture")
    # The client's comment is to read, not a signal needing attention.
    expect(row).to_contain_text("1 open signal")
    expect(row).to_contain_text("1 new comment to read")
    expect(row.locator("td[data-label=Alliance]")).to_contain_text("7.0")
    expect(row).to_contain_text("bond 7.0 · goals 7.0 · tasks 7.0")
    assert images_loaded(page) == []
    screenshot(page, "caseload-new-rupture")

    row.get_by_role("link", name=CODE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CODE)
    glance = page.get_by_role("region", name="At a glance")
    expect(glance).to_contain_text(
        "Client-rated alliance 7.0 of 10 at session 4; bond 7.0, goals 7.0, tasks 7.0.")
    expect(glance).to_contain_text("1 signal needs attention")
    expect(glance).to_contain_text("1 new comment from the client to read")

    # The charts load, and their numbers are one click away.
    alliance = page.get_by_role("region", name="Alliance, session by session")
    chart = alliance.get_by_role("img", name=re.compile("^Line chart of the client-rated"))
    assert wait_for_image(page, chart) > 0
    wellbeing = page.get_by_role("region", name="Wellbeing, session by session")
    assert wait_for_image(page, wellbeing.get_by_role("img")) > 0
    table = alliance.get_by_role("table", name="Alliance scores by session")
    expect(table).to_be_hidden()
    alliance.get_by_text("Show the numbers as a table").click()
    expect(table).to_be_visible()
    session_4 = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="4"))
    expect(session_4.get_by_role("cell")).to_contain_text(
        ["26 Jan 2026", "7.0", "7.0", "7.0", "7.0", "", re.compile("Possible rupture")])
    session_1 = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name="1"))
    expect(session_1.get_by_role("cell")).to_contain_text(
        ["5 Jan 2026", "8.0", "8.0", "8.0", "8.0"])

    # The rupture, in plain words, with the rule behind it.
    rupture = signal_item(page, "Possible rupture")
    expect(rupture).to_contain_text(DROP)
    expect(rupture).to_contain_text("Repair window open")
    rupture.get_by_text("Technical details").click()
    expect(rupture.locator("code")).to_have_text("sd1")
    comments = page.get_by_role("region", name="New comments")
    expect(comments).to_contain_text("Maybe a little more time on what happens at work.")
    screenshot(page, "case-page-new-rupture")
    screenshot(page.get_by_role("region", name="Signals"), "signal-list")

    rupture.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text("Acknowledged: possible rupture.")
    expect(rupture).to_contain_text("Acknowledged")
    expect(rupture.get_by_role("button", name="Acknowledge")).to_have_count(0)

    comments.get_by_role("button", name="Mark as read").click()
    expect(page.get_by_role("status")).to_contain_text("Marked as read.")
    expect(page.get_by_role("region", name="New comments")).to_have_count(0)

    assert dict(Signal.objects.filter(case=case).values_list("type", "state")) == {
        "rupture": "acknowledged", "client_feedback": "acknowledged"}
    page.get_by_role("link", name="Caseload", exact=True).first.click()
    expect(row).to_contain_text("Nothing open")
    expect(row).not_to_contain_text("new comment")


def test_the_supervisor_sees_a_supervisees_case_with_its_open_signals_and_cannot_change_it(
        riverside, desktop, live_server, screenshot):
    case = riverside.case(CODE, [8, 8, 8, 7])
    rupture = Signal.objects.get(case=case, type="rupture")

    sign_in(desktop, riverside.supervisor)
    desktop.get_by_role("navigation", name="Main").get_by_role("link", name="Supervision").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Supervision")
    supervisee = desktop.get_by_role("region", name="Alex Moreno")
    expect(supervisee).to_contain_text("1 active case · 1 signal needing attention · "
                                       "1 session with a rupture not yet repaired")
    row = supervisee.get_by_role("row").filter(has=desktop.get_by_role("link", name=CODE))
    expect(row.get_by_role("cell")).to_contain_text(["4", "26 Jan 2026", "1", "1",
                                                     re.compile("possible rupture", re.IGNORECASE)])
    screenshot(desktop, "supervision-one-case")

    row.get_by_role("link", name=CODE).click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text(CODE)
    expect(desktop.get_by_text("the therapist's own rating", exact=False)).to_be_visible()
    item = signal_item(desktop, "Possible rupture")
    expect(item).to_contain_text(DROP)
    # Reading, not changing: no actions on the signals or the case.
    signals = desktop.get_by_role("region", name="Signals")
    expect(signals.get_by_role("button")).to_have_count(0)
    expect(signals.get_by_text("Dismiss…")).to_have_count(0)
    expect(desktop.get_by_role("link", name="Record a session")).to_have_count(0)
    expect(desktop.get_by_text("End this case")).to_have_count(0)

    # Even a hand-made request (with a valid CSRF token) is refused, and nothing changes.
    csrf = next(c["value"] for c in desktop.context.cookies() if c["name"] == "csrftoken")
    url = f"/cases/{case.pk}/signals/{rupture.pk}/acknowledge/"
    response = desktop.request.post(url, form={"csrfmiddlewaretoken": csrf},
                                    headers={"Referer": live_server.url + f"/cases/{case.pk}/"},
                                    max_redirects=0)
    assert response.status == 403
    assert "Not available" in response.text() and "Please try again" not in response.text()
    rupture.refresh_from_db()
    assert rupture.state == "open"


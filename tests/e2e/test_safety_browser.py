"""A risk answer reaches a person at once, end to end: the admin sets the crisis text and
the on-call contacts, a client answers the safety question on a phone and sees the crisis
text, the e-mails arrive at a real SMTP server on loopback holding no clinical content, and
the therapist finds the case first on the caseload and records the response.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alliance.web import instruments
from alliance.web.monitoring.models import Signal

from browser_steps import choose, rate_every_question, scale, sign_in

pytestmark = pytest.mark.e2e

CRISIS = "Call 112 in an emergency. Out of hours, ring the duty line on 0800 555 0100."


def _text(message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "".join(p.get_payload(decode=True).decode() for p in parts
                   if p.get_content_maintype() == "text")


def test_a_risk_answer_reaches_the_therapist_and_the_client_sees_the_crisis_text(
        riverside, open_context, smtp_server, screenshot):
    admin = open_context(viewport={"width": 1280, "height": 900})
    sign_in(admin, riverside.admin)
    admin.get_by_role("navigation", name="Main").get_by_text("Clinic", exact=True).click()
    admin.get_by_role("link", name="Safety").click()
    admin.get_by_label("Crisis text").fill(CRISIS)
    admin.get_by_label("Other on-call e-mail addresses").fill("duty@riverside.example")
    admin.get_by_label("Ask the safety question in every check-in").check()
    screenshot(admin, "safety-settings")
    admin.get_by_role("button", name="Save").click()
    expect(admin.get_by_text("Saved the safety settings.")).to_be_visible()

    riverside.case("C-CALM1", [8, 8, 8, 5])  # a possible rupture, on a later session
    case, token = riverside.case("C-7RISK", [8], then_link=True)

    phone = open_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(f"/c/{token}/")
    expect(phone.get_by_role("heading", name="Your safety")).to_be_visible()
    rate_every_question(phone, 7)
    question = instruments.get_instrument("safety-question").items[0].text["en"]
    choose(scale(phone, question), 2)  # "on several days"
    screenshot(phone, "safety-question-phone")
    phone.get_by_role("button", name="Send my answers").click()
    expect(phone.get_by_role("heading", name="If you need help now")).to_be_visible()
    expect(phone.get_by_text(CRISIS)).to_be_visible()
    screenshot(phone, "safety-crisis-text-phone")

    # Sent in the client's request, before the page came back: no waiting.
    told = {address.addr_spec for message in smtp_server for address in message["To"].addresses}
    assert told == {"therapist@riverside.example", "duty@riverside.example"}
    for message in smtp_server:
        body = _text(message)
        assert message["Subject"] == "Alliance: a check-in needs urgent review"
        assert "Riverside Counselling" in message["From"]
        for secret in (case.client.code, question, "On several days", "2 (", "safety"):
            assert secret not in body and secret not in message["Subject"]
        assert re.search(r"/reviews/\d+/", body)

    therapist = open_context(viewport={"width": 1280, "height": 900})
    sign_in(therapist, riverside.therapist)
    first = therapist.locator("table tbody tr").first
    expect(first).to_contain_text("C-7RISK")
    expect(first).to_contain_text("Urgent: a risk answer to review")
    screenshot(therapist, "safety-caseload-risk-first")
    first.get_by_role("link", name="C-7RISK").click()
    therapist.get_by_role("link", name="Review and record the response").click()
    therapist.get_by_label("Contacted the client and talked about their safety").check()
    therapist.get_by_label(re.compile("In a few words")).fill("Rang at 18:10; seen tomorrow.")
    therapist.get_by_role("button", name="Record the response").click()
    expect(therapist.get_by_text("Escalation has stopped")).to_be_visible()
    screenshot(therapist, "safety-response-recorded")
    assert Signal.objects.get(case=case, type="risk").state == Signal.State.RESOLVED

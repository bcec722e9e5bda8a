"""The clinic's rhythm in a browser: the therapist records an attended session, the check-in
e-mail reaches a real SMTP server on loopback by itself, and the client follows the link in
the received message and answers."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alliance.web import instruments
from alliance.web.care import services as care
from alliance.web.checkins.models import Administration
from alliance.web.outreach import plans
from alliance.web.outreach.models import Message

from browser_steps import ITEMS, choose, scale, sign_in

pytestmark = pytest.mark.e2e

FORM = instruments.form_spec(instruments.get_instrument("alliance-client"))
WELLBEING = instruments.form_spec(instruments.get_instrument("wellbeing"))


def test_recording_a_session_e_mails_the_check_in_and_the_client_answers_from_the_message(
        riverside, desktop, phone, smtp_server, screenshot):
    plan = plans.clinic_plan(riverside.clinic)
    plan.sending, plan.quiet_from, plan.quiet_until = "automatic", None, None
    plan.save()
    case = care.admit_client(riverside.therapist, code="C-MAIL1", modality="cbt",
                             contact_email="sam@example.org")

    sign_in(desktop, riverside.therapist)
    desktop.goto(f"/cases/{case.pk}/sessions/new/")
    desktop.get_by_label("attended", exact=True).check()
    desktop.get_by_label("In person").check()
    desktop.get_by_role("button", name="Save session").click()
    expect(desktop.get_by_text("Messages to the client")).to_be_visible()
    expect(desktop.get_by_text("Sent", exact=True)).to_be_visible()
    screenshot(desktop, "session-with-sent-check-in")

    [received] = smtp_server
    assert received["To"] == "sam@example.org"
    assert received["From"].addresses[0].display_name == "Riverside Counselling"
    assert "Alex Moreno" in received["Subject"]
    text = received.get_body(preferencelist=("plain",)).get_content()
    html = received.get_body(preferencelist=("html",)).get_content()
    assert "Alex Moreno at Riverside Counselling" in text and "<img" not in html
    assert "C-MAIL1" not in text + html  # nothing that identifies the client's record
    [path] = re.findall(r"https?://[^/\s]+(/c/[A-Za-z0-9_-]+/)", text)

    phone.goto(path)
    for item in ITEMS:
        choose(scale(phone, next(i.text for i in FORM.items if i.id == item)), 8, tap=True)
    for item in WELLBEING.items:
        choose(scale(phone, item.text), 7, tap=True)
    phone.get_by_role("button", name="Send my answers").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")

    answered = Administration.objects.get(session__case=case, instrument_id="alliance-client")
    assert answered.responses == dict.fromkeys(ITEMS, 8)
    assert set(Message.objects.filter(case=case, kind="reminder")
               .values_list("status", flat=True)) == {"cancelled"}


def test_the_admin_sets_the_plan_and_the_therapist_reads_the_worklist(
        riverside, desktop, phone, screenshot):
    case = care.admit_client(riverside.therapist, code="C-PLAN1", modality="cbt",
                             contact_email="kim@example.org")
    sign_in(desktop, riverside.admin)
    desktop.goto("/clinic/measurement/")
    desktop.get_by_label("By itself, after each attended session is recorded").check()
    desktop.get_by_role("group", name="Wellbeing check-in").get_by_label(
        "Every n-th session (0: not regularly)").fill("2")
    desktop.get_by_role("button", name="Save the plan").click()
    expect(desktop.get_by_text("Saved the measurement plan.")).to_be_visible()
    screenshot(desktop, "measurement-plan-laptop")
    plan = plans.clinic_plan(riverside.clinic)
    assert plan.is_automatic and plan.schedule["wellbeing"]["every"] == 2

    sign_in(phone, riverside.therapist)
    phone.goto(f"/cases/{case.pk}/check-ins/")
    phone.get_by_label("Mobile number").fill("+44 7700 900123")
    phone.get_by_label("How the client wants check-ins").select_option("sms")
    phone.get_by_role("button", name="Save contact").tap()
    expect(phone.get_by_text("Saved how check-ins reach the client.")).to_be_visible()
    screenshot(phone, "case-check-ins-phone")
    phone.goto("/worklist/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Worklist")
    screenshot(phone, "worklist-phone")

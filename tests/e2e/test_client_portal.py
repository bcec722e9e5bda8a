"""The client portal in the browser: a client on a phone, their therapist on a laptop."""

from __future__ import annotations

import re

import pytest
from browser_steps import images_loaded, no_sideways_scroll, sign_in

pytestmark = pytest.mark.e2e


def portal_clinic(riverside, *, alliance: bool = True):
    clinic = riverside.clinic
    clinic.client_portal_enabled = True
    clinic.clients_see_alliance_scores = alliance
    clinic.save()


def emailed_link(path_part: str) -> str:
    """The path of the newest e-mailed link under `path_part`."""
    from django.core import mail

    for message in reversed(mail.outbox):
        # The path only: the address in the e-mail may be the configured site address.
        found = re.search(r"https?://[^/\s]+(" + re.escape(path_part) + r"\S*)", message.body)
        if found:
            return found.group(1)
    raise AssertionError(f"no e-mail with a {path_part} link")


def test_a_client_suggests_a_goal_on_a_phone_and_the_therapist_agrees(
        riverside, open_context, phone, screenshot):
    from alliance.web.care.models import Client

    portal_clinic(riverside)
    case = riverside.case("C-PORT1", [7, 7, 6])
    Client.objects.filter(pk=case.client_id).update(contact_email="client@example.org")
    therapist = open_context(viewport={"width": 1280, "height": 800})

    # The therapist invites the client from the case page.
    sign_in(therapist, riverside.therapist)
    therapist.goto(f"/cases/{case.pk}/")
    therapist.get_by_role("button", name="Invite to the client portal").click()
    therapist.get_by_text("We sent an invitation to the client portal").wait_for()

    # The client asks for a sign-in link on their phone and opens it.
    phone.goto("/portal/sign-in/")
    screenshot(phone, "portal-sign-in-phone")
    phone.get_by_label("Your e-mail address").first.fill("client@example.org")
    phone.get_by_role("button", name="E-mail me a sign-in link").click()
    phone.get_by_role("heading", name="Check your e-mail").wait_for()
    phone.goto(emailed_link("/portal/sign-in/"))
    phone.get_by_role("button", name="Sign in").click()
    phone.get_by_role("heading", name="Welcome").wait_for()

    # They suggest a goal in their own words.
    phone.get_by_role("link", name="Suggest a goal").click()
    phone.get_by_label("A goal in your own words").fill("Sleep through the night more often")
    phone.get_by_role("button", name="Suggest this goal").click()
    phone.get_by_text("Your suggestion: your therapist will look at it with you.").wait_for()
    assert no_sideways_scroll(phone)
    screenshot(phone, "portal-goals-phone")

    # The therapist agrees on the case page; the client sees the goal agreed.
    therapist.goto(f"/cases/{case.pk}/")
    therapist.get_by_role("button", name="Agree to this goal").click()
    phone.goto("/portal/goals/")
    phone.get_by_text(re.compile("Agreed by you both on")).wait_for()

    # Progress: wellbeing and (the clinic allows it) the client's own alliance ratings.
    phone.goto("/portal/progress/")
    assert images_loaded(phone) == []
    assert phone.locator("img.chart").count() == 2
    assert no_sideways_scroll(phone)
    screenshot(phone, "portal-progress-phone")


def test_feedback_from_the_portal_is_marked_discussed_by_the_therapist(riverside, open_context,
                                                                      phone, screenshot):
    from alliance.web.care.models import Client
    from alliance.web.portal import services as portal

    portal_clinic(riverside, alliance=False)
    case = riverside.case("C-PORT2", [8, 8])
    Client.objects.filter(pk=case.client_id).update(contact_email="client2@example.org")
    case.refresh_from_db()
    portal.invite(case, by=riverside.therapist)
    portal.request_sign_in_link("client2@example.org")
    phone.goto(emailed_link("/portal/sign-in/"))
    phone.get_by_role("button", name="Sign in").click()

    phone.get_by_role("link", name="Write to your therapist").first.click()
    phone.get_by_label("What would you like your therapist to know?").fill(
        "The breathing exercise helps, but the evenings are still hard.")
    phone.get_by_role("button", name="Send to my therapist").click()
    phone.get_by_text("Your message has gone to your therapist").wait_for()
    screenshot(phone, "portal-feedback-phone")

    therapist = open_context(viewport={"width": 1280, "height": 800})
    sign_in(therapist, riverside.therapist)
    therapist.goto(f"/cases/{case.pk}/")
    therapist.get_by_text("the evenings are still hard").wait_for()
    therapist.get_by_role("button", name="Mark as read").click()
    therapist.get_by_text("Marked as read.").wait_for()

    phone.goto("/portal/feedback/")
    phone.get_by_text("Read by your therapist").wait_for()
    # Alliance scores stay hidden while the clinic does not show them to clients.
    phone.goto("/portal/progress/")
    assert phone.locator("img.chart").count() == 1

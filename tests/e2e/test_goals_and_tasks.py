"""Goals and tasks in the browser: agreed by both, rated and reported on in the check-ins.

The client's case has weekly check-ins up to last week; the goal or task the two agree
today is asked about in today's check-in. A task is reported on from the session after
the one it was agreed at (docs/web.md, "In the client's check-in"), so its report comes
in the check-in of next week's session.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from alliance.web.goals.models import GoalReview, TaskReport

from browser_steps import DESKTOP, PHONE, no_sideways_scroll, sign_in
from browser_steps import choose, scale
from course_steps import client_signs_in, next_check_in, rate_alliance, weekly_case

pytestmark = pytest.mark.e2e

GOAL = "Sleep through the night more often"


def goal_item(page, text: str):
    """The goal's entry in the case page's "Goals and tasks" section."""
    section = page.get_by_role("region", name="Goals and tasks")
    return section.locator("li.goal").filter(has=page.get_by_role("heading", name=text))


def test_a_goal_agreed_in_the_portal_is_rated_in_a_later_check_in(riverside, open_context,
                                                                   screenshot):
    from django.utils import timezone

    today = timezone.localdate()
    case = weekly_case(riverside, "C-GOAL1", [6, 7, 7], last=today - dt.timedelta(days=7),
                       email="client@example.org")
    phone = open_context(**PHONE)
    client_signs_in(riverside, case, phone)

    # On their phone, the client suggests a goal in their own words.
    phone.get_by_role("link", name="Suggest a goal").click()
    phone.get_by_label("A goal in your own words").fill(GOAL)
    phone.get_by_role("button", name="Suggest this goal").click()
    expect(phone.get_by_text("Your suggestion: your therapist will look at it with you.")
           ).to_be_visible()
    assert no_sideways_scroll(phone)
    screenshot(phone, "goal-1-suggested-in-the-portal-phone")

    # The therapist finds it waiting on the case page, agrees, and asks for a review.
    therapist = open_context(**DESKTOP)
    sign_in(therapist, riverside.therapist)
    therapist.goto(f"/cases/{case.pk}/")
    goal = goal_item(therapist, GOAL)
    expect(goal).to_contain_text("Waiting for your agreement")
    expect(goal).to_contain_text("Proposed by the client")
    goal.get_by_role("button", name="Agree to this goal").click()
    expect(goal).to_contain_text(re.compile(r"Agreed by both on \d+ \w+ \d{4}"))
    expect(goal).to_contain_text("No progress ratings yet.")
    therapist.get_by_role("button", name="Ask for a review at the next check-in").click()
    expect(therapist.get_by_role("region", name="Goals and tasks")).to_contain_text(
        "A review has been asked for: the client's next check-in asks for their progress "
        "ratings.")
    screenshot(therapist, "goal-2-agreed-review-asked-case-page")

    # The client's check-in after today's session, from a link on the phone, asks about
    # the goal too.
    token = next_check_in(riverside, case, date=today)
    phone.goto(f"/c/{token}/")
    expect(phone.get_by_role("heading", name="Your goals")).to_be_visible()
    # Six alliance questions, four on wellbeing, and the goal: each a scale, none chosen.
    expect(phone.locator("fieldset.scale-item")).to_have_count(11)
    expect(phone.locator("input[type=radio]:checked")).to_have_count(0)
    rate_alliance(phone, 8)
    progress = scale(phone, GOAL)
    expect(progress.get_by_role("radio", name=re.compile(r"^0\W+Not started yet$"))
           ).to_have_count(1)
    expect(progress.get_by_role("radio", name=re.compile(r"^10\W+Reached it$"))).to_have_count(1)
    choose(progress, 3, tap=True)
    expect(progress.locator("input:checked")).to_have_value("3")
    assert no_sideways_scroll(phone)
    screenshot(phone, "goal-3-check-in-with-goal-rating-phone")
    phone.get_by_role("button", name="Send my answers").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")

    rating = GoalReview.objects.get(goal__case=case)
    assert (rating.side, rating.rating, rating.session.number) == ("client", 3, 4)

    # The case page shows the client's rating at session 4, and the review is answered.
    therapist.reload()
    goal = goal_item(therapist, GOAL)
    row = goal.get_by_role("table", name="Progress ratings of this goal by session") \
        .get_by_role("row").filter(has=therapist.get_by_role("rowheader", name="4"))
    expect(row.get_by_role("cell")).to_have_text([re.compile(r"\d+ \w+ \d{4}"), "3", "—"])
    expect(therapist.get_by_role("region", name="Goals and tasks")).to_contain_text(
        "Next review in 4 sessions (every 4 sessions).")
    screenshot(therapist, "goal-4-client-rating-case-page")


def test_an_agreed_task_is_reported_on_in_the_next_check_in_and_shows_on_the_case_page(
        riverside, open_context, screenshot):
    from django.utils import timezone

    from alliance.web.goals import services as goals

    today = timezone.localdate()
    case = weekly_case(riverside, "C-TASK1", [7, 7], last=today - dt.timedelta(days=7))
    goal = goals.propose_goal(case, "Feel less tense on work days", by=riverside.therapist,
                              proposed_by="client")
    goals.confirm_goal(goal, by=riverside.therapist)

    # In today's session the therapist adds a task to the goal.
    therapist = open_context(**DESKTOP)
    sign_in(therapist, riverside.therapist)
    therapist.goto(f"/cases/{case.pk}/")
    item = goal_item(therapist, goal.text)
    item.get_by_text("Add a task").click()
    item.get_by_label("What").fill("A ten-minute walk after lunch")
    item.get_by_label("How often").fill("on work days")
    item.get_by_role("button", name="Add the task").click()
    task = item.locator("li.task")
    expect(task).to_contain_text("A ten-minute walk after lunch · on work days")
    expect(task).to_contain_text("Waiting for the client to agree")

    # Today's check-in asks the client whether the task fits; they agree.
    phone = open_context(**PHONE)
    token = next_check_in(riverside, case, date=today)
    phone.goto(f"/c/{token}/")
    expect(phone.get_by_role("heading", name="Things to try between sessions")).to_be_visible()
    expect(phone.get_by_role("heading", name="Since your last session")).to_have_count(0)
    phone.get_by_role("group", name="A ten-minute walk after lunch").get_by_label(
        "Yes, that fits for me").check()
    rate_alliance(phone, 7)
    phone.get_by_role("button", name="Send my answers").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    therapist.reload()
    expect(task).to_contain_text("Agreed by both")
    expect(task).to_contain_text("No reports yet: the client reports at their next check-in.")

    # A week later, the check-in asks how it went: partly done, fairly helpful.
    token = next_check_in(riverside, case, date=today + dt.timedelta(days=7))
    phone.goto(f"/c/{token}/")
    report = phone.locator(".task-report").filter(has_text="A ten-minute walk after lunch")
    expect(report.get_by_role("group", name=re.compile("A ten-minute walk after lunch"))
           ).to_be_visible()
    rate_alliance(phone, 7)
    report.get_by_role("radio", name="Partly", exact=True).check()
    helpful = scale(report, "If you did it, even partly: how helpful was it?")
    choose(helpful, 6)
    expect(helpful.locator("input:checked")).to_have_value("6")
    assert no_sideways_scroll(phone)
    screenshot(phone, "goal-task-report-check-in-phone")
    phone.get_by_role("button", name="Send my answers").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    stored = TaskReport.objects.get(task__goal=goal)
    assert (stored.done, stored.helpful, stored.session.number) == ("partly", 6, 4)

    therapist.reload()
    expect(task.locator(".task-reports")).to_have_text("Session 4: partly, helpfulness 6 of 10")
    screenshot(therapist, "goal-task-report-case-page")

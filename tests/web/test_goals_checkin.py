"""Goal ratings, task reports and agreements inside the client's check-in form.

The questions appear only when there is something to ask (a goal or task to agree to, a
review due, a task running since the last session); a submission stores them with the
check-in in one transaction, once, and a value off the 0–10 scale stores nothing.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from alliance.web.care import services as care
from alliance.web.care.models import Session
from alliance.web.checkins import services as checkins
from alliance.web.checkins.models import Administration, CheckinLink
from alliance.web.goals import services
from alliance.web.goals.models import Goal, GoalReview, ReviewRequest, Task, TaskReport

from helpers import checkin_post


def post(web, issued, answers, **goal_fields):
    data = checkin_post(answers)
    data.update({f"goals-{name}": str(value) for name, value in goal_fields.items()})
    return web.post(issued.path, data)


def later_session(case, days_after=7):
    """A session after today (what the test sets up happens today, at session 1)."""
    number = case.next_session_number()
    return care.record_session(case, date=timezone.localdate() + dt.timedelta(days=days_after * number),
                               status=Session.Status.ATTENDED)


def test_without_goals_the_check_in_is_unchanged(client, issued):
    html = client.get(issued.path).content.decode()
    assert "goals-" not in html and "Your goals" not in html


def test_the_client_agrees_to_a_suggested_goal_and_task_in_the_check_in(
        client, case, therapist, issued, client_answers):
    goal = services.propose_goal(case, "Walk to the shop on my own", by=therapist)
    other = services.propose_goal(case, "Phone my mother weekly", by=therapist)
    agreed = services.propose_goal(case, "Cook on Sundays", by=case.client)
    services.confirm_goal(agreed, by=therapist)
    task = services.propose_task(agreed, "Pick one recipe", by=therapist)
    html = client.get(issued.path).content.decode()
    assert "Goals your therapist suggested" in html
    assert "“Walk to the shop on my own”" in html and "Not yet" in html
    assert "Pick one recipe" in html and "Things to try between sessions" in html
    assert "Your goals" not in html  # no review due yet
    response = post(client, issued, client_answers, **{f"goal_{goal.pk}_agree": "yes",
                                                        f"goal_{other.pk}_agree": "not_yet",
                                                        f"task_{task.pk}_agree": "yes"})
    assert response.status_code == 302
    goal.refresh_from_db(), other.refresh_from_db(), task.refresh_from_db()
    assert goal.status == "agreed" and goal.status_changed_by_client == case.client
    assert other.status == "proposed" and other.client_confirmed_at is None
    assert task.is_running
    assert CheckinLink.objects.get().used_at is not None


def test_a_due_review_asks_for_ratings_and_running_tasks_ask_for_reports(
        client, case, therapist, agreed_goal, running_task, client_answers):
    services.request_review(case, by=therapist)
    session = later_session(case)
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    html = client.get(issued.path).content.decode()
    assert "Your goals" in html and "How far along are you with each goal" in html
    assert f'name="goals-goal_{agreed_goal.pk}_progress"' in html
    assert "Since your last session" in html and "Phone away at 10 pm" in html
    assert f'name="goals-task_{running_task.pk}_done"' in html
    assert "If you did it, even partly: how helpful was it?" in html
    response = post(client, issued, client_answers,
                    **{f"goal_{agreed_goal.pk}_progress": 6,
                       f"task_{running_task.pk}_done": "partly",
                       f"task_{running_task.pk}_helpful": 8})
    assert response.status_code == 302
    administration = Administration.objects.get(session=session, instrument_id="alliance-client")
    review = GoalReview.objects.get()
    assert (review.rating, review.side, review.by_client, review.session, review.administration) \
        == (6, "client", case.client, session, administration)
    report = TaskReport.objects.get()
    assert (report.done, report.helpful, report.session, report.administration) == (
        "partly", 8, session, administration)
    assert ReviewRequest.objects.get().fulfilled_at is not None
    # Sending the same link again stores nothing more.
    again = post(client, issued, client_answers, **{f"goal_{agreed_goal.pk}_progress": 2})
    assert again.status_code == 410
    assert GoalReview.objects.count() == 1 and TaskReport.objects.count() == 1


def test_a_review_comes_due_after_four_sessions_without_a_request(
        client, case, therapist, agreed_goal, client_answers):
    for _ in range(3):
        later_session(case)
    session = later_session(case)
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    assert f"goals-goal_{agreed_goal.pk}_progress" in client.get(issued.path).content.decode()
    early = checkins.issue_link(case.sessions.get(number=4), "alliance-client", by=therapist)
    assert "goals-goal_" not in client.get(early.path).content.decode()


def test_an_out_of_range_rating_is_a_clear_error_and_nothing_is_stored(
        client, case, therapist, agreed_goal, running_task, client_answers):
    services.request_review(case, by=therapist)
    session = later_session(case)
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    response = post(client, issued, client_answers,
                    **{f"goal_{agreed_goal.pk}_progress": 11,
                       f"task_{running_task.pk}_done": "done",
                       f"task_{running_task.pk}_helpful": 5})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please choose a value from 0 to 10." in html
    assert "Please look at the questions marked below. Your other answers are kept." in html
    assert 'aria-invalid="true"' in html
    assert not GoalReview.objects.exists() and not TaskReport.objects.exists()
    assert not Administration.objects.filter(session=session, submitted_at__isnull=False).exists()
    assert CheckinLink.objects.get(pk=issued.link.pk).used_at is None
    assert ReviewRequest.objects.get().fulfilled_at is None


def test_a_task_not_done_is_stored_without_a_helpfulness_rating_and_a_skipped_one_not_at_all(
        client, case, therapist, agreed_goal, running_task, client_answers):
    second = services.propose_task(agreed_goal, "Write three lines in a diary", by=therapist)
    services.confirm_task(second, by=case.client)
    session = later_session(case)
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    response = post(client, issued, client_answers,
                    **{f"task_{running_task.pk}_done": "not_done",
                       f"task_{running_task.pk}_helpful": 9,
                       f"task_{second.pk}_helpful": 5})
    assert response.status_code == 302
    report = TaskReport.objects.get()
    assert (report.task, report.done, report.helpful) == (running_task, "not_done", None)


def test_a_task_agreed_at_this_session_is_not_reported_on_yet(client, case, therapist,
                                                               running_task, issued):
    # Agreed today, and the check-in is for session 1: nothing to report since then.
    assert "Since your last session" not in client.get(issued.path).content.decode()


def test_the_goal_questions_come_once_whichever_form_the_sessions_link_was_made_for(
        client, case, therapist, session, agreed_goal):
    services.request_review(case, by=therapist)
    issued = checkins.issue_link(session, "wellbeing", by=therapist)
    html = client.get(issued.path).content.decode()
    assert html.count(f'name="goals-goal_{agreed_goal.pk}_progress" value="0"') == 1


def test_a_goal_agreed_meanwhile_is_skipped_and_the_rest_is_stored(
        client, case, therapist, issued, client_answers):
    goal = services.propose_goal(case, "Walk to the shop on my own", by=case.client)
    client.get(issued.path)
    # The client proposed it, so the form asks nothing; a therapist proposal then ends.
    suggested = services.propose_goal(case, "Phone my mother weekly", by=therapist)
    html = client.get(issued.path).content.decode()
    assert f"goals-goal_{suggested.pk}_agree" in html
    services.set_goal_status(suggested, "dropped", by=therapist)
    response = post(client, issued, client_answers, **{f"goal_{suggested.pk}_agree": "yes"})
    assert response.status_code == 302
    suggested.refresh_from_db()
    assert suggested.status == "dropped"
    assert Administration.objects.get(session=issued.link.administration.session_id,
                                      instrument_id="alliance-client").submitted_at
    assert Goal.objects.get(pk=goal.pk).status == "proposed"


def test_two_submissions_of_one_link_store_the_goal_answers_once(case, therapist, agreed_goal,
                                                         client_answers):
    services.request_review(case, by=therapist)
    session = later_session(case)
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    from alliance.web.goals.checkin import form_for

    # Both forms are opened and filled in before either is sent.
    forms = [form_for(issued.link.administration, {f"goals-goal_{agreed_goal.pk}_progress": "7"})
             for _ in range(2)]
    stored = []
    for form in forms:
        assert form.is_valid()
        try:
            checkins.submit_link(issued.token, client_answers, {"more_helpful": ""},
                                 also=form.store)
            stored.append(True)
        except checkins.LinkUsed:
            stored.append(False)
    assert stored == [True, False]
    assert GoalReview.objects.count() == 1


def test_the_task_list_of_the_check_in_leaves_out_tasks_ended_before_the_last_session(
        client, case, therapist, agreed_goal, running_task, client_answers):
    Task.objects.filter(pk=running_task.pk).update(until=dt.date(2026, 1, 1))
    later_session(case)
    session = later_session(case)
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    assert "Phone away at 10 pm" not in client.get(issued.path).content.decode()

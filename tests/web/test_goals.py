"""Goals and tasks: every state change of the services, who may make it, and the case page.

The rules (docs/web.md, "Goals and tasks"): either side proposes and so confirms; a goal
or task is agreed once both have confirmed; a revision keeps the history and needs both
again; achieved (only when agreed) and dropped are dated, with who did it; reviews are
0–10 progress ratings by either side; reports say done / partly / not done and how
helpful (0–10). The case's therapist and client may act; anyone else may not.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from django.utils import timezone

from alliance.web.care import services as care
from alliance.web.care.models import Case, Session
from alliance.web.goals import services
from alliance.web.goals.models import Goal, GoalEvent, GoalReview, ReviewRequest, Task, TaskReport
from alliance.web.goals.services import GoalError

START = dt.date(2026, 1, 5)


def next_session(case, status=Session.Status.ATTENDED):
    """The next weekly session. Session 1 is in the past; what happens in a test happens
    today, so later sessions are dated after today (a goal agreed now is at session 1)."""
    number = case.next_session_number()
    return care.record_session(case, date=timezone.localdate() + dt.timedelta(days=7 * number),
                               status=status)


def kind_of(call) -> str:
    with pytest.raises(GoalError) as caught:
        call()
    assert str(caught.value) == caught.value.message and caught.value.message
    return caught.value.kind


@pytest.fixture
def client_of(case):
    return case.client


# --------------------------------------------------------------------------- goals

def test_a_therapist_proposal_is_confirmed_on_the_therapist_side_and_waits_for_the_client(
        case, therapist):
    goal = services.propose_goal(case, "  Get back to   the gym twice a week ", by=therapist)
    assert goal.text == "Get back to the gym twice a week"
    assert goal.status == Goal.Status.PROPOSED and goal.proposed_by == "therapist"
    assert goal.therapist_confirmed_at is not None and goal.therapist_confirmed_by == therapist
    assert goal.client_confirmed_at is None and goal.waiting_for == "client"
    event = goal.events.get()
    assert (event.kind, event.side, event.by_staff, event.new_text) == (
        "proposed", "therapist", therapist, goal.text)


def test_a_goal_is_agreed_only_when_the_client_confirms_too(case, therapist):
    goal = services.propose_goal(case, "Feel less on edge at work", by=therapist)
    assert not Goal.objects.get(pk=goal.pk).both_confirmed
    services.confirm_goal(goal, by=case.client)
    goal.refresh_from_db()
    assert goal.status == Goal.Status.AGREED and goal.both_confirmed
    assert goal.first_agreed_at == goal.client_confirmed_at == goal.status_changed_at
    assert goal.status_changed_by_client == case.client and goal.status_changed_by_staff is None
    assert [(e.kind, e.side) for e in goal.events.all()] == [("proposed", "therapist"),
                                                            ("confirmed", "client")]
    assert goal.events.last().by_client == case.client


def test_the_client_proposes_in_their_own_words_and_the_therapist_agrees(case, therapist):
    goal = services.propose_goal(case, "Stop dreading Sunday evenings", by=case.client)
    assert goal.proposed_by == "client" and goal.proposed_by_client == case.client
    assert goal.waiting_for == "therapist"
    services.confirm_goal(goal, by=therapist)
    assert goal.status == Goal.Status.AGREED and goal.status_changed_by_staff == therapist


def test_a_goal_in_the_clients_words_entered_by_the_therapist_waits_for_the_therapist(
        case, therapist):
    goal = services.propose_goal(case, "Be able to say no to my brother", by=therapist,
                                 proposed_by="client")
    assert goal.proposed_by == "client" and goal.proposed_by_staff == therapist
    assert goal.client_confirmed_at is not None and goal.therapist_confirmed_at is None
    event = goal.events.get()
    assert (event.side, event.by_staff, event.by_client) == ("client", therapist, None)
    services.confirm_goal(goal, by=therapist)
    assert goal.status == Goal.Status.AGREED


def test_confirming_twice_or_an_agreed_goal_is_refused_with_a_kind(case, therapist, agreed_goal):
    goal = services.propose_goal(case, "Walk the dog myself again", by=therapist)
    assert kind_of(lambda: services.confirm_goal(goal, by=therapist)) == "already_confirmed"
    assert kind_of(lambda: services.confirm_goal(agreed_goal, by=therapist)) == "already_agreed"
    assert kind_of(lambda: services.propose_goal(case, "   ", by=therapist)) == "invalid_text"
    assert kind_of(lambda: services.propose_goal(case, "x" * 301, by=therapist)) == \
        "invalid_text"
    assert kind_of(lambda: services.propose_goal(case, "Mine", by=case.client,
                                                 proposed_by="therapist")) == "not_allowed"


def test_a_revision_keeps_the_history_and_needs_both_to_confirm_again(
        case, therapist, agreed_goal):
    first_agreed = agreed_goal.first_agreed_at
    goal = services.revise_goal(agreed_goal, "Sleep through five nights a week", by=therapist)
    assert goal.status == Goal.Status.PROPOSED and goal.text == "Sleep through five nights a week"
    assert goal.therapist_confirmed_at is not None and goal.client_confirmed_at is None
    assert goal.revised_at is not None and goal.first_agreed_at == first_agreed
    revised = goal.events.get(kind=GoalEvent.Kind.REVISED)
    assert (revised.old_text, revised.new_text) == ("Sleep through most nights",
                                                    "Sleep through five nights a week")
    assert kind_of(lambda: services.confirm_goal(goal, by=therapist)) == "already_confirmed"
    services.confirm_goal(goal, by=case.client)
    goal.refresh_from_db()
    assert goal.status == Goal.Status.AGREED and goal.first_agreed_at == first_agreed
    assert [e.kind for e in goal.events.all()] == ["proposed", "confirmed", "revised",
                                                   "confirmed"]
    assert kind_of(lambda: services.revise_goal(goal, goal.text, by=case.client)) == "unchanged"


def test_a_revision_by_the_client_waits_for_the_therapist(case, therapist, agreed_goal):
    goal = services.revise_goal(agreed_goal, "Sleep better, most nights", by=case.client)
    assert goal.waiting_for == "therapist"
    services.confirm_goal(goal, by=therapist)
    assert goal.status == Goal.Status.AGREED


def test_only_an_agreed_goal_can_be_achieved_and_a_proposed_one_can_be_dropped(
        case, therapist, agreed_goal, running_task):
    proposed = services.propose_goal(case, "Call my sister weekly", by=therapist)
    assert kind_of(lambda: services.set_goal_status(proposed, "achieved", by=therapist)) == \
        "not_agreed"
    assert kind_of(lambda: services.set_goal_status(proposed, "paused", by=therapist)) == \
        "invalid_status"
    services.set_goal_status(proposed, "dropped", by=case.client)
    assert proposed.status == "dropped" and proposed.status_changed_by_client == case.client
    goal = services.set_goal_status(agreed_goal, "achieved", by=therapist)
    assert goal.status == "achieved" and goal.status_changed_by_staff == therapist
    assert goal.status_changed_at is not None
    assert goal.events.last().kind == "achieved"
    running_task.refresh_from_db()
    assert running_task.status == Task.Status.DONE  # its tasks end with it
    for call in (lambda: services.set_goal_status(goal, "dropped", by=therapist),
                 lambda: services.revise_goal(goal, "Something else", by=therapist),
                 lambda: services.confirm_goal(proposed, by=therapist),
                 lambda: services.propose_task(goal, "More", by=therapist)):
        assert kind_of(call) == "closed"


@pytest.mark.parametrize("who", ["other_therapist", "supervisor", "admin"])
def test_staff_other_than_the_cases_therapist_cannot_change_its_goals(
        request, who, case, agreed_goal):
    member = request.getfixturevalue(who)
    for call in (lambda: services.propose_goal(case, "Theirs", by=member),
                 lambda: services.revise_goal(agreed_goal, "New words", by=member),
                 lambda: services.record_review(agreed_goal, by=member, rating=5),
                 lambda: services.set_goal_status(agreed_goal, "dropped", by=member)):
        assert kind_of(call) == "not_allowed"


def test_a_client_cannot_act_on_another_clients_goals(case, agreed_goal, other_therapist_case):
    stranger = other_therapist_case.client
    assert kind_of(lambda: services.confirm_goal(agreed_goal, by=stranger)) == "not_allowed"
    assert kind_of(lambda: services.record_review(agreed_goal, by=stranger, rating=3)) == \
        "not_allowed"
    assert kind_of(lambda: services.propose_goal(case, "Not mine", by=stranger)) == "not_allowed"


def test_nothing_changes_once_the_case_has_ended(case, therapist, agreed_goal):
    care.end_case(case, status=Case.Status.CLOSED, end_date=START + dt.timedelta(days=30))
    case.refresh_from_db()
    assert kind_of(lambda: services.propose_goal(case, "Late", by=therapist)) == "case_closed"
    assert kind_of(lambda: services.record_review(agreed_goal, by=case.client, rating=5)) == \
        "case_closed"


# --------------------------------------------------------------------------- reviews

def test_each_side_reviews_progress_on_an_agreed_goal_from_0_to_10(case, therapist, session,
                                                                    agreed_goal):
    mine = services.record_review(agreed_goal, by=therapist, rating=4)
    theirs = services.record_review(agreed_goal, by=case.client, rating=7, session=session)
    assert (mine.side, mine.rating, mine.by_staff, mine.session) == ("therapist", 4, therapist,
                                                                     None)
    assert (theirs.side, theirs.rating, theirs.by_client, theirs.session) == (
        "client", 7, case.client, session)
    assert services.record_review(agreed_goal, by=therapist, rating=0).rating == 0
    assert services.record_review(agreed_goal, by=therapist, rating=10.0).rating == 10


@pytest.mark.parametrize("rating", [11, -1, 7.5, True, "7", None, float("nan")])
def test_a_rating_off_the_scale_is_refused_and_nothing_is_stored(case, therapist, agreed_goal,
                                                                   rating):
    assert kind_of(lambda: services.record_review(agreed_goal, by=therapist,
                                                  rating=rating)) == "invalid_rating"
    assert not GoalReview.objects.exists()


def test_a_proposed_goal_is_not_reviewed_and_a_session_must_be_the_cases_own(
        case, therapist, agreed_goal, other_therapist_case):
    proposed = services.propose_goal(case, "Cook for friends", by=therapist)
    assert kind_of(lambda: services.record_review(proposed, by=therapist, rating=5)) == \
        "not_agreed"
    elsewhere = other_therapist_case.sessions.get(number=1)
    assert kind_of(lambda: services.record_review(agreed_goal, by=therapist, rating=5,
                                                  session=elsewhere)) == "invalid_session"


def test_a_review_is_due_every_four_attended_sessions_since_the_clients_last_rating(
        case, therapist, agreed_goal):
    # Agreed at session 1; sessions 2–4 attended, then a missed one, then session 6.
    assert not services.review_due(case)
    for _ in range(3):
        next_session(case)
    assert services.review_status(case).sessions_since == 3 and not services.review_due(case)
    next_session(case, Session.Status.NO_SHOW)
    assert not services.review_due(case)  # a missed session does not count
    session = next_session(case)
    status = services.review_status(case)
    assert status.due and status.sessions_since == 4 and status.since_session == 1
    assert "A review is due: 4 sessions since the goals were agreed" in status.message
    assert not services.review_status(case, upto=5).due  # as of an earlier session
    services.record_review(agreed_goal, by=therapist, rating=6, session=session)
    assert services.review_due(case)  # the therapist's own rating does not answer it
    services.record_review(agreed_goal, by=case.client, rating=6, session=session)
    status = services.review_status(case)
    assert not status.due and status.last_review_session == 6
    assert status.message == "Next review in 4 sessions (every 4 sessions)."


def test_the_interval_is_the_clinics_setting(case, therapist, agreed_goal):
    case.client.clinic.goal_review_interval = 2
    case.client.clinic.save()
    next_session(case)
    assert not services.review_due(case)
    next_session(case)
    assert services.review_due(case)


def test_the_therapist_can_ask_for_a_review_now_and_the_clients_rating_answers_it(
        case, therapist, agreed_goal, session):
    assert kind_of(lambda: services.request_review(case, by=case.client)) == "not_allowed"
    request_ = services.request_review(case, by=therapist)
    assert request_.requested_by == therapist and services.review_due(case)
    assert services.review_status(case).requested
    assert kind_of(lambda: services.request_review(case, by=therapist)) == "already_requested"
    services.record_review(agreed_goal, by=case.client, rating=5, session=session)
    assert ReviewRequest.objects.get().fulfilled_at is not None
    assert not services.review_due(case)


def test_without_an_agreed_goal_there_is_nothing_to_review(case, therapist):
    services.propose_goal(case, "Not yet agreed", by=therapist)
    assert kind_of(lambda: services.request_review(case, by=therapist)) == "nothing_to_review"
    assert not services.review_due(case)


def test_goals_for_a_case_come_agreed_first_then_proposed_achieved_and_dropped(
        case, therapist, agreed_goal, other_therapist_case):
    dropped = services.propose_goal(case, "Dropped one", by=therapist)
    services.set_goal_status(dropped, "dropped", by=therapist)
    proposed = services.propose_goal(case, "Proposed one", by=therapist)
    services.propose_goal(other_therapist_case, "Someone else's",
                          by=other_therapist_case.therapist)
    assert [g.text for g in services.goals_for_case(case)] == [
        agreed_goal.text, proposed.text, dropped.text]


# --------------------------------------------------------------------------- tasks

def test_a_task_is_agreed_by_both_then_reported_on(case, therapist, agreed_goal, session):
    until = timezone.localdate() + dt.timedelta(days=30)
    task = services.propose_task(agreed_goal, "Ten-minute walk after lunch",
                                 how_often="on work days", until=until, by=therapist)
    assert (task.what, task.how_often, task.until, task.status) == (
        "Ten-minute walk after lunch", "on work days", until, "active")
    assert task.waiting_for == "client" and not task.is_running
    assert kind_of(lambda: services.report_task(task, by=case.client, done="done",
                                                helpful=5)) == "not_running"
    assert kind_of(lambda: services.confirm_task(task, by=therapist)) == "already_confirmed"
    services.confirm_task(task, by=case.client)
    assert task.is_running and task.agreed_at == task.client_confirmed_at
    assert kind_of(lambda: services.confirm_task(task, by=case.client)) == "already_agreed"
    report = services.report_task(task, by=case.client, done="partly", helpful=7,
                                  session=session)
    assert (report.done, report.helpful, report.side, report.by_client, report.session) == (
        "partly", 7, "client", case.client, session)
    skipped = services.report_task(task, by=case.client, done="not_done", helpful=9)
    assert skipped.helpful is None  # a task not done has no helpfulness rating
    kinds = [e.kind for e in agreed_goal.events.filter(task=task)]
    assert kinds == ["task_proposed", "task_confirmed"]


def test_task_reports_and_proposals_check_their_input(case, therapist, agreed_goal,
                                                      running_task):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    assert kind_of(lambda: services.propose_task(agreed_goal, "Late", until=yesterday,
                                                 by=therapist)) == "invalid_date"
    assert kind_of(lambda: services.propose_task(agreed_goal, "", by=therapist)) == \
        "invalid_text"
    assert kind_of(lambda: services.report_task(running_task, by=case.client, done="maybe",
                                                helpful=5)) == "invalid_done"
    assert kind_of(lambda: services.report_task(running_task, by=case.client, done="done",
                                                helpful=12)) == "invalid_rating"
    assert not TaskReport.objects.exists()


def test_a_client_can_propose_a_task_and_the_therapist_agrees(case, therapist, agreed_goal):
    task = services.propose_task(agreed_goal, "Text a friend on Fridays", by=case.client)
    assert task.proposed_by == "client" and task.waiting_for == "therapist"
    services.confirm_task(task, by=therapist)
    assert task.is_running


def test_a_task_is_finished_or_stopped_once_and_then_not_reported(case, therapist,
                                                                  running_task):
    services.set_task_status(running_task, "stopped", by=therapist)
    assert running_task.status == "stopped" and running_task.status_changed_by_staff == therapist
    assert kind_of(lambda: services.set_task_status(running_task, "done", by=therapist)) == \
        "closed"
    assert kind_of(lambda: services.report_task(running_task, by=case.client, done="done",
                                                helpful=5)) == "not_running"
    assert kind_of(lambda: services.set_task_status(running_task, "gone", by=therapist)) == \
        "invalid_status"


# --------------------------------------------------------------------------- pages

def goal_url(name, case, *args):
    return reverse(f"goals:{name}", args=[case.pk, *args])


def test_the_therapist_proposes_confirms_revises_rates_and_drops_through_the_page(
        login, therapist, case):
    web = login(therapist)
    response = web.post(goal_url("propose", case), {"text": "Sleep through most nights",
                                                    "proposed_by": "client"})
    goal = Goal.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/cases/{case.pk}/#goal-{goal.pk}")
    assert goal.waiting_for == "therapist"
    web.post(goal_url("confirm", case, goal.pk))
    goal.refresh_from_db()
    assert goal.status == "agreed"
    web.post(goal_url("rating", case, goal.pk), {"rating": "6"})
    assert GoalReview.objects.get().rating == 6
    web.post(goal_url("request_review", case))
    assert ReviewRequest.objects.filter(fulfilled_at__isnull=True).count() == 1
    web.post(goal_url("task_propose", case, goal.pk), {"what": "Phone out of the bedroom",
                                                       "how_often": "nightly", "until": ""})
    task = Task.objects.get()
    assert task.waiting_for == "client"
    web.post(goal_url("task_status", case, task.pk), {"status": "stopped"})
    task.refresh_from_db()
    assert task.status == "stopped"
    web.post(goal_url("revise", case, goal.pk), {"text": "Sleep well five nights a week"})
    goal.refresh_from_db()
    assert goal.status == "proposed" and goal.text == "Sleep well five nights a week"
    response = web.post(goal_url("status", case, goal.pk), {"status": "dropped"}, follow=True)
    goal.refresh_from_db()
    assert goal.status == "dropped"
    assert "Goal marked dropped." in response.content.decode()


def test_a_refused_change_comes_back_as_a_message_on_the_case_page(login, therapist, case):
    goal = services.propose_goal(case, "Walk to work", by=therapist)
    response = login(therapist).post(goal_url("confirm", case, goal.pk), follow=True)
    assert "You have already confirmed this goal; it is waiting for the client." in \
        response.content.decode()


def test_an_empty_goal_comes_back_on_a_page_of_its_own_with_the_problem(login, therapist, case):
    response = login(therapist).post(goal_url("propose", case), {"text": " ",
                                                                 "proposed_by": "client"})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    response = login(therapist).post(goal_url("rating", case, 999999), {"rating": "5"})
    assert response.status_code == 404
    assert not Goal.objects.exists()


def test_goal_actions_need_a_post(login, therapist, case):
    assert login(therapist).get(goal_url("propose", case)).status_code == 405


def test_a_goal_of_another_case_answers_404_even_with_ones_own_case_in_the_url(
        login, therapist, case, other_therapist_case):
    theirs = services.propose_goal(other_therapist_case, "Theirs",
                                   by=other_therapist_case.therapist)
    task = services.propose_task(theirs, "Their task", by=other_therapist_case.therapist)
    web = login(therapist)
    assert web.post(goal_url("confirm", case, theirs.pk)).status_code == 404
    assert web.post(goal_url("task_confirm", case, task.pk)).status_code == 404
    assert web.post(goal_url("confirm", other_therapist_case, theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.waiting_for == "client"


def test_the_supervisor_reads_the_section_but_changes_nothing(login, supervisor, case,
                                                              therapist, agreed_goal):
    web = login(supervisor)
    html = web.get(reverse("care:case", args=[case.pk])).content.decode()
    assert "Goals and tasks" in html and agreed_goal.text in html
    assert goal_url("rating", case, agreed_goal.pk) not in html
    assert "Add a goal" not in html
    assert web.post(goal_url("rating", case, agreed_goal.pk), {"rating": "3"}).status_code == 403
    assert not GoalReview.objects.exists()


def test_the_case_page_shows_goals_states_who_agreed_ratings_tasks_and_history(
        login, therapist, case, agreed_goal, running_task, session):
    pending = services.propose_goal(case, "Cook a proper meal on Sundays", by=case.client)
    for number, (client_rating, own) in enumerate(((3, 4), (5, 5), (6, 8)), start=2):
        s = next_session(case)
        services.record_review(agreed_goal, by=case.client, rating=client_rating, session=s)
        services.record_review(agreed_goal, by=therapist, rating=own, session=s)
    services.report_task(running_task, by=case.client, done="not_done", helpful=None,
                         session=s)
    html = login(therapist).get(reverse("care:case", args=[case.pk])).content.decode()
    assert 'id="goals-heading">Goals and tasks</h2>' in html
    assert "Sleep through most nights" in html and "Agreed by both on" in html
    assert "Proposed by you on" in html and "agreed by the client on" in html
    assert "Cook a proper meal on Sundays" in html and "Waiting for your agreement" in html
    assert goal_url("confirm", case, pending.pk) in html  # agree to the client's proposal
    assert 'src="data:image/svg+xml;base64,' in html and "progress-chart" in html
    assert escape("the client's ratings 3, 5, 6; the therapist's 4, 5, 8") in html
    assert "Phone away at 10 pm" in html and "every night" in html
    assert "Session 4: not done" in html
    assert "Reworded" not in html and "Proposed by you: “Sleep through most nights”" in html
    assert "<script" not in html.split('id="goals-heading"')[1].split("</section>")[0]


def test_the_case_page_takes_the_same_number_of_queries_for_one_or_six_goals(
        login, therapist, case, session):
    web = login(therapist)
    url = reverse("care:case", args=[case.pk])
    counts = []
    for n_goals in (1, 6):
        while Goal.objects.count() < n_goals:
            goal = services.propose_goal(case, f"Goal {Goal.objects.count()}", by=therapist)
            services.confirm_goal(goal, by=case.client)
            services.record_review(goal, by=case.client, rating=5, session=session)
            task = services.propose_task(goal, "A task", by=therapist)
            services.confirm_task(task, by=case.client)
            services.report_task(task, by=case.client, done="done", helpful=6)
            services.revise_goal(goal, f"Goal {goal.pk} reworded", by=therapist)
        web.get(url)  # warm caches (the clinic's instruments)
        with CaptureQueriesContext(connection) as queries:
            assert web.get(url).status_code == 200
        counts.append(len(queries))
    if counts[0] != counts[1]:
        print("\n".join(q["sql"][:300] for q in queries.captured_queries))
    assert counts[0] == counts[1]


def test_the_clinic_settings_page_has_the_goal_and_task_settings(login, admin, clinic):
    web = login(admin)
    html = web.get(reverse("clinics:settings")).content.decode()
    assert "Goals and tasks" in html and 'name="goal_review_interval"' in html
    form = {"name": clinic.name, "instruments_in_use": ["alliance-client", "wellbeing"],
            "rupture_rule": "sd1", "rupture_reference": "previous", "repair_window": 3,
            "low_alliance_percentile": 10, "discrepancy_threshold": 20,
            "disengagement_missed_sessions": 2, "disengagement_unanswered_checkins": 2,
            "disengagement_gap_factor": 2.0, "goal_review_interval": 6,
            "goal_agree_sessions": 3, "goal_agree_days": 28, "goal_ratings_apart": 2.5,
            "goal_flat_reviews": 4, "goal_flat_tolerance": 1.0, "task_in_a_row": 3,
            "task_unhelpful_rating": 2, "checkin_link_expiry_hours": 72}
    assert web.post(reverse("clinics:settings"), form).status_code == 302
    clinic.refresh_from_db()
    assert (clinic.goal_review_interval, clinic.goal_agree_days, clinic.goal_ratings_apart,
            clinic.task_unhelpful_rating) == (6, 28, 2.5, 2)


def test_a_task_waiting_for_agreement_can_be_withdrawn_but_not_finished(
        login, agreed_goal, therapist, case):
    from alliance.web.goals import services as goal_services
    from alliance.web.goals.models import Task

    task = goal_services.propose_task(agreed_goal, "Walk after lunch", by=therapist)
    page = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    item = page[page.index(f'id="task-{task.pk}"'):]
    item = item[:item.index("</li>")]
    assert "Withdraw the suggestion" in item
    assert "Mark finished" not in item and "Stop it" not in item
    with pytest.raises(goal_services.GoalError, match="withdraw the suggestion"):
        goal_services.set_task_status(task, "done", by=therapist)
    assert goal_services.set_task_status(task, "stopped", by=therapist).status == \
        Task.Status.STOPPED


def test_an_agreed_task_can_be_finished_or_stopped(login, running_task, therapist, case):
    page = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    item = page[page.index(f'id="task-{running_task.pk}"'):]
    item = item[:item.index("</li>")]
    assert "Mark finished" in item and "Stop it" in item
    assert "Withdraw the suggestion" not in item

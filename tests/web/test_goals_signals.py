"""Goal and task signals: from the case's goals, reviews and task reports to stored signals.

The rules are the core's (docs/signals.md, "Goals and tasks"); these tests check that the
web feeds them the right records with the clinic's thresholds and recomputes when goals
change. Defaults: not agreed at the 2nd held session after the proposal; ratings apart
by ≥ 3 points; review overdue at the 5th session without one (interval 4); progress flat
over 3 reviews within 0.5; a task not done or rated not helpful (≤ 3 of 10) at 2 reports
in a row.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alliance.web.care import services as care
from alliance.web.care.models import Session
from alliance.web.goals import services
from alliance.web.goals.models import Goal
from alliance.web.monitoring import recompute
from alliance.web.monitoring.models import Signal


def later_session(case, status=Session.Status.ATTENDED):
    """The next weekly session, dated after today (what a test does happens at session 1)."""
    number = case.next_session_number()
    return care.record_session(case, date=timezone.localdate() + dt.timedelta(days=7 * number),
                               status=status)


def signals(case, kind):
    return list(Signal.objects.filter(case=case, type=kind).select_related("session")
                .order_by("session__number"))


@pytest.fixture
def agreed_goal(case, therapist):
    goal = services.propose_goal(case, "Sleep through most nights", by=therapist)
    return services.confirm_goal(goal, by=case.client)


def test_a_goal_not_agreed_two_sessions_after_it_was_proposed_is_a_signal(
        case, therapist, after_commit):
    with after_commit():
        goal = services.propose_goal(case, "Walk to the shop on my own", by=therapist)
    with after_commit():
        later_session(case)
    assert not signals(case, "goal_not_agreed")
    with after_commit():
        later_session(case)
    (signal,) = signals(case, "goal_not_agreed")
    assert signal.session.number == 3 and signal.subject == str(goal.pk)
    assert signal.explanation == ("The goal 'Walk to the shop on my own' was proposed at "
                                  "session 1 and is not yet agreed 2 sessions later; it may "
                                  "help to revisit it together.")
    assert signal.parameters == {"after_sessions": 2, "after_days": 21.0}
    # Agreed after session 3 (here: sessions 2 and 3 were last week): still flagged there.
    Session.objects.filter(case=case, number=2).update(date=timezone.localdate() - dt.timedelta(days=14))
    Session.objects.filter(case=case, number=3).update(date=timezone.localdate() - dt.timedelta(days=7))
    Goal.objects.filter(pk=goal.pk).update(proposed_at=timezone.now() - dt.timedelta(days=30))
    with after_commit():
        services.confirm_goal(goal, by=case.client)
    assert [s.session.number for s in signals(case, "goal_not_agreed")] == [3]


def test_a_goal_dropped_before_it_was_agreed_stops_waiting(case, therapist, after_commit):
    with after_commit():
        goal = services.propose_goal(case, "Phone my mother weekly", by=therapist)
        services.set_goal_status(goal, "dropped", by=therapist)
    with after_commit():
        later_session(case)
        later_session(case)
    assert not signals(case, "goal_not_agreed")


def test_a_revision_starts_a_new_wait_for_agreement(case, therapist, agreed_goal, after_commit):
    # Counted in sessions only here (the test's sessions are a week apart from today).
    type(case.client.clinic).objects.update(goal_agree_days=60)
    with after_commit():
        later_session(case)
    with after_commit():
        services.revise_goal(agreed_goal, "Sleep through five nights a week", by=therapist)
    Session.objects.filter(case=case, number=2).update(date=dt.date(2026, 1, 12))
    with after_commit():
        later_session(case)
        later_session(case)
    (signal,) = signals(case, "goal_not_agreed")
    assert signal.session.number == 4
    assert "'Sleep through five nights a week' was proposed at session 2" in signal.explanation


def test_client_and_therapist_rating_a_goal_far_apart_is_a_signal(case, therapist, session,
                                                                   agreed_goal, after_commit):
    with after_commit():
        services.record_review(agreed_goal, by=case.client, rating=8, session=session)
        services.record_review(agreed_goal, by=therapist, rating=5)   # placed at session 1
    (signal,) = signals(case, "goal_ratings_apart")
    assert signal.session.number == 1
    assert signal.data == {"goal_id": str(agreed_goal.pk), "client_rating": 8.0,
                           "therapist_rating": 5.0, "difference": 3.0}
    assert signal.explanation == ("At session 1 the client rated progress on goal 'Sleep "
                                  "through most nights' 8 and the therapist 5, so they "
                                  "may see it differently.")
    with after_commit():
        services.record_review(agreed_goal, by=therapist, rating=7)  # the latest one counts
    assert not signals(case, "goal_ratings_apart")


def test_five_sessions_without_a_review_after_agreement_is_an_overdue_review(
        case, therapist, agreed_goal, after_commit):
    with after_commit():
        for _ in range(4):
            later_session(case)
    assert not signals(case, "goal_review_overdue")
    with after_commit():
        later_session(case)
    (signal,) = signals(case, "goal_review_overdue")
    assert signal.session.number == 6 and signal.subject == ""
    assert signal.explanation.startswith("The goals have not been reviewed for 5 sessions "
                                         "(since session 1)")


def test_reviews_are_no_longer_overdue_once_every_goal_is_achieved(case, therapist,
                                                                    agreed_goal, after_commit):
    with after_commit():
        services.set_goal_status(agreed_goal, "achieved", by=therapist)
        for _ in range(6):
            later_session(case)
    assert not signals(case, "goal_review_overdue")


def test_the_clinics_review_interval_is_the_overdue_rule(case, therapist, agreed_goal,
                                                          after_commit):
    clinic = case.client.clinic
    clinic.goal_review_interval = 2
    with after_commit():
        clinic.save()
        for _ in range(3):
            later_session(case)
    (signal,) = signals(case, "goal_review_overdue")
    assert signal.session.number == 4 and signal.parameters == {"max_sessions": 2}


def test_the_clients_progress_staying_level_over_three_reviews_is_a_signal(
        case, therapist, agreed_goal, after_commit):
    with after_commit():
        for rating in (5, 5, 5):
            session = later_session(case)
            services.record_review(agreed_goal, by=case.client, rating=rating,
                                   session=session)
    (signal,) = signals(case, "goal_progress_flat")
    assert signal.session.number == 4 and signal.data["ratings"] == [5.0, 5.0, 5.0]


@pytest.fixture
def running_task(agreed_goal, therapist, case):
    task = services.propose_task(agreed_goal, "Phone away at 10 pm", by=therapist)
    return services.confirm_task(task, by=case.client)


def report(case, task, done, helpful=None):
    session = later_session(case)
    services.report_task(task, by=case.client, done=done, helpful=helpful, session=session)


def test_a_task_not_done_twice_in_a_row_is_a_signal_partly_done_is_done(
        case, running_task, after_commit):
    with after_commit():
        report(case, running_task, "not_done")
        report(case, running_task, "partly", 6)
        report(case, running_task, "not_done")
    assert not signals(case, "task_not_done")
    with after_commit():
        report(case, running_task, "not_done")
    (signal,) = signals(case, "task_not_done")
    assert signal.session.number == 5 and signal.subject == str(running_task.pk)
    assert signal.explanation == ("The task 'Phone away at 10 pm' was not done at 2 reports "
                                  "in a row (sessions 4–5); adjusting it, or explaining its "
                                  "purpose, may help.")


def test_a_task_rated_not_helpful_twice_in_a_row_is_a_signal(case, running_task,
                                                              after_commit):
    with after_commit():
        report(case, running_task, "done", 3)
        report(case, running_task, "not_done")   # no rating: neither breaks nor extends
        report(case, running_task, "partly", 2)
    (signal,) = signals(case, "task_unhelpful")
    assert signal.session.number == 4
    assert "rated not helpful at 2 reports in a row" in signal.explanation


def test_the_clinics_task_thresholds_are_used_and_a_change_recomputes(
        case, running_task, after_commit):
    with after_commit():
        report(case, running_task, "done", 4)
        report(case, running_task, "done", 4)
    assert not signals(case, "task_unhelpful")  # 4 is above "not helpful at 3 or below"
    clinic = case.client.clinic
    clinic.task_unhelpful_rating = 4
    with after_commit():
        clinic.save()
    assert len(signals(case, "task_unhelpful")) == 1
    clinic.task_in_a_row = 3
    with after_commit():
        clinic.save()
    assert not signals(case, "task_unhelpful")


def test_goal_signals_show_in_the_case_pages_signal_list(login, case, therapist, running_task,
                                                          after_commit):
    from django.urls import reverse

    with after_commit():
        report(case, running_task, "not_done")
        report(case, running_task, "not_done")
    html = login(therapist).get(reverse("care:case", args=[case.pk])).content.decode()
    assert "An agreed task is not getting done" in html
    assert "The task &#x27;Phone away at 10 pm&#x27; was not done" in html


def test_the_why_of_goal_and_task_signals_has_a_label_in_words_for_every_setting_and_number():
    """From the core's own detectors: no raw key (`client_rating`) shown as a label."""
    from types import SimpleNamespace

    import pandas as pd

    from alliance.core.signals.goals import (Goal, GoalReview, TaskReport, goal_not_agreed,
                                             goal_progress_flat, goal_ratings_apart,
                                             goal_review_overdue, goals_frame, reviews_frame,
                                             task_signals, tasks_frame)
    from alliance.web.monitoring.display import DATA, HIDDEN, PARAMETERS, RULE_LABELS, explain

    held = pd.DataFrame({"client_id": ["a"] * 8, "session": range(1, 9)})
    goals = goals_frame([Goal("a", "g1", proposed_session=1, agreed_session=1),
                         Goal("a", "g2", proposed_session=1)])
    reviews = reviews_frame([GoalReview("a", "g1", 2, client_rating=4, therapist_rating=8),
                             GoalReview("a", "g1", 3, client_rating=4, therapist_rating=5)])
    reports = tasks_frame([TaskReport("a", "t1", s, done=False, helpful=0) for s in (2, 3)])
    found = [*goal_not_agreed(goals, held), *goal_ratings_apart(reviews),
             *goal_review_overdue(goals, reviews, held, max_sessions=2),
             *goal_progress_flat(reviews, n_reviews=2), *task_signals(reports)]
    assert {s.rule for s in found} == {"not_agreed", "ratings_apart", "review_overdue",
                                       "progress_flat", "done_in_a_row", "helpful_in_a_row"}
    for signal in found:
        own = RULE_LABELS.get(signal.rule, {})
        for keys, shared in ((signal.parameters, PARAMETERS), (signal.data, DATA)):
            for key in keys:
                assert key in own or key in shared or key in HIDDEN, (signal.rule, key)
        why = explain(SimpleNamespace(rule=signal.rule, parameters=dict(signal.parameters),
                                      data=signal.data))
        shown = dict(why.parameters + why.data)
        if signal.rule == "ratings_apart":
            # Progress ratings are on 0–10, not the discrepancy rule's 0–100 points.
            assert shown == {"Ratings apart by at least (points, 0–10)": "3",
                             "Client's progress rating (0–10)": "4",
                             "Therapist's progress rating (0–10)": "8", "Points apart": "4"}
        if signal.rule == "progress_flat":
            # Two ratings are a series, not a range; the tolerance is a setting worth seeing.
            assert shown["Progress ratings (0–10), oldest first"] == "4, 4"
            assert shown["Ratings watched"] == "the client's"
            assert shown["Counted as level within (points)"] == "0.5"


def build_case(therapist, code, n_sessions):
    case = care.admit_client(therapist, code=code, modality="cbt",
                             start_date=dt.date(2026, 1, 5))
    care.record_session(case, date=dt.date(2026, 1, 5), status=Session.Status.ATTENDED)
    goal = services.propose_goal(case, "Sleep through most nights", by=therapist)
    services.confirm_goal(goal, by=case.client)
    services.propose_goal(case, "Walk to the shop on my own", by=therapist)
    task = services.propose_task(goal, "Phone away at 10 pm", by=therapist)
    services.confirm_task(task, by=case.client)
    for k in range(n_sessions - 1):
        session = later_session(case)
        services.record_review(goal, by=case.client, rating=4 + k % 3, session=session)
        services.record_review(goal, by=therapist, rating=5, session=session)
        services.report_task(task, by=case.client, done=("done", "not_done")[k % 2],
                             helpful=k % 10, session=session)
    return case


def test_recomputation_with_goals_takes_the_same_number_of_queries_for_5_or_30_sessions(
        therapist):
    counts = []
    cases = [build_case(therapist, "C-SHORT", 5), build_case(therapist, "C-LONG1", 30)]
    for case in cases:
        recompute.recompute_case_signals(case)
        assert Signal.objects.filter(case=case, type__startswith="task").exists()
        Signal.objects.filter(case=case).delete()  # some writes to do
        with CaptureQueriesContext(connection) as queries:
            recompute.recompute_case_signals(case)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 18  # the monitoring part's dozen and three for goals, reviews, reports


def test_recomputing_a_clinic_with_goals_takes_the_same_queries_for_2_or_6_cases(therapist):
    clinic = therapist.clinic
    counts = []
    for i in range(6):
        build_case(therapist, f"C-Q{i}", 5)
        if i in (1, 5):
            recompute.recompute_clinic_signals(clinic)  # the clinic's baseline, as in use
            Signal.objects.all().delete()
            with CaptureQueriesContext(connection) as queries:
                result = recompute.recompute_clinic_signals(clinic)
            assert result.cases == i + 1 and result.created > 0
            counts.append(len(queries))
    assert counts[0] == counts[1]

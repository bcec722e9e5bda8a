"""The case page's brief for the next session: the last check-in, open signals in words,
a goal review due, and an opening question drawn from the most important open signal."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from alliance.web.dashboards import brief, casepage
from alliance.web.goals import services as goals
from alliance.web.monitoring.models import Signal


def load(case):
    data = casepage.load_case(case)
    return brief.session_brief(data.series, data.signals, goals.review_status(case),
                               today=dt.date(2026, 1, 12))


def test_a_case_without_check_ins_or_signals_gets_the_plain_question(case):
    result = load(case)
    assert result.last_checkin == "No check-in answered yet."
    assert result.signals == [] and result.goals == ""
    assert result.question == brief.DEFAULT_QUESTION


def test_the_last_check_in_is_named_with_its_session_and_how_long_ago(case, issued,
                                                                      client_answers):
    from alliance.web.checkins import services as checkins

    checkins.submit_link(issued.token, client_answers, {"more_helpful": ""})
    session = case.sessions.get(number=1)
    result = load(case)
    days = (dt.date(2026, 1, 12) - session.date).days
    assert result.last_checkin == (f"Last check-in: session 1, {session.date.day} "
                                   f"{session.date:%B %Y} ({days} days ago).")


def test_the_question_comes_from_the_most_important_open_signal_in_the_clients_words(case):
    session = case.sessions.get(number=1)
    Signal.objects.create(case=case, session=session, type=Signal.Type.DISENGAGEMENT,
                          rule="t", explanation="Two check-ins in a row went unanswered.")
    Signal.objects.create(case=case, session=session, type=Signal.Type.RUPTURE,
                          subject="bond", rule="sd2", repair_state="pending",
                          explanation="The bond rating fell from 8.0 to 6.0 at session 1.")
    result = load(case)
    # A rupture comes before disengagement; both are listed, in their own sentences.
    assert result.signals == ["The bond rating fell from 8.0 to 6.0 at session 1.",
                              "Two check-ins in a row went unanswered."]
    assert result.question == ("Last time you rated how we get on lower than before — "
                               "what felt different?")
    assert result.question_source == "Possible rupture (bond), session 1"


def test_a_dismissed_signal_is_not_in_the_brief(case):
    Signal.objects.create(case=case, type=Signal.Type.LOW_ALLIANCE, rule="t", state="dismissed",
                          dismiss_reason="Talked it through.",
                          explanation="Lower than most clients at this session.")
    assert load(case).signals == []


def test_a_goal_review_due_is_in_the_brief(case, therapist, agreed_goal):
    goals.request_review(case, by=therapist)
    assert "review" in load(case).goals.lower()


def test_the_case_page_shows_the_brief(login, therapist, case):
    Signal.objects.create(case=case, type=Signal.Type.NOT_ON_TRACK, rule="t",
                          explanation="Wellbeing is below the expected range.")
    page = login(therapist).get(reverse("care:case", args=[case.pk])).content.decode()
    assert "For the next session" in page
    assert "Wellbeing is below the expected range." in page
    assert "Things look harder than we hoped lately" in page

"""Goals and tasks in the demo clinic: every active case has some, and every screen content."""

from __future__ import annotations

from collections import Counter

from django.db.models import Count
from django.urls import reverse

from alliance.web import demo
from alliance.web.care.models import Case
from alliance.web.goals import services
from alliance.web.goals.demo import seed_goals
from alliance.web.goals.models import Goal, GoalEvent, GoalReview, ReviewRequest, Task, TaskReport

from demo_clinic import TODAY, clinic, seeded  # noqa: F401 (fixtures)


def test_every_active_case_has_one_to_three_goals_of_its_own_and_closed_cases_none(clinic):
    active = Case.objects.filter(client__clinic=clinic, status=Case.Status.ACTIVE)
    per_case = Counter(Goal.objects.filter(case__in=active).values_list("case_id", flat=True))
    assert set(per_case) == set(active.values_list("pk", flat=True))
    # One to three in the plan, plus the suggestion waiting in a live check-in link.
    assert min(per_case.values()) >= 1 and max(per_case.values()) <= 4
    assert not Goal.objects.filter(case__client__clinic=clinic).exclude(case__in=active).exists()
    for case_id in per_case:
        texts = list(Goal.objects.filter(case_id=case_id).values_list("text", flat=True))
        assert len(texts) == len(set(texts))


def test_goals_are_agreed_pending_reworded_achieved_and_dropped_with_their_history(clinic):
    goals = Goal.objects.filter(case__client__clinic=clinic)
    states = Counter(goals.values_list("status", flat=True))
    assert states["agreed"] >= 30 and states["proposed"] >= 5 and states["achieved"] >= 1
    waiting = Counter(g.waiting_for for g in goals.filter(status="proposed"))
    assert waiting["client"] >= 3 and waiting["therapist"] >= 1
    for goal in goals.filter(status="agreed"):
        assert goal.both_confirmed and goal.first_agreed_at <= goal.agreed_at
    assert GoalEvent.objects.filter(goal__in=goals, kind="revised").exists()
    kinds = set(GoalEvent.objects.filter(goal__in=goals).values_list("kind", flat=True))
    assert {"proposed", "confirmed", "task_proposed", "task_confirmed"} <= kinds
    proposers = Counter(goals.values_list("proposed_by", flat=True))
    assert proposers["client"] >= 10 and proposers["therapist"] >= 10


def test_reviews_come_from_both_sides_about_every_four_sessions_within_0_to_10(clinic):
    reviews = GoalReview.objects.filter(goal__case__client__clinic=clinic)
    sides = Counter(reviews.values_list("side", flat=True))
    assert sides["client"] >= 60 and sides["therapist"] >= 50
    assert all(0 <= r <= 10 for r in reviews.values_list("rating", flat=True))
    for review in reviews.filter(side="client").select_related("session", "administration")[:50]:
        assert review.administration.session_id == review.session_id
    goal = reviews.filter(side="client").values("goal").annotate().first()["goal"]
    numbers = sorted(reviews.filter(goal=goal, side="client")
                     .values_list("session__number", flat=True))
    assert all(3 <= b - a <= 8 for a, b in zip(numbers, numbers[1:]))


def test_tasks_have_reports_some_not_done_or_not_helpful(clinic):
    tasks = Task.objects.filter(goal__case__client__clinic=clinic)
    assert tasks.count() >= 40 and tasks.filter(status="stopped").exists()
    reports = TaskReport.objects.filter(task__in=tasks)
    done = Counter(reports.values_list("done", flat=True))
    assert done["done"] > done["not_done"] > 0 and done["partly"] > 0
    assert reports.filter(helpful__lte=3).exists()
    assert not reports.filter(done="not_done", helpful__isnull=False).exists()


def test_goal_and_task_signals_appear_in_the_demo(clinic):
    from alliance.web.monitoring.models import Signal

    kinds = Counter(Signal.objects.filter(case__client__clinic=clinic)
                    .values_list("type", flat=True))
    assert {"goal_not_agreed", "goal_ratings_apart", "goal_progress_flat", "task_not_done",
            "task_unhelpful"} <= set(kinds)


def test_the_printed_check_in_link_asks_about_goals(seeded, client):
    link = demo.checkin_link(seeded.clinic, today=TODAY)
    case = link.administration.session.case
    assert ReviewRequest.objects.filter(case=case, fulfilled_at__isnull=True).exists()
    html = client.get(link.path).content.decode()
    assert "Goals your therapist suggested" in html and "Your goals" in html
    assert services.review_due(case)


def test_the_case_pages_show_the_goals_section(clinic, client):
    client.force_login(demo.StaffMember.objects.get(user__username=demo.THERAPIST_EMAILS[0]).user)
    case = (Case.objects.filter(therapist__user__username=demo.THERAPIST_EMAILS[0],
                                status="active")
            .annotate(n=Count("goals__reviews")).order_by("-n").first())
    html = client.get(reverse("care:case", args=[case.pk])).content.decode()
    assert "Goals and tasks" in html and "progress-chart" in html
    assert "Progress, rated 0–10" in html and "History" in html


def test_seeding_goals_again_adds_nothing(clinic):
    before = Goal.objects.count()
    assert seed_goals(clinic) == 0 and Goal.objects.count() == before

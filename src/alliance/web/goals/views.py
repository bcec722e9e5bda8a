"""The therapist's actions on a case's goals and tasks (the section of the case page).

Thin views: the case comes through `alliance.web.scoping` for a change (out of scope →
404; a supervisor reading a supervisee's case → 403), the goal or task must belong to
that case (404 otherwise), a form parses the input, a `services` function applies the
rules (a `GoalError` becomes a message), and the page goes back to the section. POST only,
with Django's CSRF check; everything works without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from alliance.web import scoping
from alliance.web.access import staff_required
from alliance.web.flow import act
from alliance.web.goals import forms, services
from alliance.web.goals.models import Goal, Task


def _case(request, pk):
    return scoping.get_case_or_404(request.user, pk, for_change=True)


def _goal(case, goal_pk) -> Goal:
    try:
        goal = Goal.objects.filter(case=case).get(pk=goal_pk)
    except (Goal.DoesNotExist, ValueError, TypeError):
        raise Http404("No such goal.") from None
    goal.case = case
    return goal


def _task(case, task_pk) -> Task:
    try:
        task = Task.objects.select_related("goal").filter(goal__case=case).get(pk=task_pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise Http404("No such task.") from None
    task.goal.case = case
    return task


def _back_to(case, anchor: str = "goals-heading") -> str:
    return reverse("care:case", args=[case.pk]) + f"#{anchor}"


def _back(case, anchor: str = "goals-heading"):
    return redirect(_back_to(case, anchor))


def _run(request, case, anchor, action, done: str):
    return act(request, action, done, _back_to(case, anchor))


def _form_page(request, case, form, *, title: str, action: str, goal=None):
    """A form that came back with a problem, on a page of its own (status 400)."""
    return render(request, "goals/form_page.html",
                  {"case": case, "form": form, "title": title, "action": action, "goal": goal},
                  status=400)


@staff_required
@require_POST
def propose(request, pk):
    case = _case(request, pk)
    form = forms.ProposeGoalForm(request.POST)
    if form.is_valid():
        try:
            goal = services.propose_goal(case, form.cleaned_data["text"], by=request.staff,
                                         proposed_by=form.cleaned_data["proposed_by"])
        except services.GoalError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Goal added.")
            return _back(case, f"goal-{goal.pk}")
    return _form_page(request, case, form, title="Add a goal",
                      action=reverse("goals:propose", args=[case.pk]))


@staff_required
@require_POST
def confirm(request, pk, goal_pk):
    case = _case(request, pk)
    goal = _goal(case, goal_pk)
    return _run(request, case, f"goal-{goal.pk}",
                lambda: services.confirm_goal(goal, by=request.staff), "You agreed to the goal.")


@staff_required
@require_POST
def revise(request, pk, goal_pk):
    case = _case(request, pk)
    goal = _goal(case, goal_pk)
    form = forms.ReviseGoalForm(request.POST)
    if form.is_valid():
        try:
            services.revise_goal(goal, form.cleaned_data["text"], by=request.staff)
        except services.GoalError as exc:
            form.add_error("text", str(exc))
        else:
            messages.success(request, "Goal reworded. The client agrees to the new words at "
                                      "their next check-in.")
            return _back(case, f"goal-{goal.pk}")
    return _form_page(request, case, form, title="Reword a goal", goal=goal,
                      action=reverse("goals:revise", args=[case.pk, goal.pk]))


@staff_required
@require_POST
def status(request, pk, goal_pk):
    case = _case(request, pk)
    goal = _goal(case, goal_pk)
    form = forms.GoalStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please choose achieved or dropped.")
        return _back(case, f"goal-{goal.pk}")
    chosen = form.cleaned_data["status"]
    return _run(request, case, f"goal-{goal.pk}",
                lambda: services.set_goal_status(goal, chosen, by=request.staff),
                f"Goal marked {Goal.Status(chosen).label.lower()}.")


@staff_required
@require_POST
def rating(request, pk, goal_pk):
    case = _case(request, pk)
    goal = _goal(case, goal_pk)
    form = forms.RatingForm(request.POST)
    if form.is_valid():
        try:
            services.record_review(goal, by=request.staff, rating=form.cleaned_data["rating"])
        except services.GoalError as exc:
            form.add_error("rating", str(exc))
        else:
            messages.success(request, "Your progress rating is recorded.")
            return _back(case, f"goal-{goal.pk}")
    return _form_page(request, case, form, title="Rate progress on a goal", goal=goal,
                      action=reverse("goals:rating", args=[case.pk, goal.pk]))


@staff_required
@require_POST
def request_review(request, pk):
    case = _case(request, pk)
    return _run(request, case, "goals-heading",
                lambda: services.request_review(case, by=request.staff),
                "Review requested: the client's next check-in asks for their ratings.")


@staff_required
@require_POST
def task_propose(request, pk, goal_pk):
    case = _case(request, pk)
    goal = _goal(case, goal_pk)
    form = forms.ProposeTaskForm(request.POST)
    if form.is_valid():
        try:
            services.propose_task(goal, form.cleaned_data["what"],
                                  how_often=form.cleaned_data["how_often"],
                                  until=form.cleaned_data["until"], by=request.staff)
        except services.GoalError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Task added. The client agrees to it at their next "
                                      "check-in.")
            return _back(case, f"goal-{goal.pk}")
    return _form_page(request, case, form, title="Add a task", goal=goal,
                      action=reverse("goals:task_propose", args=[case.pk, goal.pk]))


@staff_required
@require_POST
def task_confirm(request, pk, task_pk):
    case = _case(request, pk)
    task = _task(case, task_pk)
    return _run(request, case, f"goal-{task.goal_id}",
                lambda: services.confirm_task(task, by=request.staff), "You agreed to the task.")


@staff_required
@require_POST
def task_status(request, pk, task_pk):
    case = _case(request, pk)
    task = _task(case, task_pk)
    form = forms.TaskStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please choose finished or stopped.")
        return _back(case, f"goal-{task.goal_id}")
    chosen = form.cleaned_data["status"]
    return _run(request, case, f"goal-{task.goal_id}",
                lambda: services.set_task_status(task, chosen, by=request.staff),
                f"Task marked {Task.Status(chosen).label.lower()}.")

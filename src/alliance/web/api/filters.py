"""Query filters of the list endpoints (django-filter), and a stable ordering."""

from __future__ import annotations

import django_filters as df
from django import forms
from rest_framework.filters import OrderingFilter

from alliance.web.care.models import Case, Session
from alliance.web.checkins.models import Administration
from alliance.web.goals.models import Goal, Task
from alliance.web.monitoring.models import Signal

# Ids fit a 64-bit integer on every database: larger numbers are an input error, not a crash.
MAX_ID = 2**63 - 1


class IdFilter(df.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


def _dates(field: str, what: str):
    return (df.DateFilter(field_name=field, lookup_expr="gte",
                          label=f"Only {what} on or after this date (YYYY-MM-DD)."),
            df.DateFilter(field_name=field, lookup_expr="lte",
                          label=f"Only {what} on or before this date (YYYY-MM-DD)."))


class CaseFilter(df.FilterSet):
    client = IdFilter(field_name="client_id", label="Only the cases of this client.")
    status = df.ChoiceFilter(choices=Case.Status.choices)

    class Meta:
        model = Case
        fields = ["client", "status"]


class SessionFilter(df.FilterSet):
    case = IdFilter(field_name="case_id", label="Only the sessions of this case.")
    date_after, date_before = _dates("date", "sessions")
    status = df.ChoiceFilter(choices=Session.Status.choices)

    class Meta:
        model = Session
        fields = ["case", "date_after", "date_before", "status"]


class AdministrationFilter(df.FilterSet):
    case = IdFilter(field_name="session__case_id", label="Only the forms of this case.")
    session = IdFilter(field_name="session_id", label="Only the forms of this session.")
    date_after, date_before = _dates("session__date", "forms of sessions")
    respondent = df.ChoiceFilter(choices=Administration.Respondent.choices)
    submitted = df.BooleanFilter(field_name="submitted_at", lookup_expr="isnull", exclude=True,
                                 label="true: only answered forms; false: only waiting ones.")

    class Meta:
        model = Administration
        fields = ["case", "session", "date_after", "date_before", "respondent", "submitted"]


class SignalFilter(df.FilterSet):
    case = IdFilter(field_name="case_id", label="Only the signals of this case.")
    date_after, date_before = _dates("created_at__date", "signals raised")
    state = df.ChoiceFilter(choices=Signal.State.choices)
    type = df.ChoiceFilter(choices=Signal.Type.choices)

    class Meta:
        model = Signal
        fields = ["case", "date_after", "date_before", "state", "type"]


class GoalFilter(df.FilterSet):
    case = IdFilter(field_name="case_id", label="Only the goals of this case.")
    status = df.ChoiceFilter(choices=Goal.Status.choices)

    class Meta:
        model = Goal
        fields = ["case", "status"]


class TaskFilter(df.FilterSet):
    case = IdFilter(field_name="goal__case_id", label="Only the tasks of this case.")
    goal = IdFilter(field_name="goal_id", label="Only the tasks of this goal.")
    status = df.ChoiceFilter(choices=Task.Status.choices)

    class Meta:
        model = Task
        fields = ["case", "goal", "status"]


class StableOrdering(OrderingFilter):
    """The chosen order, then the id: equal dates never swap places between pages."""

    def get_ordering(self, request, queryset, view):
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(term.lstrip("-") in ("pk", "id") for term in ordering):
            ordering.append("pk")
        return ordering

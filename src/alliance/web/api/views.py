"""The API's resources. Every queryset starts from `alliance.web.scoping` (out of scope →
404), changes go through the services the web pages use, and reads of client data are
recorded in the audit trail."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from alliance.web import scoping
from alliance.web.api import filters, serializers
from alliance.web.api.services import submit_form
from alliance.web.care.services import record_session
from alliance.web.audit.services import record
from alliance.web.goals import services as goals
from alliance.web.goals.models import Goal, Task
from alliance.web.monitoring import actions
from alliance.web.monitoring.models import Signal


def _audit(request, action_name: str, target=None, detail: str = ""):
    record(request._request, action_name, target, detail=detail,
           clinic=request.auth.clinic, actor=request.user)


class ScopedViewSet(viewsets.GenericViewSet):
    lookup_value_regex = "[0-9]+"
    ordering_fields = ["id"]
    ordering = ["id"]
    #: Plural name of the records, for the audit trail.
    records = ""

    @property
    def staff(self):
        return scoping.staff_for(self.request.user)

    def list(self, request, *args, **kwargs):
        response = mixins.ListModelMixin.list(self, request, *args, **kwargs)
        query = request.GET.urlencode()
        _audit(request, "read", detail=f"list of {self.records}" + (f" ({query})" if query
                                                                      else ""))
        return response

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        _audit(request, "read", instance)
        return Response(self.get_serializer(instance).data)

    def _for_change(self, case_id: int):
        # Supervisors read their supervisees' cases; only the treating therapist changes
        # them (403, as on the web).
        return scoping.get_case_or_404(self.request.user, case_id, for_change=True)

    def _created(self, instance):
        # The service that created it recorded it in the audit trail.
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)


class AgreedViewSet(ScopedViewSet):
    """Goals and tasks: proposed by one side, agreed once both have confirmed."""

    #: The service that confirms one on the therapist's side (and records it).
    confirm = None

    def case_id_of(self, instance) -> int:
        raise NotImplementedError

    @action(detail=True, methods=["post"])
    def agree(self, request, pk=None):
        instance = self.get_object()
        self._for_change(self.case_id_of(instance))
        type(self).confirm(instance, by=self.staff)
        return Response(self.get_serializer(instance).data)


class ClientViewSet(ScopedViewSet):
    """Clients with at least one case the token's person may see."""

    serializer_class = serializers.ClientSerializer
    ordering_fields = ["id", "code", "created_at"]
    ordering = ["code"]
    records = "clients"

    def get_queryset(self):
        return scoping.clients_for(self.request.user)


class CaseViewSet(ScopedViewSet):
    serializer_class = serializers.CaseSerializer
    filterset_class = filters.CaseFilter
    ordering_fields = ["id", "start_date", "created_at"]
    ordering = ["-start_date"]
    records = "cases"

    def get_queryset(self):
        return scoping.cases_for(self.request.user).select_related("client", "therapist")


@extend_schema_view(create=extend_schema(
    request=serializers.SessionRecordSerializer,
    responses={201: serializers.SessionSerializer},
    description="Record the next session of one of your active cases (numbered 1, 2, …). "
                "An attended session starts its check-in as the clinic's measurement plan "
                "says, as on the web."))
class SessionViewSet(ScopedViewSet):
    serializer_class = serializers.SessionSerializer
    filterset_class = filters.SessionFilter
    ordering_fields = ["id", "date", "number"]
    ordering = ["date"]
    records = "sessions"

    def get_queryset(self):
        return scoping.sessions_for(self.request.user)

    def create(self, request):
        given = serializers.SessionRecordSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        if not scoping.cases_for(request.user).filter(pk=data["case"]).exists():
            return _no_such("case", "No such case.")
        case = self._for_change(data["case"])
        session = record_session(case, date=data["date"], status=data["status"],
                                 format=data["format"])
        _audit(request, "create", session, detail=f"session {session.number} recorded")
        return self._created(session)


@extend_schema_view(create=extend_schema(
    request=serializers.AdministrationSubmitSerializer,
    responses={201: serializers.AdministrationSerializer},
    description="Submit a form for a session of one of your cases: a therapist form, or a "
                "client form entered by staff. Scored by the core engine like the web forms."))
class AdministrationViewSet(ScopedViewSet):
    serializer_class = serializers.AdministrationSerializer
    filterset_class = filters.AdministrationFilter
    ordering_fields = ["id", "created_at", "submitted_at"]
    ordering = ["created_at"]
    records = "administrations"

    def get_queryset(self):
        return scoping.administrations_for(self.request.user).select_related("session")

    def create(self, request):
        given = serializers.AdministrationSubmitSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        session = scoping.sessions_for(request.user).filter(pk=data["session"]).first()
        if session is None:
            return _no_such("session", "No such session.")
        self._for_change(session.case_id)
        administration = submit_form(session, data["instrument"], data["responses"],
                                     data["answers"], by=self.staff)
        return self._created(administration)


@extend_schema_view(
    acknowledge=extend_schema(request=None, responses=serializers.SignalSerializer,
                              description="The therapist has seen the signal and is "
                                          "attending to it (an open signal only)."),
    dismiss=extend_schema(request=serializers.DismissSerializer,
                          responses=serializers.SignalSerializer,
                          description="The signal does not need action; the reason is kept."),
    reopen=extend_schema(request=None, responses=serializers.SignalSerializer,
                         description="Back to open after an acknowledgement or a dismissal "
                                     "(while the clinic's rules still produce the signal)."))
class SignalViewSet(ScopedViewSet):
    serializer_class = serializers.SignalSerializer
    filterset_class = filters.SignalFilter
    ordering_fields = ["id", "created_at", "updated_at"]
    ordering = ["-created_at"]
    records = "signals"

    def get_queryset(self):
        return (Signal.objects.filter(case__in=scoping.cases_for(self.request.user))
                .select_related("session"))

    def _signal_for_change(self) -> Signal:
        signal = self.get_object()
        signal.case = self._for_change(signal.case_id)
        return signal

    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        signal = self._signal_for_change()
        actions.acknowledge(signal, by=self.staff)
        return Response(serializers.SignalSerializer(signal).data)

    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        signal = self._signal_for_change()
        given = serializers.DismissSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        actions.dismiss(signal, by=self.staff, reason=given.validated_data["reason"])
        return Response(serializers.SignalSerializer(signal).data)

    # The page's words for the same acts: `actions.VERBS` (acknowledge, dismiss, reopen).
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        signal = self._signal_for_change()
        actions.reopen(signal, by=self.staff)
        return Response(serializers.SignalSerializer(signal).data)


@extend_schema_view(
    create=extend_schema(request=serializers.GoalCreateSerializer,
                         responses={201: serializers.GoalSerializer},
                         description="Add a goal to one of your active cases."),
    agree=extend_schema(request=None, responses=serializers.GoalSerializer,
                        description="Confirm a goal on the therapist's side; once the client "
                                    "has too, it is agreed."))
class GoalViewSet(AgreedViewSet):
    serializer_class = serializers.GoalSerializer
    filterset_class = filters.GoalFilter
    ordering_fields = ["id", "proposed_at"]
    ordering = ["proposed_at"]
    records = "goals"
    confirm = staticmethod(goals.confirm_goal)

    def case_id_of(self, goal) -> int:
        return goal.case_id

    def get_queryset(self):
        return Goal.objects.filter(case__in=scoping.cases_for(self.request.user))

    def create(self, request):
        given = serializers.GoalCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        case = self._for_change(data["case"])
        goal = goals.propose_goal(case, data["text"], by=self.staff,
                                  proposed_by=data["proposed_by"])
        return self._created(goal)


@extend_schema_view(
    create=extend_schema(request=serializers.TaskCreateSerializer,
                         responses={201: serializers.TaskSerializer},
                         description="Add a task to an open goal of one of your cases."),
    agree=extend_schema(request=None, responses=serializers.TaskSerializer,
                        description="Confirm a task on the therapist's side; once the client "
                                    "has too, the client reports on it at check-ins."))
class TaskViewSet(AgreedViewSet):
    serializer_class = serializers.TaskSerializer
    filterset_class = filters.TaskFilter
    ordering_fields = ["id", "proposed_at"]
    ordering = ["proposed_at"]
    records = "tasks"
    confirm = staticmethod(goals.confirm_task)

    def case_id_of(self, task) -> int:
        return task.goal.case_id

    def get_queryset(self):
        return (Task.objects.filter(goal__case__in=scoping.cases_for(self.request.user))
                .select_related("goal"))

    def create(self, request):
        given = serializers.TaskCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        goal = Goal.objects.filter(case__in=scoping.cases_for(request.user),
                                   pk=data["goal"]).first()
        if goal is None:
            return _no_such("goal", "No such goal.")
        goal.case = self._for_change(goal.case_id)
        task = goals.propose_task(goal, data["what"], how_often=data["how_often"],
                                  until=data["until"], by=self.staff)
        return self._created(task)


def _no_such(field: str, message: str):
    # A record named in the body but outside the token's scope: 404, as if it did not exist.
    return Response({"errors": [{"field": field, "message": message}]},
                    status=status.HTTP_404_NOT_FOUND)


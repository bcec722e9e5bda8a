"""What the API shows of each record, and the input of its few changes.

Read serializers show fields as stored; changes are validated again by the same services
the web pages use (scoring by the core engine, goal rules, signal rules).
"""

from __future__ import annotations

from rest_framework import serializers

from alliance.web.api.filters import MAX_ID
from alliance.web.care.models import Case, Client, Session
from alliance.web.checkins.forms import OPEN_ANSWER_MAX_LENGTH
from alliance.web.checkins.models import Administration
from alliance.web.goals.models import TEXT_MAX_LENGTH, Goal, Side, Task
from alliance.web.goals.services import HOW_OFTEN_MAX_LENGTH
from alliance.web.monitoring.models import Signal


def _id(help_text: str):
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=help_text)


class ClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", "code", "created_at"]


class CaseSerializer(serializers.ModelSerializer):
    client_code = serializers.CharField(source="client.code", read_only=True)
    therapist_name = serializers.CharField(source="therapist.display_name", read_only=True)

    class Meta:
        model = Case
        fields = ["id", "client", "client_code", "therapist", "therapist_name", "modality",
                  "status", "start_date", "end_date", "created_at"]


class SessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Session
        fields = ["id", "case", "number", "date", "status", "format", "created_at"]


class SessionRecordSerializer(serializers.Serializer):
    case = _id("The case the session belongs to (one of your active cases).")
    date = serializers.DateField(help_text="The day of the session.")
    status = serializers.ChoiceField(choices=Session.Status.choices,
                                     default=Session.Status.ATTENDED)
    format = serializers.ChoiceField(
        choices=Session.Format.choices, required=False, allow_blank=True, default="",
        help_text="How the session took place; leave out or blank when not recorded.")


class AdministrationSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="session.case_id", read_only=True)
    session_number = serializers.IntegerField(source="session.number", read_only=True)
    instrument = serializers.CharField(source="instrument_id", read_only=True)
    responses = serializers.JSONField(read_only=True, allow_null=True,
                                      help_text="Item id → answer (null when skipped).")
    scores = serializers.JSONField(read_only=True, allow_null=True,
                                   help_text="The core scoring engine's result.")
    answers = serializers.JSONField(read_only=True, allow_null=True,
                                    help_text="Open question id → text.")

    class Meta:
        model = Administration
        fields = ["id", "case", "session", "session_number", "instrument",
                  "instrument_version", "respondent", "via", "language", "responses", "scores",
                  "answers", "created_at", "submitted_at"]


class AdministrationSubmitSerializer(serializers.Serializer):
    session = _id("The session the form is about (the client attended it).")
    instrument = serializers.CharField(
        max_length=64, help_text="An instrument in use at the clinic: a therapist form, or a "
                                 "client form entered by staff.")
    responses = serializers.DictField(
        child=serializers.FloatField(allow_null=True), allow_empty=True,
        help_text="Item id → answer, a point of the item's scale; every item is answered.")
    answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=OPEN_ANSWER_MAX_LENGTH),
        required=False, default=dict, help_text="Open question id → text.")


class SignalSerializer(serializers.ModelSerializer):
    session_number = serializers.IntegerField(source="session.number", read_only=True,
                                              allow_null=True)
    parameters = serializers.JSONField(read_only=True, help_text="The rule's settings.")
    data = serializers.JSONField(read_only=True, help_text="The data that fired the rule.")

    class Meta:
        model = Signal
        fields = ["id", "case", "session", "session_number", "type", "subject", "rule",
                  "parameters", "data", "explanation", "state", "dismiss_reason",
                  "repair_state", "client_returned", "is_current", "created_at",
                  "updated_at"]


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the signal does not need "
                                                              "attention (kept with it).")


class _AgreementFields(serializers.ModelSerializer):
    agreed = serializers.BooleanField(source="both_confirmed", read_only=True)
    waiting_for = serializers.ChoiceField(choices=["client", "therapist", ""], read_only=True,
                                          help_text="Whose confirmation is missing.")


class GoalSerializer(_AgreementFields):
    class Meta:
        model = Goal
        fields = ["id", "case", "text", "status", "proposed_by", "proposed_at",
                  "client_confirmed_at", "therapist_confirmed_at", "agreed", "waiting_for",
                  "first_agreed_at", "revised_at"]


class GoalCreateSerializer(serializers.Serializer):
    case = _id("The case (yours, active).")
    text = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    proposed_by = serializers.ChoiceField(
        choices=Side.choices, default=Side.CLIENT,
        help_text="client: the client's goal in their words (you agree next); therapist: "
                  "your suggestion (the client agrees at their next check-in).")


class TaskSerializer(_AgreementFields):
    case = serializers.IntegerField(source="goal.case_id", read_only=True)

    class Meta:
        model = Task
        fields = ["id", "case", "goal", "what", "how_often", "until", "status", "proposed_by",
                  "proposed_at", "client_confirmed_at", "therapist_confirmed_at", "agreed",
                  "waiting_for"]


class TaskCreateSerializer(serializers.Serializer):
    goal = _id("An open goal of one of your cases.")
    what = serializers.CharField(max_length=TEXT_MAX_LENGTH)
    how_often = serializers.CharField(max_length=HOW_OFTEN_MAX_LENGTH, required=False,
                                      allow_blank=True, default="")
    until = serializers.DateField(required=False, allow_null=True, default=None)

"""One error shape for the whole API, never an HTML page (docs/api.md, "Errors").

    {"errors": [{"field": "responses.bond1", "message": "..."}, ...]}

`field` names the input at fault (dotted for nested input), or is null for the request as
a whole. The status code says what kind of problem it is (400, 401, 403, 404, 405, 415).
"""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler

from alliance.web.errors import DomainError
from alliance.web.goals.services import GoalError


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """What every error response holds."""

    errors = ErrorItemSerializer(many=True)


def _flatten(detail, field=None):
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "detail") else str(key)
            yield from _flatten(value, f"{field}.{name}" if field and name else (name or field))
    elif isinstance(detail, list):
        for value in detail:
            yield from _flatten(value, field)
    else:
        yield {"field": field, "message": str(detail)}


def handle(exc, context):
    if isinstance(exc, GoalError) and exc.kind == "not_allowed":
        exc = exceptions.PermissionDenied(str(exc))
    elif isinstance(exc, DomainError):
        # A business rule said no (already agreed, case closed, answers off the scale…).
        exc = exceptions.ValidationError({"non_field_errors": [str(exc)]})
    response = exception_handler(exc, context)
    if response is not None:
        response.data = {"errors": list(_flatten(response.data))}
    return response


def error(status: int, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse({"errors": [{"field": field, "message": message}]}, status=status)


@csrf_exempt  # a JSON 404 whatever the method; there is nothing here to protect
def not_found(request, *args, **kwargs):
    """Any /api/ address that names no resource: JSON, like the rest of the API."""
    return error(404, "There is nothing at this address.")


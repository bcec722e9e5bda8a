"""The OpenAPI document: every operation also lists the errors it can answer with."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema

from alliance.web.api.errors import ErrorSerializer

ERRORS = {
    "400": "The input is not valid (see `errors`).",
    "401": "No API token, or one that does not work.",
    "403": "The token may not do this (read-only, or not the case's therapist).",
    "404": "No such record in the token's scope, or no such page.",
}


class ApiSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        error = self.resolve_serializer(ErrorSerializer(), "response").ref
        codes = dict(ERRORS)
        if self.method in ("POST", "PUT", "PATCH"):
            codes["415"] = "The body is not JSON (send Content-Type: application/json)."
        for code, description in codes.items():
            responses.setdefault(code, {"description": description,
                                        "content": {"application/json": {"schema": error}}})
        return responses

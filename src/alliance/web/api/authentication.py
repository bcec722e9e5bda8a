"""Bearer-token authentication and the permission every API view checks."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from alliance.web import localtime
from alliance.web.api import tokens


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>`; the request acts as the token's staff member."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header:
            return None
        if header[0].lower() != self.keyword.lower() or len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Send the token as 'Authorization: Bearer <token>'.")
        try:
            api_token = tokens.authenticate(header[1], request=request._request)
        except tokens.TokenInvalid as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        user = api_token.staff.user
        # The scoping layer reads the membership from the user; it is already loaded.
        user._alliance_staff = api_token.staff
        # Dates and times in the token's clinic's zone (the middleware saw no one signed in).
        localtime.activate(api_token.staff.clinic)
        return user, api_token

    def authenticate_header(self, request):
        # Makes unauthenticated requests answer 401 (with this challenge), not 403.
        return f'{self.keyword} realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "An API token created by the clinic's administrator."}


class TokenScope(permissions.BasePermission):
    """A token's person is still on staff; changes need a read-write token."""

    message = "This token is read-only."

    def has_permission(self, request, view):
        if request.auth is None:
            raise exceptions.NotAuthenticated("Send an API token: "
                                              "'Authorization: Bearer <token>'.")
        return request.method in permissions.SAFE_METHODS or request.auth.can_write

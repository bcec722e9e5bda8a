"""Session timeouts, the second factor for staff, and the guard of link (token) pages.

All three are plain middleware after authentication (see settings.MIDDLEWARE), so every
view is covered, including Django's own password views.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.core.cache import caches
from django_ratelimit.core import get_usage

from alliance.web.accounts import sessions, twofactor
from alliance.web.accounts.addresses import client_address
from alliance.web.audit.services import record
from alliance.web.identity import staff_for

SIGNED_OUT = {
    "idle": "You were signed out because nothing happened for {minutes} minutes. This keeps "
            "your clients' information safe on an unattended screen. Please sign in again.",
    "absolute": "You were signed out because you had been signed in for {hours} hours. "
                "Please sign in again.",
}


def _sign_in_url(request) -> str:
    if request.path.startswith("/portal/"):
        return reverse("portal:sign_in")
    return reverse(settings.LOGIN_URL)


class SessionTimeoutMiddleware:
    """Idle and absolute timeouts, kept in the session (on the server), checked per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            expired = self._check(request)
            if expired is not None:
                return expired
        return self.get_response(request)

    def _check(self, request):
        session = request.session
        reason = sessions.expiry(session)
        if reason is not None:
            record(request, "session_expired", detail=f"{reason} timeout")
            key = session.session_key
            session.flush()
            sessions.forget(key)
            request.user = AnonymousUser()
            messages.info(request, SIGNED_OUT[reason].format(
                minutes=settings.SESSION_IDLE_MINUTES, hours=settings.SESSION_ABSOLUTE_HOURS))
            return redirect_to_login(request.get_full_path(), _sign_in_url(request))
        t = sessions.now()
        if session.get(sessions.STARTED) is None:  # a session from before the timeouts
            session[sessions.STARTED] = t
        if t - session.get(sessions.LAST_SEEN, 0) >= sessions.LAST_SEEN_RESOLUTION:
            session[sessions.LAST_SEEN] = t
        if session.get(sessions.TRACKED) != session.session_key:
            # A new key (e.g. the portal's password change): remember whose session it is.
            sessions.track(request.user, session)
        return None


#: What a staff member who passed the password but not the second factor may open.
SECOND_FACTOR_PAGES = {"accounts:two_factor_verify", "accounts:two_factor_setup",
                       "accounts:reauth", "logout"}


class StaffTwoFactorMiddleware:
    """Staff need a verified second factor for every page but the 2FA pages and sign-out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not settings.STAFF_2FA:
            return None
        user = request.user
        if not user.is_authenticated or user.is_verified():
            return None
        if staff_for(user) is None:  # client portal accounts never need a second factor
            return None
        if request.resolver_match.view_name in SECOND_FACTOR_PAGES:
            return None
        page = ("accounts:two_factor_verify" if twofactor.device_of(user) is not None
                else "accounts:two_factor_setup")
        next_url = request.get_full_path() if request.method == "GET" else ""
        query = f"?{urlencode({'next': next_url})}" if next_url and next_url != "/" else ""
        return redirect(reverse(page) + query)


#: Pages opened with a secret link: unknown, used or expired links are audited and counted.
TOKEN_PAGES = {"checkins:form", "portal:sign_in_link", "portal:set_password",
               "password_set", "accounts:password_reset"}
#: Forms that e-mail such a link: their submissions are limited per address and minute.
LINK_REQUEST_PAGES = {"portal:sign_in", "accounts:password_forgot"}


def _key(group, request):
    return client_address(request) or "unknown"


def _usage(request, group, rate, increment):
    return get_usage(request, group=group, key=_key, rate=rate, increment=increment)


class GuessingCounter:
    """Unknown, used or expired links per address, in fixed one-hour windows.

    Counted with Django's cache directly rather than django-ratelimit's `get_usage`, which
    writes (`cache.add`) even to read a count: with the database cache every check-in
    would then take the database's write lock just to open the form.
    """

    period = 3600

    @classmethod
    def _key(cls, request) -> tuple[str, int]:
        now = int(time.time())
        window = now // cls.period
        left = (window + 1) * cls.period - now
        return f"alliance:token-invalid:{_key(None, request)}:{window}", left

    @classmethod
    def count(cls, request) -> tuple[int, int]:
        """(invalid links so far in this window, seconds until the window ends); no write."""
        key, left = cls._key(request)
        return int(caches[settings.RATELIMIT_USE_CACHE].get(key, 0)), left

    @classmethod
    def add(cls, request) -> None:
        key, _ = cls._key(request)
        cache = caches[settings.RATELIMIT_USE_CACHE]
        if not cache.add(key, 1, cls.period + 60):
            try:
                cache.incr(key)
            except ValueError:  # expired in between
                cache.set(key, 1, cls.period + 60)


def _invalid(response) -> bool:
    """Did the page answer "this link does not work"?"""
    if response.status_code in (404, 410):
        return True
    # Django's set-password views answer 200 with validlink=False for a bad link.
    context = getattr(response, "context_data", None) or {}
    return context.get("validlink") is False


class TokenEndpointMiddleware:
    """Per-address limits: unknown links pause every link page; requests for a link are
    counted per minute. Every invalid link is an audit event."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        name = getattr(request, "_token_page", None)
        if name is not None and _invalid(response):
            GuessingCounter.add(request)
            record(request, "token_invalid", outcome="failure",
                   detail=f"{name} answered {response.status_code}")
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        name = request.resolver_match.view_name
        token_page = name in TOKEN_PAGES
        link_request = name in LINK_REQUEST_PAGES and request.method == "POST"
        if not token_page and not link_request:
            return None
        # Opening a link only reads a counter: the busy path (clients sending check-ins)
        # writes nothing more to the database than before.
        invalid, time_left = GuessingCounter.count(request)
        guessing = invalid >= settings.TOKEN_INVALID_PER_HOUR
        paused = guessing
        if not paused and link_request:
            usage = _usage(request, "link-requests",
                           f"{settings.TOKEN_REQUESTS_PER_MINUTE}/m", increment=True)
            paused, time_left = usage["should_limit"], usage["time_left"]
        if paused:
            response = render(request, "accounts/too_many.html",
                              {"invalid": guessing}, status=429)
            response["Retry-After"] = str(max(1, int(time_left)))
            return response
        if token_page:
            request._token_page = name
        return None

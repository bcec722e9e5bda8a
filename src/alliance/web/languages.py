"""The language of the client's pages: the check-in, its thank-you and link pages, and the
client portal (docs/languages.md).

Which language a client page is in, first that applies:
1. the client's own (`Client.language`), when the page knows the client: the check-in
   link's client, or the client signed in to the portal;
2. the language chosen with the switcher on this browser (Django's language cookie);
3. the browser's Accept-Language;
4. English (settings.LANGUAGE_CODE).
The known client's language comes before the cookie so that a device handed from one
client to the next (a check-in in the room) shows each their own language.

Staff pages stay in English: only client pages are translated, so a staff page never mixes
a translated word of Django's with the English of the page.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme

from alliance.web.identity import account_for

#: The portal's pages for the therapist (from the case page); every other portal page is
#: the client's.
_PORTAL_STAFF_PAGES = {"portal:invite", "portal:remove", "portal:discussed"}
#: Client pages outside the portal.
_CLIENT_PAGES = {"checkins:form", "checkins:thanks", "set_language"}


def supported(code: str | None) -> str | None:
    """`code` as one of settings.LANGUAGES ("pt-BR" → "pt"), or None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def choices() -> list[tuple[str, str]]:
    """(code, name) of the shipped languages, each named in itself."""
    return list(settings.LANGUAGES)


def is_client_page(view_name: str | None) -> bool:
    if not view_name:
        return False
    if view_name.startswith("portal:"):
        return view_name not in _PORTAL_STAFF_PAGES
    return view_name in _CLIENT_PAGES


def for_request(request: HttpRequest, client=None) -> str:
    """The language of a client page (see the module's rule); `client` when the page knows
    the client, else the portal's signed-in client, if any."""
    if client is None:
        client = portal_client(request)
    chosen = supported(getattr(client, "language", ""))
    if chosen:
        return chosen
    # The cookie, then Accept-Language, then LANGUAGE_CODE (Django's own order).
    return translation.get_language_from_request(request)


def activate(request: HttpRequest, client=None) -> str:
    """Make the client page's language the active one; returns it."""
    language = for_request(request, client)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    return language


def portal_client(request: HttpRequest):
    """The client signed in to the portal, or None."""
    account = account_for(getattr(request, "user", None))
    return account.client if account is not None else None


class ClientLanguageMiddleware:
    """English for every request, the client's language on client pages (a view that
    learns the client later, the check-in from its link, activates it again)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        translation.activate(settings.LANGUAGE_CODE)
        request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        try:
            response = self.get_response(request)
            if getattr(request, "client_page", False):
                # The same address answers in several languages.
                patch_vary_headers(response, ("Accept-Language", "Cookie"))
                response.headers.setdefault("Content-Language", translation.get_language())
            return response
        finally:
            translation.deactivate()

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if is_client_page(match.view_name if match else None):
            request.client_page = True
            activate(request)


def next_page(request: HttpRequest, target: str | None) -> str:
    """Where the switcher goes back to: `target` when it is a path on this site (it starts
    with "/"; a bare word would be taken for a view's name), else the portal's home page."""
    if target and target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("portal:home")


def checkin_token(path: str) -> str | None:
    """The token of a check-in page's address, or None for any other address."""
    try:
        match = resolve(path.split("?")[0])
    except Resolver404:
        return None
    return match.kwargs.get("token") if match.view_name == "checkins:form" else None


def of_client(client) -> str:
    """The language of what is sent to a client outside a request (e-mails, text
    messages): theirs when set, else English."""
    return supported(getattr(client, "language", "")) or settings.LANGUAGE_CODE

"""What thin views share after they have parsed a request: where to go back to, and the
"do it, say so, go back" pattern of a button that changes one thing."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from alliance.web.errors import DomainError


def safe_next(request) -> str | None:
    """The `next` address of the request (form field, else query), when it is a path on
    this site; else None.

    A path only: an absolute URL could lead off the site (an open redirect), and
    redirect() would take a bare word for a URL pattern's name.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return None


def act(request, change, done: str, back: str):
    """Run `change()`; show `done`, or the rule's message when a `DomainError` says no;
    then go to `back`. The service records the change in the audit trail."""
    try:
        change()
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect(back)

"""Failed sign-ins per client address, whatever e-mail addresses were tried.

django-axes pauses one e-mail address at one client address (so nobody can lock a
colleague out from outside). That alone never slows a script trying many e-mail
addresses from one machine: this counts every failed sign-in (staff, re-authentication,
client portal) per client address, and past `LOCKOUT_ADDRESS_FAILURES` within
`LOCKOUT_MINUTES` that address gets the lock-out page for every account until the window
that began with its first failure is over. A success does not clear the count (an
attacker could otherwise sign in to an account of their own to reset it).

The counter lives in Django's database cache, which every server process shares; its
increment is not atomic, so under concurrent requests a count may come out slightly low.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver

from alliance.web.audit.services import client_address


def _key(address: str) -> str:
    return f"alliance:signin-failures:{address}"


def _window_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def failures(request) -> int:
    address = client_address(request)
    return int(cache.get(_key(address), 0)) if address else 0


def blocked(request) -> bool:
    """Whether the request's address has failed too often to try any account now."""
    return failures(request) >= settings.LOCKOUT_ADDRESS_FAILURES


@receiver(user_login_failed, dispatch_uid="accounts-address-failures")
def count_failure(sender, credentials, request=None, **kwargs):
    address = client_address(request)
    if not address:
        return
    key = _key(address)
    # The window starts with the first failure (add does nothing while the key exists).
    cache.add(key, 0, timeout=_window_seconds())
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=_window_seconds())


class AddressLimitBackend:
    """Before the password backend: refuses every sign-in from a blocked address.

    It signs nobody in, so it has no `get_user` (a session never names it as its backend).

    The refusal marks the request as locked out, so django-axes' middleware answers with
    the lock-out page, as for a paused e-mail address.
    """

    def authenticate(self, request, **credentials):
        if request is not None and blocked(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            request.alliance_address_blocked = True
            raise PermissionDenied
        return None

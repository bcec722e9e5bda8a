"""Ending sessions: one user's, everywhere, and the server-side timeouts' bookkeeping."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction

from alliance.web.accounts.models import UserSession

STARTED = "accounts_started"        # when the user signed in (epoch seconds)
LAST_SEEN = "accounts_last_seen"    # their last request (epoch seconds, to the half minute)
REAUTH_AT = "accounts_password_at"  # when they last typed their password
TRACKED = "accounts_session_key"    # the session key recorded in UserSession

# The last-seen time is written at most this often, so that most requests do not write
# the session row; the idle timeout is exact to this many seconds.
LAST_SEEN_RESOLUTION = 30


def now() -> float:
    return time.time()


def track(user, session) -> None:
    """Remember that this session belongs to `user` (after sign-in or a new session key)."""
    if session.session_key is None:
        session.save()
    UserSession.objects.update_or_create(session_key=session.session_key,
                                         defaults={"user": user})
    session[TRACKED] = session.session_key


@transaction.atomic
def end_all(user, *, keep: str | None = None) -> int:
    """End every session of `user` on every device (except `keep`); returns how many ended."""
    keys = list(UserSession.objects.filter(user=user).exclude(session_key=keep or "")
                .values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


def forget(session_key: str | None) -> None:
    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def start(session) -> None:
    """Timestamps of a new sign-in: the password was just typed."""
    t = now()
    session[STARTED] = session[LAST_SEEN] = session[REAUTH_AT] = t


def expiry(session, t: float | None = None) -> str | None:
    """Why the session has run out ("idle" or "absolute"), or None while it is good."""
    t = now() if t is None else t
    started, seen = session.get(STARTED), session.get(LAST_SEEN)
    if started is None or seen is None:
        return None
    if t - started > settings.SESSION_ABSOLUTE_HOURS * 3600:
        return "absolute"
    if t - seen > settings.SESSION_IDLE_MINUTES * 60:
        return "idle"
    return None


def password_recent(session, t: float | None = None) -> bool:
    """Did the user type their password within the last REAUTH_MINUTES?"""
    at = session.get(REAUTH_AT)
    t = now() if t is None else t
    return at is not None and t - at <= settings.REAUTH_MINUTES * 60

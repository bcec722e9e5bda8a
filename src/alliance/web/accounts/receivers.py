"""Audit events and session bookkeeping from Django's and django-axes' signals.

Signing in through any path (the staff login page, a portal sign-in link, the test
client's force_login) sends `user_logged_in`; every sign-out sends `user_logged_out`.
"""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from alliance.web.accounts import sessions
from alliance.web.accounts.addresses import username_tried
from alliance.web.audit.services import record


@receiver(user_logged_in, dispatch_uid="accounts-logged-in")
def signed_in(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    sessions.start(request.session)
    sessions.track(user, request.session)
    record(request, "login", actor=user)


@receiver(user_logged_out, dispatch_uid="accounts-logged-out")
def signed_out(sender, request, user, **kwargs):
    if user is None:
        return
    record(request, "logout", actor=user)
    # Signing out ends the user's sessions on every device, not only this one.
    sessions.end_all(user)


@receiver(user_login_failed, dispatch_uid="accounts-login-failed")
def sign_in_failed(sender, credentials, request=None, **kwargs):
    record(request, "login_failed", outcome="failure",
           actor=username_tried(request, credentials) or "unknown")


@receiver(user_locked_out, dispatch_uid="accounts-locked-out")
def locked_out(sender, request, username, ip_address, **kwargs):
    record(request, "lockout", outcome="denied", actor=(username or "unknown"),
           detail="too many failed sign-ins from this address")


@receiver(post_save, sender=get_user_model(), dispatch_uid="accounts-deactivated")
def deactivated(sender, instance, created, update_fields=None, **kwargs):
    # A deactivated account (staff removed by an administrator, a client whose portal
    # access was removed) is signed out everywhere at once.
    if not created and not instance.is_active:
        sessions.end_all(instance)

"""Password reset for staff: one link, e-mailed, single use, valid at most 20 minutes."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from alliance.web.accounts.tokens import reset_token_generator
from alliance.web.audit.services import record
from alliance.web.clinics.services import normalise_email


def staff_user(email: str):
    """The active staff user who signs in with this address, or None."""
    return (get_user_model().objects
            .filter(username=normalise_email(email), is_active=True,
                    staff__is_active=True).first())


def reset_path(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("accounts:password_reset",
                   kwargs={"uidb64": uid, "token": reset_token_generator.make_token(user)})


def request_reset(request, email: str, *, base_url: str) -> bool:
    """E-mail a reset link if `email` belongs to active staff; True when one was sent.

    The page must not show the result: the person asking gets the same answer either way.
    """
    user = staff_user(email)
    if user is None:
        record(request, "password_reset_requested", outcome="failure",
               actor="unknown address", detail="no active staff account with this address")
        return False
    context = {"url": base_url.rstrip("/") + reset_path(user),
               "minutes": settings.STAFF_PASSWORD_RESET_MINUTES}
    send_mail(subject="Choose a new password for Alliance",
              message=render_to_string("accounts/email/password_reset.txt", context),
              from_email=None, recipient_list=[user.email or user.username])
    record(request, "password_reset_requested", target=user, actor=user)
    return True

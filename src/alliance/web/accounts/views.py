"""Pages of signing in: the second factor, the password again, a forgotten password, the
lock-out page, and an administrator's reset of a colleague's second factor.

Thin views: access helper → form → service (`twofactor`, `services`, `sessions`) → redirect.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeView, PasswordResetConfirmView
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from alliance.web import scoping
from alliance.web.access import admin_required, recent_password_required, staff_required
from alliance.web.accounts import services, sessions, twofactor
from alliance.web.accounts.forms import CodeForm, ForgotPasswordForm, PasswordAgainForm
from alliance.web.accounts.tokens import reset_token_generator
from alliance.web.audit.services import record
from alliance.web.flow import safe_next
from alliance.web.forms import NewPassword, SetPassword


def _next(request, default="home"):
    return safe_next(request) or reverse(default)


# --------------------------------------------------------------------------- second factor

@never_cache
@staff_required
@recent_password_required
def two_factor_setup(request):
    """Enrol an authenticator app (or replace the one enrolled): QR code, secret, a code."""
    if twofactor.device_of(request.user) is not None and not request.user.is_verified():
        # Replacing a device needs the current one first: the password alone is not enough.
        return redirect(reverse("accounts:two_factor_verify") + f"?next={request.path}")
    device = twofactor.pending_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.confirm(request, device, form.cleaned_data["code"]):
            record(request, "otp_enrolled", target=device)
            messages.success(request, "Two-factor sign-in is set up. From now on you sign in "
                                      "with your password and a code from your app.")
            return redirect(_next(request))
        record(request, "otp_failed", target=device, outcome="failure", detail="enrolment")
        form.add_error("code", "That code did not match. Check that the app shows the account "
                               "you just added, and type the code it shows now.")
    return render(request, "accounts/two_factor_setup.html", {
        "form": form, "qr_svg": twofactor.qr_svg(device),
        "secret": twofactor.secret_text(device),
        "replacing": twofactor.device_of(request.user) is not None,
        "next": request.GET.get("next", ""),
    }, status=400 if request.method == "POST" else 200)


@never_cache
@staff_required
def two_factor_verify(request):
    """The second step of signing in: a code from the enrolled app."""
    device = twofactor.device_of(request.user)
    if device is None:
        return redirect("accounts:two_factor_setup")
    if request.user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if twofactor.throttled(device):
            form.add_error("code", "Too many wrong codes in a row. Please wait a minute, then "
                                   "type the code your app shows.")
        elif twofactor.verify(request, device, form.cleaned_data["code"]):
            record(request, "otp_verified", target=device)
            return redirect(_next(request))
        else:
            record(request, "otp_failed", target=device, outcome="failure")
            form.add_error("code", "That code did not match. Codes change every 30 seconds: "
                                   "type the one your app shows now.")
    return render(request, "accounts/two_factor_verify.html",
                  {"form": form, "next": request.GET.get("next", "")},
                  status=400 if request.method == "POST" else 200)


@admin_required
@require_POST
def staff_two_factor_reset(request, pk):
    """An administrator removes a colleague's authenticator (e.g. a lost phone)."""
    member = scoping.get_staff_member_or_404(request.user, pk)
    if member.pk == request.staff.pk:
        messages.error(request, "To change your own authenticator app, use Two-factor in the "
                                "top bar.")
    else:
        twofactor.reset(member.user)
        record(request, "otp_reset", target=member)
        messages.success(request, f"{member.display_name}'s two-factor sign-in is reset. They "
                                  "set up their app again when they next sign in.")
    return redirect("clinics:staff_edit", pk=member.pk)


# --------------------------------------------------------------------------- passwords

@never_cache
@login_required
@sensitive_post_parameters("password")
def reauth(request):
    """Type the password again before changing the password or the second factor."""
    form = PasswordAgainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Through authenticate(), so that wrong passwords count towards the lock-out.
        user = authenticate(request, username=request.user.get_username(),
                            password=form.cleaned_data["password"])
        if user is not None and user.pk == request.user.pk:
            request.session[sessions.REAUTH_AT] = sessions.now()
            return redirect(_next(request))
        form.add_error("password", "That is not your password.")
    return render(request, "accounts/reauth.html",
                  {"form": form, "next": request.GET.get("next", ""),
                   "minutes": settings.REAUTH_MINUTES},
                  status=400 if request.method == "POST" else 200)


class PasswordChange(PasswordChangeView):
    """A new password, after the password again; other devices are signed out."""

    form_class = NewPassword
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)  # saves, keeps this session (new key)
        sessions.end_all(self.request.user, keep=self.request.session.session_key)
        sessions.track(self.request.user, self.request.session)
        record(self.request, "password_changed", target=self.request.user)
        return response


password_change = recent_password_required(PasswordChange.as_view())


@never_cache
@sensitive_post_parameters("email")
def password_forgot(request):
    """Ask for a reset link: the same answer, after about the same time, for any address."""
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        started = time.monotonic()
        services.request_reset(request, form.cleaned_data["email"],
                               base_url=request.build_absolute_uri("/"))
        # Answer no sooner than this, whether a link was sent or not.
        rest = settings.PASSWORD_RESET_ANSWER_SECONDS - (time.monotonic() - started)
        if rest > 0:
            time.sleep(rest)
        return redirect("accounts:password_forgot_sent")
    return render(request, "registration/password_forgot.html",
                  {"form": form, "minutes": settings.STAFF_PASSWORD_RESET_MINUTES},
                  status=400 if request.method == "POST" else 200)


@never_cache
def password_forgot_sent(request):
    return render(request, "registration/password_forgot_sent.html",
                  {"minutes": settings.STAFF_PASSWORD_RESET_MINUTES})


class PasswordReset(PasswordResetConfirmView):
    """Choose a new password from a reset link (staff only; single use, short-lived)."""

    template_name = "registration/password_reset.html"
    form_class = SetPassword
    token_generator = reset_token_generator
    success_url = reverse_lazy("password_set_done")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        if user is None or scoping.staff_for(user) is None:
            return None
        return user

    def form_valid(self, form):
        response = super().form_valid(form)
        sessions.end_all(form.user)
        record(self.request, "password_changed", target=form.user, actor=form.user,
               detail="with a reset link")
        return response

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs),
                "minutes": settings.STAFF_PASSWORD_RESET_MINUTES}


# --------------------------------------------------------------------------- lock-out

def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer while a username is locked at this address (429)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    by_address = getattr(request, "alliance_address_blocked", False)
    return render(request, "registration/locked_out.html", {
        "minutes": minutes, "by_address": by_address,
        "failures": (settings.LOCKOUT_ADDRESS_FAILURES if by_address
                     else settings.AXES_FAILURE_LIMIT)}, status=429)

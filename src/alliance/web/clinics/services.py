"""Clinic and staff operations: creating a clinic, inviting, deactivating, supervision."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from alliance.web.clinics.models import Clinic, StaffMember
from alliance.web.errors import DomainError


class StaffError(DomainError):
    """A staff change that would break a rule (e.g. removing the last administrator)."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _new_user(email: str):
    User = get_user_model()
    email = normalise_email(email)
    if User.objects.filter(username=email).exists():
        raise StaffError(f"An account with the address {email} already exists.")
    user = User(username=email, email=email)
    user.set_unusable_password()  # the person chooses a password through the invitation link
    user.save()
    return user


@transaction.atomic
def create_clinic(name: str, admin_email: str, admin_name: str = "") -> StaffMember:
    """A new clinic with its first administrator (who sets a password via `set_password_path`)."""
    if not name.strip():
        raise StaffError("The clinic needs a name.")
    clinic = Clinic.objects.create(name=name.strip())
    user = _new_user(admin_email)
    return StaffMember.objects.create(user=user, clinic=clinic, role=StaffMember.Role.ADMIN,
                                      display_name=admin_name.strip() or user.email)


@transaction.atomic
def add_staff(clinic: Clinic, *, email: str, display_name: str, role: str) -> StaffMember:
    user = _new_user(email)
    return StaffMember.objects.create(user=user, clinic=clinic, role=role,
                                      display_name=display_name.strip() or user.email)


def set_password_path(user) -> str:
    """Path of a one-time set-password link (Django's password-reset token machinery).

    The token is invalidated when the password changes or the last login time changes,
    and expires after PASSWORD_RESET_TIMEOUT.
    """
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("password_set", kwargs={"uidb64": uid, "token": token})


def set_password_url(user, base_url: str | None = None) -> str:
    return (base_url or settings.BASE_URL).rstrip("/") + set_password_path(user)


def send_invitation(member: StaffMember, url: str) -> None:
    context = {"member": member, "clinic": member.clinic, "url": url,
               "hours": settings.PASSWORD_RESET_TIMEOUT // 3600}
    send_mail(subject=f"Your Alliance account at {member.clinic.name}",
              message=render_to_string("clinics/email/invitation.txt", context),
              from_email=None, recipient_list=[member.user.email])


def _other_active_admins(member: StaffMember):
    return (StaffMember.objects.filter(clinic_id=member.clinic_id, role=StaffMember.Role.ADMIN,
                                       is_active=True).exclude(pk=member.pk))


@transaction.atomic
def deactivate(member: StaffMember, *, by: StaffMember) -> None:
    """Stop a staff member from signing in. Their cases stay, visible to their supervisors."""
    if member.pk == by.pk:
        raise StaffError("You cannot deactivate your own account.")
    if member.is_admin and not _other_active_admins(member).exists():
        raise StaffError("A clinic needs at least one active administrator.")
    member.is_active = False
    member.save(update_fields=["is_active"])
    member.user.is_active = False
    member.user.save(update_fields=["is_active"])


@transaction.atomic
def reactivate(member: StaffMember) -> None:
    member.is_active = True
    member.save(update_fields=["is_active"])
    member.user.is_active = True
    member.user.save(update_fields=["is_active"])


@transaction.atomic
def change_role(member: StaffMember, role: str, *, by: StaffMember) -> None:
    if role == member.role:
        return
    if member.is_admin and member.pk == by.pk:
        raise StaffError("You cannot change your own administrator role.")
    if member.is_admin and not _other_active_admins(member).exists():
        raise StaffError("A clinic needs at least one active administrator.")
    member.role = role
    member.save(update_fields=["role"])
    if role != StaffMember.Role.SUPERVISOR:
        member.supervisees.clear()


@transaction.atomic
def set_supervisees(supervisor: StaffMember, supervisees) -> None:
    """Link a supervisor to the therapists they supervise (same clinic only)."""
    supervisees = list(supervisees)
    if not supervisor.is_supervisor and supervisees:
        raise StaffError("Only supervisors can have supervisees.")
    for member in supervisees:
        if member.clinic_id != supervisor.clinic_id:
            raise StaffError("Supervisees must work in the same clinic.")
        if member.pk == supervisor.pk:
            raise StaffError("A supervisor cannot supervise themselves.")
        if not member.can_treat:
            raise StaffError(f"{member.display_name} does not carry cases.")
    supervisor.supervisees.set(supervisees)

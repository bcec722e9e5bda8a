"""Client portal operations: inviting clients, signing them in, and their feedback.

Sign-in links follow the rules of check-in links (docs/design.md section 7), shorter-lived:
256 random bits (`secrets.token_urlsafe(32)`), only a SHA-256 stored, valid for
`PORTAL_SIGN_IN_LINK_MINUTES` (at most 20), consumed by one conditional UPDATE so that a
link signs in exactly once. Asking for a link gives the same answer whether or not the
address belongs to a client account.

Feedback a client leaves reaches the therapist as a `client_feedback` signal on the case,
the same kind of item as an open-text check-in answer; the therapist marks it discussed
(the signal's acknowledged state), and it leaves the attention count.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from alliance.web import languages, localtime
from alliance.web.audit.services import record_change
from alliance.web.care.models import Case
from alliance.web.clinics.models import StaffMember
from alliance.web.errors import DomainError
from alliance.web.monitoring.scheduling import recompute_soon
from alliance.web.portal.models import ClientAccount, ClientFeedback, SignInLink, hash_token

logger = logging.getLogger(__name__)

# secrets.token_urlsafe(32) gives 43 characters; anything much longer is not ours.
MAX_TOKEN_LENGTH = 64
#: At most this many sign-in links per account and hour; more requests are ignored
#: (silently: the answer stays the same), so nobody can flood a client's inbox.
MAX_LINKS_PER_HOUR = 5

FEEDBACK_SIGNAL_RULE = "portal_message"


class PortalError(DomainError):
    """A portal change that breaks a rule."""


class LinkNotFound(DomainError):
    """No working sign-in link has this token (mistyped, cut off, made up, or access removed)."""


class LinkUsed(DomainError):
    """The sign-in link was already used."""


class LinkExpired(DomainError):
    """The sign-in link's time ran out, or a newer link replaced it."""


def portal_open(clinic) -> bool:
    return bool(clinic.client_portal_enabled)


def link_minutes() -> int:
    return min(int(settings.PORTAL_SIGN_IN_LINK_MINUTES), 20)


def _base(base_url: str | None) -> str:
    return (base_url or settings.BASE_URL).rstrip("/")


# --------------------------------------------------------------------------- invitations

def set_password_path(user) -> str:
    """Path of the one-time link with which a client chooses a password.

    Django's password-reset token: it stops working once a password is set or the client
    signs in, and after PASSWORD_RESET_TIMEOUT.
    """
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("portal:set_password", kwargs={"uidb64": uid, "token": token})


def _username(client) -> str:
    # Not an e-mail address, so it can never collide with a staff login.
    return f"client-{client.pk}"


def invite(case: Case, *, by: StaffMember, base_url: str | None = None) -> ClientAccount:
    """Give the case's client a portal account (or re-send the invitation) and e-mail it.

    Only the case's therapist invites, only when the clinic's portal is on and the client
    has a contact e-mail address. The new user is not staff and has no usable password
    until the client chooses one through the invitation link.
    """
    client = case.client
    if case.therapist_id != by.pk:
        raise PortalError("Only the case's therapist can invite the client to the portal.")
    if not portal_open(client.clinic):
        raise PortalError("The client portal is off at this clinic. An administrator can turn "
                          "it on in the clinic settings.")
    if not client.contact_email:
        raise PortalError("This client has no e-mail address on file, so an invitation cannot "
                          "be sent.")
    now = timezone.now()
    with transaction.atomic():
        account = (ClientAccount.objects.select_for_update().select_related("user")
                   .filter(client=client).first())
        if account is None:
            user = get_user_model()(username=_username(client), email=client.contact_email,
                                    is_staff=False, is_superuser=False)
            user.set_unusable_password()
            user.save()
            account = ClientAccount.objects.create(user=user, client=client, invited_by=by,
                                                   invited_at=now)
        else:
            user = account.user
            if user.is_active and user.has_usable_password():
                raise PortalError("This client already has access to the portal. They can "
                                  "sign in with a link sent to their e-mail address.")
            user.is_active, user.email = True, client.contact_email
            user.save(update_fields=["is_active", "email"])
            account.invited_by, account.invited_at, account.access_removed_at = by, now, None
            account.save(update_fields=["invited_by", "invited_at", "access_removed_at"])
    send_invitation(account, base_url=base_url)
    return account


def send_invitation(account: ClientAccount, *, base_url: str | None = None) -> None:
    client = account.client
    base = _base(base_url)
    context = {"clinic": client.clinic, "url": base + set_password_path(account.user),
               "sign_in_url": base + reverse("portal:sign_in"),
               "hours": settings.PASSWORD_RESET_TIMEOUT // 3600}
    with translation.override(languages.of_client(client)):
        send_mail(subject=_("Your private page for your sessions"),
                  message=render_to_string("portal/email/invitation.txt", context),
                  from_email=None, recipient_list=[client.contact_email])


def remove_access(case: Case, *, by: StaffMember) -> ClientAccount:
    """Stop the client from signing in; their goals, tasks and feedback stay on record."""
    if case.therapist_id != by.pk:
        raise PortalError("Only the case's therapist can change the client's portal access.")
    account = ClientAccount.objects.select_related("user").filter(client=case.client).first()
    if account is None or not account.user.is_active:
        raise PortalError("This client has no portal access to remove.")
    now = timezone.now()
    with transaction.atomic():
        account.user.is_active = False
        account.user.save(update_fields=["is_active"])
        account.access_removed_at = now
        account.save(update_fields=["access_removed_at"])
        SignInLink.objects.filter(account=account).live(now).update(expires_at=now)
    return account


# --------------------------------------------------------------------------- signing in

def _accounts_for_address(email: str):
    """Active accounts of clients with this contact address at clinics whose portal is on."""
    email = (email or "").strip()
    if not email:
        return ClientAccount.objects.none()
    return (ClientAccount.objects.select_related("user", "client__clinic")
            .filter(client__contact_email__iexact=email, user__is_active=True,
                    client__clinic__client_portal_enabled=True))


def request_sign_in_link(email: str, *, base_url: str | None = None, now=None) -> int:
    """E-mail a one-time sign-in link to every client account with this contact address.

    Returns how many were sent, for tests and logs; pages must not show it: the answer to
    the person asking is the same whether or not the address is known.
    """
    now = now or timezone.now()
    sent = 0
    for account in _accounts_for_address(email):
        recent = SignInLink.objects.filter(account=account,
                                           created_at__gt=now - timedelta(hours=1)).count()
        if recent >= MAX_LINKS_PER_HOUR:
            continue
        token = secrets.token_urlsafe(32)
        with transaction.atomic():
            # A new link replaces the ones not used yet: at most one works at a time.
            SignInLink.objects.filter(account=account).live(now).update(expires_at=now)
            link = SignInLink.objects.create(account=account, token_hash=hash_token(token),
                                             created_at=now,
                                             expires_at=now + timedelta(minutes=link_minutes()))
        context = {"url": _base(base_url) + reverse("portal:sign_in_link", args=[token]),
                   "minutes": link_minutes(),
                   "expires": localtime.format_time(link.expires_at, account.client.clinic)}
        with translation.override(languages.of_client(account.client)):
            send_mail(subject=_("Your sign-in link"),
                      message=render_to_string("portal/email/sign_in_link.txt", context),
                      from_email=None, recipient_list=[account.client.contact_email])
        sent += 1
    return sent


def open_sign_in_link(token: str, now=None) -> SignInLink:
    """The working link with this token; raises LinkNotFound, LinkUsed or LinkExpired.

    Opening changes nothing (mail scanners open links too): only `use_sign_in_link` does.
    """
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise LinkNotFound("This sign-in link does not work.")
    link = (SignInLink.objects.select_related("account__user", "account__client__clinic")
            .filter(token_hash=hash_token(token)).first())
    if (link is None or not link.account.user.is_active
            or not portal_open(link.account.client.clinic)):
        raise LinkNotFound("This sign-in link does not work.")
    state = link.state(now)
    if state == "used":
        raise LinkUsed("This sign-in link has already been used.")
    if state == "expired":
        raise LinkExpired("This sign-in link has expired.")
    return link


def use_sign_in_link(token: str, now=None) -> ClientAccount:
    """Consume the link, exactly once, and return the account to sign in.

    One conditional UPDATE (… WHERE used_at IS NULL AND expires_at > now): of two requests
    with the same link, exactly one changes a row; the other raises LinkUsed.
    """
    link = open_sign_in_link(token, now)
    now = now or timezone.now()
    consumed = SignInLink.objects.filter(pk=link.pk).live(now).update(used_at=now)
    if consumed != 1:
        link.refresh_from_db()
        if link.state(now) == "used":
            raise LinkUsed("This sign-in link has already been used.")
        raise LinkExpired("This sign-in link has expired.")
    return link.account


def authenticate_client(email: str, password: str) -> ClientAccount | None:
    """The client account with this contact address and password, or None."""
    checked = False
    for account in _accounts_for_address(email):
        if account.user.has_usable_password():
            checked = True
            if account.user.check_password(password):
                return account
    if not checked:
        # Spend the time of one password check, so that the answer does not reveal
        # whether the address is known (as Django's ModelBackend does).
        get_user_model()().set_password(password)
    return None


# --------------------------------------------------------------------------- feedback

def leave_feedback(account: ClientAccount, case: Case, text: str) -> ClientFeedback:
    """Store a message for the therapist; it reaches the case page as client feedback."""
    text = (text or "").strip()
    if case.client_id != account.client_id:
        raise PortalError(_("You can only write about your own sessions."))
    if not text:
        raise PortalError(_("Please write something before sending."))
    if len(text) > ClientFeedback.MAX_LENGTH:
        raise PortalError(_("Please keep it under %(count)s characters.") % {
            "count": ClientFeedback.MAX_LENGTH})
    with transaction.atomic():
        feedback = ClientFeedback.objects.create(case=case, account=account, text=text)
        record_change("create", feedback, by=account, detail="message left by the client")
        # The clinic's listed phrases, when it keeps a list, reach a person at once.
        from alliance.web.safety import services as safety

        feedback.risk_alert = safety.check_comment(case, text, key=f"portal:{feedback.pk}")
    transaction.on_commit(lambda: recompute_soon(case.pk, "portal feedback"))
    return feedback


def discussed_subjects(feedback) -> set[str]:
    """Signal subjects of these feedback messages that the therapist marked discussed."""
    from alliance.web.monitoring.models import Signal

    subjects = [f.signal_subject for f in feedback]
    if not subjects:
        return set()
    return set(Signal.objects.filter(type=Signal.Type.CLIENT_FEEDBACK, subject__in=subjects,
                                     case_id__in={f.case_id for f in feedback},
                                     state=Signal.State.ACKNOWLEDGED)
               .values_list("subject", flat=True))


def mark_discussed(signal, *, by: StaffMember):
    """The therapist talked the client's feedback through with them.

    "Discussed" is the acknowledged state of a `client_feedback` signal: it no longer needs
    attention, stays on record, and can be reopened.
    """
    from alliance.web.monitoring import actions

    if signal.type != signal.Type.CLIENT_FEEDBACK:
        raise PortalError("Only a client's comment is marked as read.")
    return actions.acknowledge(signal, by=by)

"""Client accounts, their one-time sign-in links, and feedback clients leave in the portal.

A client signs in with a Django `User` that is not staff: `ClientAccount` links it to one
`care.Client`. The portal's pages reach client data only through `portal.scoping`, which
filters every query by the signed-in client's account.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from alliance.web.care.models import Case, Client
from alliance.web.clinics.models import StaffMember
from alliance.web.crypto import EncryptedTextField


def hash_token(token: str) -> str:
    """SHA-256 of a sign-in token, as stored. The token itself is never stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ClientAccount(models.Model):
    """A client's way into the portal: one user, one client.

    The user has no usable password until the client chooses one through the invitation
    link; until then (and always) a sign-in link e-mailed to the client's contact address
    also works. Removing access deactivates the user; the account stays on record.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                related_name="client_account")
    client = models.OneToOneField(Client, on_delete=models.PROTECT,
                                  related_name="portal_account")
    invited_by = models.ForeignKey(StaffMember, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    access_removed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Portal account of {self.client.code}"

    @property
    def is_active(self) -> bool:
        return self.user.is_active

    @property
    def has_signed_in(self) -> bool:
        return self.user.last_login is not None


class SignInLinkQuerySet(models.QuerySet):
    def live(self, now=None):
        """Links that still work: not used and not expired."""
        return self.filter(used_at__isnull=True, expires_at__gt=now or timezone.now())


class SignInLink(models.Model):
    """A one-time, short-lived sign-in link, e-mailed to the client's contact address."""

    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE,
                                related_name="sign_in_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = SignInLinkQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["account", "created_at"])]

    def __str__(self) -> str:
        return f"Sign-in link of account {self.account_id}"

    def state(self, now=None) -> str:
        if self.used_at is not None:
            return "used"
        if self.expires_at <= (now or timezone.now()):
            return "expired"
        return "live"


class ClientFeedback(models.Model):
    """Something a client wrote to their therapist in the portal.

    It reaches the therapist as a `client_feedback` signal on the case (the same kind of
    item as an open-text check-in answer), which the therapist marks as discussed.
    """

    MAX_LENGTH = 4000

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="portal_feedback")
    account = models.ForeignKey(ClientAccount, on_delete=models.PROTECT,
                                related_name="feedback")
    text = EncryptedTextField(max_length=MAX_LENGTH)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"Feedback {self.pk} in case {self.case_id}"

    @property
    def signal_subject(self) -> str:
        """The subject of the case's `client_feedback` signal for this message."""
        return f"portal:{self.pk}"

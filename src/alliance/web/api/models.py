"""API tokens: how an integration signs in to the REST API (docs/api.md).

A token is a capability like a check-in link: 256 random bits, shown once, only its
SHA-256 stored. It belongs to one clinic and acts as one named therapist or supervisor
of that clinic, so every request sees exactly what that person sees on the web pages
(`alliance.web.scoping`). Its scope is read-only or read-write; read-write changes only
what that person could change on the web (their own cases).
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone

from alliance.web.clinics.models import Clinic, StaffMember

#: What every token starts with, so that a leaked one is easy to recognise (and to search
#: for in code and logs).
TOKEN_PREFIX = "alliance_"


def hash_token(token: str) -> str:
    """SHA-256 of a token, as stored. The token itself is never stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def live(self, now=None):
        """Tokens that still work: not revoked, not expired."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="api_tokens")
    # The person the token acts as: it sees and changes what they may (never more).
    staff = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. the "
                                                      "integration that uses it.")
    scope = models.CharField(max_length=8, choices=Scope, default=Scope.READ)
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the token, to tell tokens apart in lists (not enough to use).
    hint = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"API token {self.hint}… ({self.name})"

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    def state(self, now=None) -> str:
        """'revoked', 'expired' or 'live'."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "live"

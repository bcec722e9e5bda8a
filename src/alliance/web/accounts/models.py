"""Which sessions belong to which user, so that signing out or deactivating ends them all.

Django's database sessions keep the user id inside the encoded session data; finding a
user's sessions there would mean decoding every session. One row per signed-in session
(written at sign-in, removed when it ends) answers it with one indexed query, on SQLite
and PostgreSQL alike, whichever server process handled the sign-in.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class UserSession(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"Session of user {self.user_id}"

"""The audit trail's one table: events, appended by `services.record` and never changed.

Each event stores the SHA-256 of its canonical content, which includes the previous event's
hash, so that altering or deleting an event breaks the chain (`alliance audit verify`). The
database itself rejects UPDATE and DELETE on the table (triggers, see the migrations).

Events keep the actor, clinic and target as plain identifiers (no foreign-key constraints):
an event must outlive what it names, and nothing may cascade into this table.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from django.conf import settings
from django.db import models

# The hash of "nothing before the first event".
GENESIS_HASH = "0" * 64


class Event(models.Model):
    """One thing that happened: who (actor) did what (action) to which record (target)."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Succeeded"
        FAILURE = "failure", "Failed"
        DENIED = "denied", "Denied"

    # Assigned by `record` (the previous event's id + 1), so that ids have no gaps and a
    # missing id is a deleted event.
    id = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField(help_text="When, in UTC.")
    action = models.CharField(max_length=32)
    outcome = models.CharField(max_length=8, choices=Outcome, default=Outcome.SUCCESS)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.DO_NOTHING, db_constraint=False,
                              related_name="+")
    # The user's name at the time, or what acted without a user (e.g. "check-in link 12").
    actor_name = models.CharField(max_length=150, blank=True)
    clinic = models.ForeignKey("clinics.Clinic", null=True, blank=True,
                               on_delete=models.DO_NOTHING, db_constraint=False,
                               related_name="+")
    # The record acted on: model label ("care.case") and primary key.
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    # The client whose data the target is, when known (filtering by client).
    client_id = models.BigIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    # Text, not an address type, so that it reads back exactly as hashed.
    address = models.CharField(max_length=45, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        # Created by migrations 0001-0002; unmanaged so that `flush` leaves it alone
        # (see 0002). Change the table with SQL in a new migration.
        managed = False
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["clinic", "id"], name="audit_event_clinic_id"),
            models.Index(fields=["clinic", "client_id"], name="audit_event_clinic_client"),
            models.Index(fields=["at"], name="audit_event_at"),
        ]

    def __str__(self) -> str:
        return f"Audit event {self.id}: {self.action} {self.target_type} {self.target_id}"

    def canonical(self) -> str:
        """The content the hash covers, as one unambiguous string (a JSON array)."""
        at = self.at.astimezone(UTC).isoformat(timespec="microseconds")
        return json.dumps(
            ["v1", self.id, at, self.action, self.outcome, self.actor_id, self.actor_name,
             self.clinic_id, self.target_type, self.target_id, self.client_id, self.detail,
             self.address, self.prev_hash],
            ensure_ascii=False, separators=(",", ":"))

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()

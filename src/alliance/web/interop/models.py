"""Research codes (the pseudonyms a research export gives clients, cases and therapists) and
the research exports the background worker prepares."""

from __future__ import annotations

import secrets

from django.db import models

from alliance.web.clinics.models import Clinic, StaffMember

#: Letters and digits that cannot be mistaken for one another when read aloud or copied.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class ResearchCode(models.Model):
    """A random code standing for one client, case or therapist in one clinic's exports.

    Codes are drawn at random the first time a record is exported under an export key and
    kept, so the same client has the same code in every later export with that key (a
    researcher can join exports over time), while the code says nothing about the client's
    own code, name or database id. A different key gives unrelated codes.
    """

    class Kind(models.TextChoices):
        CLIENT = "client", "Client"
        CASE = "case", "Case"
        THERAPIST = "therapist", "Therapist"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    kind = models.CharField(max_length=12, choices=Kind)
    record_id = models.PositiveBigIntegerField()
    code = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "key", "kind", "record_id"],
                                    name="one_research_code_per_record"),
            models.UniqueConstraint(fields=["clinic", "key", "kind", "code"],
                                    name="research_codes_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.code}"

    @staticmethod
    def new_code(kind: str) -> str:
        """A prefix for the kind and 8 random characters (40 bits)."""
        prefix = {"client": "C", "case": "E", "therapist": "T"}[kind]
        return prefix + "".join(secrets.choice(ALPHABET) for _ in range(8))


class ExportJob(models.Model):
    """A research export too large for a request, written by the background worker.

    Only `requested_by` may see the job and download its file (`interop.exports`); the
    file and the job are deleted `settings.EXPORT_KEEP_DAYS` after the request.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for the worker"
        RUNNING = "running", "Being written"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        PARQUET = "parquet", "Parquet"
        BOTH = "both", "CSV and Parquet"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(StaffMember, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    format = models.CharField(max_length=8, choices=Format)
    include_text = models.BooleanField(default=False)
    # The selection (therapists, dates, instruments) as `exports.selection_parameters`
    # writes it, and in words for the page and the audit trail.
    selection = models.JSONField(default=dict)
    summary = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status, default=Status.QUEUED)
    error = models.TextField(blank=True)
    file_name = models.CharField(max_length=100, blank=True)
    size = models.BigIntegerField(null=True, blank=True)
    sessions = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"research export {self.pk} ({self.get_status_display()})"

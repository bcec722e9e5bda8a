"""Research codes: the pseudonyms that a research export gives clients, cases and therapists."""

from __future__ import annotations

import secrets

from django.db import models

from alliance.web.clinics.models import Clinic

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

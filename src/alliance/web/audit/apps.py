from django.apps import AppConfig


class AuditConfig(AppConfig):
    """The audit trail: an append-only, hash-chained record of who read or changed what."""

    name = "alliance.web.audit"
    label = "audit"

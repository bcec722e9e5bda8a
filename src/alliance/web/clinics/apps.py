from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    """Clinics (the tenants), their settings, and the staff who work in them."""

    name = "alliance.web.clinics"
    label = "clinics"

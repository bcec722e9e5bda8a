from django.apps import AppConfig


class CareConfig(AppConfig):
    """Clients, their cases (episodes of care) and sessions."""

    name = "alliance.web.care"
    label = "care"

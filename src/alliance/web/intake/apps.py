from django.apps import AppConfig


class IntakeConfig(AppConfig):
    """What the client hopes for and prefers at the start of therapy (the intake)."""

    name = "alliance.web.intake"
    label = "intake"

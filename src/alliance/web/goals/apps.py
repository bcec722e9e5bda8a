from django.apps import AppConfig


class GoalsConfig(AppConfig):
    """Goals and tasks agreed by client and therapist, their reviews and reports."""

    name = "alliance.web.goals"
    label = "goals"

    def ready(self) -> None:
        from alliance.web.goals import receivers  # noqa: F401 - connects the receivers

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """Signals that need a therapist's attention, computed by alliance.core.signals."""

    name = "alliance.web.monitoring"
    label = "monitoring"

    def ready(self) -> None:
        from alliance.web.monitoring import receivers  # noqa: F401 - connects the receivers

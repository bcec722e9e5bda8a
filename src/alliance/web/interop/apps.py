from django.apps import AppConfig


class InteropConfig(AppConfig):
    """FHIR Bundles of a case, imports of history from another system, research exports."""

    name = "alliance.web.interop"
    label = "interop"

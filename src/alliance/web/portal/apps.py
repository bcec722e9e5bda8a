from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The client portal: client accounts, sign-in, and the client's own pages."""

    name = "alliance.web.portal"
    label = "portal"

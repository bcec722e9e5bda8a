from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "alliance.web.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        # Registers the system check that production has an encryption key.
        from alliance.web import crypto  # noqa: F401

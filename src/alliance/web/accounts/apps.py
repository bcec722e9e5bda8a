from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "alliance.web.accounts"
    label = "accounts"
    verbose_name = "Signing in and sessions"

    def ready(self):
        from alliance.web.accounts import address_limit, receivers  # noqa: F401  (signals)

from django.apps import AppConfig


class WebConfig(AppConfig):
    """The site itself: base templates and static files shared by every area."""

    name = "alliance.web"
    label = "web"
    verbose_name = "Alliance web"

    def ready(self):
        # System checks that stop a production server with a weak CSP or cacheable pages.
        from alliance.web import checks  # noqa: F401

from django.apps import AppConfig


class WebConfig(AppConfig):
    """The site itself: base templates and static files shared by every area."""

    name = "alliance.web"
    label = "web"
    verbose_name = "Alliance web"

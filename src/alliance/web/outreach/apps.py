from django.apps import AppConfig


class OutreachConfig(AppConfig):
    """What goes out by itself: measurement plans, check-in messages, reminders, notices to
    staff, and the periodic jobs of the background worker that send them."""

    name = "alliance.web.outreach"
    label = "outreach"

    def ready(self) -> None:
        from alliance.web.outreach import receivers  # noqa: F401

from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    """Administrations of instruments and the one-time check-in links clients answer them with."""

    name = "alliance.web.checkins"
    label = "checkins"

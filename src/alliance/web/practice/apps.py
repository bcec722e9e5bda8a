from django.apps import AppConfig


class PracticeConfig(AppConfig):
    """A therapist's own practice: figures with intervals, practice focus, supervision."""

    name = "alliance.web.practice"
    label = "practice"

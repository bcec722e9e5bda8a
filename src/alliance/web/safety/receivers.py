"""The safety check on every stored form (`checkins.events.forms_stored`)."""

from django.dispatch import receiver

from alliance.web.checkins.events import forms_stored
from alliance.web.safety import services


@receiver(forms_stored, dispatch_uid="safety.forms_stored")
def on_forms_stored(sender, administrations, **kwargs):
    services.check_submission(administrations)

"""Shared form behaviour: labels without a trailing colon (the layout sets them apart)."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm


class PlainLabels:
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class Form(PlainLabels, forms.Form):
    pass


class ModelForm(PlainLabels, forms.ModelForm):
    pass


class SetPassword(PlainLabels, SetPasswordForm):
    pass


class NewPassword(PlainLabels, SetPasswordForm):
    """Changing one's password: the current password was just typed on the re-authentication
    page (through authenticate(), so guesses count towards the lock-out), not on this form."""

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].widget.attrs["autofocus"] = True

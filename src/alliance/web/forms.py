"""Shared form behaviour: labels without a trailing colon (the layout sets them apart)."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm


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


class ChangePassword(PlainLabels, PasswordChangeForm):
    pass

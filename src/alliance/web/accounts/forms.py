"""Forms of signing in: the second factor, the password again, and a forgotten password."""

from __future__ import annotations

from django import forms

from alliance.web.forms import Form


class CodeForm(Form):
    code = forms.CharField(
        label="6-digit code from your authenticator app", max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "pattern": "[0-9 ]*", "autofocus": True}))

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
        if not code.isdigit() or len(code) != 6:
            raise forms.ValidationError("Please type the 6 digits your app shows.")
        return code


class PasswordAgainForm(Form):
    password = forms.CharField(
        label="Your password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}))


class ForgotPasswordForm(Form):
    email = forms.EmailField(
        label="E-mail address", max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))

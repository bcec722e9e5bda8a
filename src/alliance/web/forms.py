"""Shared form behaviour: labels without a trailing colon (the layout sets them apart)."""

from django import forms
from django.contrib.auth.forms import SetPasswordForm


class PlainLabels:
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class Form(PlainLabels, forms.Form):
    pass


#: The largest primary key a database column holds (a signed 64-bit integer).
MAX_ID = 2 ** 63 - 1


def _ids_or_invalid(field, values) -> None:
    # A value that cannot be a primary key is refused before the query: a number too large
    # for the database raises OverflowError there (SQLite), not a form error.
    for value in values:
        text = str(value).strip()
        if not text.isdigit() or not 0 < int(text) <= MAX_ID:
            raise forms.ValidationError(field.error_messages["invalid_choice"],
                                        code="invalid_choice", params={"value": value})


class RecordChoice(forms.ModelChoiceField):
    """A record chosen by id; an id that cannot exist is an ordinary invalid choice."""

    def to_python(self, value):
        if value not in self.empty_values:
            _ids_or_invalid(self, [value])
        return super().to_python(value)


class RecordChoices(forms.ModelMultipleChoiceField):
    """Records chosen by id; an id that cannot exist is an ordinary invalid choice."""

    def _check_values(self, value):
        try:
            values = frozenset(value)
        except TypeError:
            raise forms.ValidationError(self.error_messages["invalid_list"],
                                        code="invalid_list") from None
        _ids_or_invalid(self, values)
        return super()._check_values(value)


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


class LanguageForm(Form):
    """The language switcher of the client pages (alliance.web.languages)."""

    language = forms.ChoiceField(choices=())
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        from django.conf import settings

        super().__init__(*args, **kwargs)
        self.fields["language"].choices = list(settings.LANGUAGES)

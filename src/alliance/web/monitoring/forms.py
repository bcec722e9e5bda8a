from django import forms


class DismissForm(forms.Form):
    reason = forms.CharField(
        label="Why does this not need attention?", max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Please say briefly why this signal does not need "
                                    "attention; it stays with the signal for later."})

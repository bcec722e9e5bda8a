from django import forms


class EraseForm(forms.Form):
    code = forms.CharField(label="Type the client's code to confirm", max_length=32,
                           widget=forms.TextInput(attrs={"autocomplete": "off",
                                                         "spellcheck": "false"}))

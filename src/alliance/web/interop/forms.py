"""Forms of the history upload and the research export."""

from __future__ import annotations

from django import forms

from alliance.web import instruments as web_instruments
from alliance.web.clinics.models import StaffMember
from alliance.web.forms import RecordChoice
from alliance.web.interop.research import DEFAULT_KEY, Selection

#: Largest history file accepted through the web page (a year of a large clinic is ~2 MB).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class HistoryUploadForm(forms.Form):
    file = forms.FileField(label="History file (CSV)",
                           help_text="Long format, one row per answer: see the columns below.")
    dry_run = forms.BooleanField(required=False, label="Only check the file; import nothing")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: import it "
                "with `alliance import history` on the server instead.")
        return upload


class ResearchExportForm(forms.Form):
    date_from = forms.DateField(required=False, label="Sessions from",
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="Sessions up to",
                              widget=forms.DateInput(attrs={"type": "date"}))
    therapist = RecordChoice(queryset=StaffMember.objects.none(), required=False,
                                       empty_label="All therapists")
    instrument = forms.ChoiceField(required=False)
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("parquet", "Parquet"),
                                        ("both", "CSV and Parquet")], initial="csv")
    key = forms.SlugField(initial=DEFAULT_KEY, max_length=64, label="Export key",
                          help_text="The same key gives the same research codes in later "
                                    "exports; a new key gives unrelated codes.")
    include_text = forms.BooleanField(
        required=False, label="Include free-text answers",
        help_text="They may identify people. The export is recorded as including them.")

    def __init__(self, *args, therapists, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapist"].queryset = therapists
        self.fields["instrument"].choices = [("", "All instruments"),
                                             *web_instruments.instrument_choices()]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            raise forms.ValidationError("The end date is before the start date.")
        return data

    def selection(self, scope_ids: list[int] | None) -> Selection:
        """The selection, within `scope_ids` (the therapists the user may export; None: all)."""
        data = self.cleaned_data
        therapist = data.get("therapist")
        return Selection(
            therapist_ids=(therapist.pk,) if therapist else
            (tuple(scope_ids) if scope_ids is not None else None),
            date_from=data.get("date_from"), date_to=data.get("date_to"),
            instrument_ids=(data["instrument"],) if data.get("instrument") else None)

"""Forms of the measurement plan, the client's contact and a staff member's notices."""

from __future__ import annotations

from zoneinfo import available_timezones

from django import forms

from alliance.web.care.models import Client
from alliance.web.forms import Form, ModelForm
from alliance.web.outreach.models import ClinicMessaging, MeasurementPlan, NoticePreference

ZONES = sorted(available_timezones())


class PlanForm(ModelForm):
    """The plan's settings, and for each client questionnaire when it is asked."""

    class Meta:
        model = MeasurementPlan
        fields = ["sending", "channel", "delay_hours", "reminder_after_hours", "reminders",
                  "quiet_from", "quiet_until"]
        labels = {"sending": "Check-ins go out", "channel": "Send by",
                  "delay_hours": "Delay (hours)", "reminder_after_hours": "Remind after (hours)",
                  "reminders": "Reminders at most", "quiet_from": "Quiet hours from",
                  "quiet_until": "until"}
        widgets = {"sending": forms.RadioSelect,
                   "quiet_from": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                   "quiet_until": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args, questionnaires=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.questionnaires = list(questionnaires)
        schedule = self.instance.schedule or {}
        for instrument in self.questionnaires:
            rule = schedule.get(instrument.id, {"every": 1})
            self.fields[f"every-{instrument.id}"] = forms.IntegerField(
                label="Every n-th session (0: not regularly)", min_value=0, max_value=52,
                initial=rule.get("every", 0))
            self.fields[f"first-{instrument.id}"] = forms.BooleanField(
                label="At the first session", required=False, initial=rule.get("first", False))
            self.fields[f"last-{instrument.id}"] = forms.BooleanField(
                label="At the session that ends the case", required=False,
                initial=rule.get("last", False))

    def rows(self):
        """(questionnaire, its three fields) for the template."""
        return [(i, [self[f"{name}-{i.id}"] for name in ("every", "first", "last")])
                for i in self.questionnaires]

    def clean(self):
        data = super().clean()
        if bool(data.get("quiet_from")) != bool(data.get("quiet_until")):
            raise forms.ValidationError("Give both ends of the quiet hours, or neither.")
        return data

    def save(self, commit=True):
        plan = super().save(commit=False)
        plan.schedule = {i.id: {"every": self.cleaned_data[f"every-{i.id}"],
                                "first": self.cleaned_data[f"first-{i.id}"],
                                "last": self.cleaned_data[f"last-{i.id}"]}
                         for i in self.questionnaires}
        if commit:
            plan.save()
        return plan


class MessagingForm(ModelForm):
    sms_webhook_url = forms.URLField(
        required=False, assume_scheme="https", label="Text-message gateway address",
        help_text="Alliance POSTs each text message as signed JSON to this address (the "
                  "format is below).")

    class Meta:
        model = ClinicMessaging
        fields = ["reply_to", "sms_webhook_url", "sms_webhook_secret"]
        # The secret is never shown again: left empty, the stored one is kept.
        widgets = {"sms_webhook_secret": forms.PasswordInput(render_value=False)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stored_secret = self.instance.sms_webhook_secret
        if self.stored_secret:
            self.fields["sms_webhook_secret"].help_text = (
                "A secret is stored; leave this empty to keep it, or type a new one.")

    def clean_sms_webhook_secret(self):
        return self.cleaned_data["sms_webhook_secret"] or self.stored_secret

    def clean_sms_webhook_url(self):
        url = self.cleaned_data["sms_webhook_url"]
        if url and not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("Give an http:// or https:// address.")
        return url

    def clean(self):
        data = super().clean()
        if data.get("sms_webhook_url") and not data.get("sms_webhook_secret"):
            self.add_error("sms_webhook_secret", "The gateway needs a secret to check that "
                                                 "messages come from Alliance.")
        return data


class ContactForm(ModelForm):
    time_zone = forms.ChoiceField(
        choices=[("", "The clinic's time zone")] + [(z, z) for z in ZONES], required=False,
        help_text="Quiet hours are kept in this time zone.")

    class Meta:
        model = Client
        fields = ["contact_email", "phone", "preferred_contact", "time_zone", "language"]
        labels = {"contact_email": "E-mail address", "phone": "Mobile number",
                  "preferred_contact": "How the client wants check-ins",
                  "language": "The client's language"}
        widgets = {"phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})}

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        digits = phone.lstrip("+").replace(" ", "").replace("-", "")
        if phone and (not digits.isdigit() or not 6 <= len(digits) <= 15):
            raise forms.ValidationError("Give a phone number of digits, for example "
                                        "+44 7700 900123.")
        return phone

    def clean(self):
        data = super().clean()
        contact = data.get("preferred_contact")
        if contact == Client.Contact.EMAIL and not data.get("contact_email"):
            self.add_error("contact_email", "Check-ins by e-mail need an address.")
        if contact == Client.Contact.SMS and not data.get("phone"):
            self.add_error("phone", "Check-ins by text message need a number.")
        return data


class OwnPlanForm(Form):
    own = forms.TypedChoiceField(
        label="Measurement plan for this case", coerce=lambda v: v == "own",
        choices=[("clinic", "Follow the clinic's plan"), ("own", "A plan of its own")],
        widget=forms.RadioSelect)


class NoticeForm(ModelForm):
    class Meta:
        model = NoticePreference
        fields = ["rupture_email", "daily_digest", "digest_hour"]

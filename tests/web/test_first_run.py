"""A new clinic's first-run checklist (administrators) and the "How Alliance works" page."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape
from django_otp.plugins.otp_totp.models import TOTPDevice

from alliance.web.clinics import checklist
from alliance.web.clinics.models import StaffMember
from alliance.web.safety.models import ClinicSafety


def test_a_new_clinic_shows_the_checklist_until_every_step_is_done(login, clinic, client):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="first@x.example", password="p" * 16)
    admin = StaffMember.objects.create(user=user, clinic=clinic, role=StaffMember.Role.ADMIN,
                                       display_name="First Admin")
    browser = login(admin)
    page = browser.get(reverse("clinics:staff"))
    items = {item.step.key: item.done for item in page.context["checklist"]}
    assert items == {"staff": False, "instruments": False, "plan": False,
                     "crisis_text": False, "two_factor": False}
    assert "Getting your clinic ready" in page.content.decode()

    StaffMember.objects.create(
        user=get_user_model().objects.create_user(username="t@x.example"), clinic=clinic,
        role=StaffMember.Role.THERAPIST, display_name="A Therapist")
    assert not checklist.STEPS[1].done(clinic, admin)
    # The administrator saves the settings page (the instruments are chosen there).
    form = browser.get(reverse("clinics:settings")).context["form"]
    data = {name: field.value() for name, field in
            ((name, form[name]) for name in form.fields)}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (None, False)}
    assert browser.post(reverse("clinics:settings"), data).status_code == 302
    items = {i.step.key: i.done for i in browser.get(reverse("clinics:staff")).context["checklist"]}
    assert items == {"staff": True, "instruments": True, "plan": False, "crisis_text": False,
                     "two_factor": False}
    # The measurement plan saved once, even with its defaults; a crisis text written.
    plan = {"plan-sending": "by_hand", "plan-channel": "email", "plan-delay_hours": "0",
            "plan-reminder_after_hours": "24", "plan-reminders": "2",
            "plan-quiet_from": "21:00", "plan-quiet_until": "08:00"}
    plan.update({f"plan-every-{i}": "1" for i in clinic.instruments_in_use})
    assert browser.post(reverse("outreach:plan"), plan).status_code == 302
    ClinicSafety.objects.update_or_create(
        clinic=clinic, defaults={"crisis_text": "Call 999, or the clinic on 0100 000 000."})
    items = {i.step.key: i.done for i in browser.get(reverse("clinics:staff")).context["checklist"]}
    assert items == {"staff": True, "instruments": True, "plan": True, "crisis_text": True,
                     "two_factor": False}

    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    page = browser.get(reverse("clinics:staff"))
    assert page.context["checklist"] == []
    assert "Getting your clinic ready" not in page.content.decode()


def test_every_step_links_to_the_page_where_it_is_done(login, admin):
    for item in checklist.checklist(admin.clinic, admin):
        assert login(admin).get(item.url).status_code == 200, item.step.key


def test_the_how_alliance_works_page_explains_the_signal_actions(login, therapist):
    from alliance.web.monitoring.actions import VERBS

    page = login(therapist).get(reverse("care:how_it_works"))
    html = page.content.decode()
    assert page.status_code == 200 and "How Alliance works" in html
    for verb in VERBS.values():
        assert escape(verb.label) in html and escape(verb.meaning) in html
    assert reverse("care:how_it_works") in login(therapist).get(
        reverse("care:caseload")).content.decode()

"""Dates and times local to the clinic: a clinic in New York, across the end of summer time.

On Sunday 1 November 2026 New York went from UTC−4 to UTC−5. 18:05 UTC on 31 October and
19:05 UTC on 2 November are both 14:05 there; a page that ignored the change (or the zone)
would show one of them an hour off. Every surface that shows a moment is checked: a staff
page, the client's check-in page and portal, a PDF, an e-mail and the exports.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from alliance.cli.main import cli
from alliance.web import demo, localtime
from alliance.web.audit.models import Event
from alliance.web.audit.services import record
from alliance.web.care import services as care
from alliance.web.care.models import Case, Session
from alliance.web.checkins import services as checkins
from alliance.web.checkins.models import Administration
from alliance.web.clinics.models import Clinic
from alliance.web.goals import services as goals
from alliance.web.interop.fhir import case_bundle
from alliance.web.portal import services as portal
from alliance.web.privacy.services import export_client
from alliance.web.reports import case as case_report

from api_helpers import bearer, make_token
from helpers import START, answers, next_session

NEW_YORK = "America/New_York"
UTC = dt.UTC
#: 14:05 in New York, before and after the clocks went back (1 November 2026).
BEFORE = dt.datetime(2026, 10, 31, 18, 5, tzinfo=UTC)     # EDT, UTC−4
AFTER = dt.datetime(2026, 11, 2, 19, 5, tzinfo=UTC)       # EST, UTC−5


@pytest.fixture
def new_york(clinic):
    clinic.time_zone = NEW_YORK
    clinic.save(update_fields=["time_zone"])
    return clinic


def answered(case, when: dt.datetime) -> Administration:
    """The client's check-in of the case's next session, answered at `when`."""
    session = next_session(case)
    issued = checkins.issue_link(session, "alliance-client", by=case.therapist)
    form = checkins.submit_link(issued.token, answers(6), {"more_helpful": ""})
    Administration.objects.filter(pk=form.pk).update(submitted_at=when)
    return form


# --- the helper -----------------------------------------------------------------------


def test_the_helper_writes_every_moment_in_the_clinics_zone_and_house_style(new_york):
    assert localtime.format_datetime(BEFORE, new_york) == "Sat 31 Oct 2026, 14:05"
    assert localtime.format_datetime(AFTER, new_york) == "Mon 2 Nov 2026, 14:05"
    assert localtime.format_datetime(AFTER, new_york, seconds=True) == "Mon 2 Nov 2026, 14:05:00"
    assert localtime.format_time(AFTER, new_york) == "14:05"
    # 01:30 UTC on 1 November is still 31 October in New York.
    late = dt.datetime(2026, 11, 1, 1, 30, tzinfo=UTC)
    assert localtime.format_date(late, new_york) == "31 Oct 2026"
    assert localtime.format_date(late, new_york, style="weekday") == "Sat 31 Oct 2026"
    assert localtime.format_date(dt.date(2026, 11, 1)) == "1 Nov 2026"   # a day stays a day
    assert localtime.format_date(None) == "" and localtime.isoformat(None) is None
    # Exports: ISO 8601 with the offset of that moment.
    assert localtime.isoformat(BEFORE, new_york) == "2026-10-31T14:05:00-04:00"
    assert localtime.isoformat(AFTER, new_york) == "2026-11-02T14:05:00-05:00"
    # An override (a client's own zone, one day) wins over the clinic's.
    assert localtime.format_datetime(AFTER, new_york, tz="Europe/Berlin") == \
        "Mon 2 Nov 2026, 20:05"
    assert localtime.format_datetime(AFTER, new_york, tz=ZoneInfo("Asia/Tokyo")) == \
        "Tue 3 Nov 2026, 04:05"


def test_a_clinic_is_today_where_it_is(new_york):
    # 00:30 in Berlin is still yesterday in UTC; 23:30 in New York is already tomorrow.
    berlin = Clinic(name="Berlin", time_zone="Europe/Berlin")
    half_past_midnight = dt.datetime(2026, 11, 2, 23, 30, tzinfo=UTC)   # 00:30 on 3 Nov
    assert localtime.today(berlin, now=half_past_midnight) == dt.date(2026, 11, 3)
    assert localtime.today(new_york, now=dt.datetime(2026, 11, 3, 4, 30, tzinfo=UTC)) == \
        dt.date(2026, 11, 2)
    assert localtime.at(dt.date(2026, 11, 3), 0, 30, berlin) == half_past_midnight


def zone_where_the_date_differs_now() -> str:
    """A zone whose date is not UTC's at this moment: UTC+14 from 10:00 UTC, UTC−12 before."""
    return "Pacific/Kiritimati" if timezone.now().hour >= 10 else "Etc/GMT+12"


def test_a_session_recorded_now_gets_the_clinics_date_not_utcs(login, clinic, therapist, case):
    clinic.time_zone = zone_where_the_date_differs_now()
    clinic.save(update_fields=["time_zone"])
    local_today = timezone.now().astimezone(ZoneInfo(clinic.time_zone)).date()
    assert local_today != timezone.now().date()
    client = login(therapist)
    # The form's default date, and a session recorded through it.
    page = client.get(reverse("care:session_new", args=[case.pk]))
    assert f'value="{local_today.isoformat()}"' in page.content.decode()
    response = client.post(reverse("care:session_new", args=[case.pk]),
                           {"date": local_today.isoformat(), "status": "attended",
                            "format": "in_person"})
    assert response.status_code == 302
    assert case.sessions.get(number=2).date == local_today
    # The services, outside any request, count in the clinic's days too.
    assert care.record_session(case, status="attended").date == local_today
    assert care.admit_client(therapist, code="C-LOCAL", modality="cbt").start_date == \
        local_today
    # The models' defaults are the active zone's day: the clinic's wherever it is active.
    with localtime.activated(clinic):
        assert Session(case=case, number=99).date == local_today
        assert Case(client=case.client, therapist=therapist).start_date == local_today


# --- pages ------------------------------------------------------------------------------


def test_a_staff_page_shows_answers_in_the_clinics_local_time(login, new_york, therapist, case):
    answered(case, BEFORE)     # session 2
    answered(case, AFTER)      # session 3
    client = login(therapist)
    for number, shown in ((2, "Sat 31 Oct 2026, 14:05"), (3, "Mon 2 Nov 2026, 14:05")):
        html = client.get(reverse("care:session", args=[case.pk, number])).content.decode()
        assert shown in html
        assert "UTC" not in html and "18:05" not in html and "19:05" not in html


def test_the_audit_page_shows_the_clinics_local_time(login, new_york, admin):
    record(None, "read", new_york, actor="setup", clinic=new_york)
    event = Event.objects.filter(clinic_id=new_york.pk).latest("id")
    html = login(admin).get(reverse("audit:list")).content.decode()
    assert localtime.format_datetime(event.at, new_york, seconds=True) in html
    assert "(UTC)" not in html


def test_the_clients_check_in_page_and_its_e_mail_show_the_clinics_local_time(
        client, new_york, issued):
    # A link expiring on a Monday after the clocks went back (4 November 2030, 19:05 UTC).
    expiry = dt.datetime(2030, 11, 4, 19, 5, tzinfo=UTC)
    type(issued.link).objects.filter(pk=issued.link.pk).update(expires_at=expiry)
    issued.link.refresh_from_db()
    html = client.get(reverse("checkins:form", args=[issued.token])).content.decode()
    assert "This link works until Mon 4 Nov 2030, 14:05." in html
    from alliance.web.outreach import services as outreach

    outreach.send_link(issued, "email")
    body = mail.outbox[-1].body
    assert "until Mon 4 Nov 2030, 14:05." in body and "UTC" not in body


def test_the_client_portal_shows_the_clinics_local_time(client, new_york, case, therapist):
    new_york.client_portal_enabled = True
    new_york.save(update_fields=["client_portal_enabled"])
    account = portal.invite(case, by=therapist)
    written = portal.leave_feedback(account, case, "The last session helped.")
    type(written).objects.filter(pk=written.pk).update(created_at=AFTER)
    client.force_login(account.user)
    html = client.get(reverse("portal:feedback")).content.decode()
    assert "Mon 2 Nov 2026, 14:05" in html and "19:05" not in html


def test_the_portals_sign_in_e_mail_gives_the_clinics_local_time(new_york, case, therapist):
    new_york.client_portal_enabled = True
    new_york.save(update_fields=["client_portal_enabled"])
    account = portal.invite(case, by=therapist)
    account.user.set_password("a client's long password")
    account.user.save()
    mail.outbox.clear()
    assert portal.request_sign_in_link(case.client.contact_email, base_url="https://a.example",
                                       now=AFTER) == 1
    assert "(until 14:20)" in mail.outbox[-1].body   # 15 minutes after 14:05 in New York


# --- PDF, exports ---------------------------------------------------------------------------


def agreed_goal(case, text: str, when: dt.datetime):
    goal = goals.propose_goal(case, text, by=case.therapist)
    goals.confirm_goal(goal, by=case.client)
    type(goal).objects.filter(pk=goal.pk).update(client_confirmed_at=when,
                                                 therapist_confirmed_at=when)
    return goal


def test_the_case_report_pdf_gives_the_clinics_local_days(new_york, case):
    # 23:30 in New York both times: 03:30 UTC under summer time, 04:30 UTC after it.
    agreed_goal(case, "Sleep through the night", dt.datetime(2026, 10, 31, 3, 30, tzinfo=UTC))
    agreed_goal(case, "Walk every morning", dt.datetime(2026, 11, 3, 4, 30, tzinfo=UTC))
    content = case_report.render(case_report.load(case, today=dt.date(2026, 11, 3)))
    words = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
                     .split())
    assert "Agreed on 30 Oct 2026" in words and "Agreed on 2 Nov 2026" in words
    assert "Agreed on 31 Oct 2026" not in words and "Agreed on 3 Nov 2026" not in words
    assert f"Mon {START.day} Jan 2026" in words    # the sessions table, with its weekday


def test_exports_write_iso_8601_with_the_clinics_offset(new_york, case):
    answered(case, BEFORE)
    answered(case, AFTER)
    # FHIR: QuestionnaireResponse.authored.
    authored = sorted(entry["resource"]["authored"]
                      for entry in case_bundle(case)["entry"]
                      if entry["resource"]["resourceType"] == "QuestionnaireResponse")
    assert authored[-2:] == ["2026-10-31T14:05:00-04:00", "2026-11-02T14:05:00-05:00"]
    # The client's data export (JSON).
    document = export_client(case.client)
    submitted = sorted(form["submitted_at"] for c in document["cases"]
                       for s in c["sessions"] for form in s["administrations"]
                       if form["submitted_at"])
    assert submitted[-2:] == ["2026-10-31T14:05:00-04:00", "2026-11-02T14:05:00-05:00"]
    assert document["clinic"]["time_zone"] == NEW_YORK
    assert json.dumps(document)  # still plain JSON


def test_the_api_writes_times_with_the_offset_of_the_tokens_clinic(client, new_york, case):
    answered(case, BEFORE)
    answered(case, AFTER)
    response = client.get("/api/administrations/?submitted=true&ordering=submitted_at",
                          **bearer(make_token(case.therapist, "read")))
    assert response.status_code == 200
    submitted = [row["submitted_at"] for row in response.json()["results"]]
    assert submitted[-2:] == ["2026-10-31T14:05:00-04:00", "2026-11-02T14:05:00-05:00"]


def test_the_audit_csv_export_writes_each_event_with_its_clinics_offset(new_york, other_clinic):
    mine = record(None, "read", new_york, actor="setup", clinic=new_york)
    theirs = record(None, "read", other_clinic, actor="setup", clinic=other_clinic)
    result = CliRunner().invoke(cli, ["audit", "export"])
    assert result.exit_code == 0, result.output
    rows = {int(row["id"]): row for row in csv.DictReader(io.StringIO(result.output))}
    for event, zone in ((mine, ZoneInfo(NEW_YORK)), (theirs, UTC)):
        at = rows[event.pk]["at"]
        assert at == event.at.astimezone(zone).isoformat()
        assert dt.datetime.fromisoformat(at) == event.at          # the same instant
    assert rows[mine.pk]["at"][-6:] in ("-04:00", "-05:00")
    unknown = CliRunner().invoke(cli, ["audit", "export", "--clinic", "999999"])
    assert unknown.exit_code != 0 and "no clinic with the id 999999" in unknown.output


# --- the clinic's setting -------------------------------------------------------------------


def test_the_administrator_chooses_the_time_zone_and_a_wrong_name_is_refused(login, admin):
    client = login(admin)
    page = client.get(reverse("clinics:settings"))
    html = page.content.decode()
    assert '<select name="time_zone"' in html and '<option value="America/New_York"' in html
    choices = [value for value, _ in page.context["form"].fields["time_zone"].choices]
    assert choices == sorted(choices) and "Europe/London" in choices
    data = {name: value for name, value in page.context["form"].initial.items()
            if value is not None and value is not False}
    data["instruments_in_use"] = ["alliance-client", "alliance-therapist", "wellbeing"]
    data["time_zone"] = "Mars/Olympus_Mons"
    response = client.post(reverse("clinics:settings"), data)
    assert response.status_code == 200
    assert ("Mars/Olympus_Mons is not a time zone name; choose one from the list, such as "
            "Europe/London.") in response.content.decode()
    assert Clinic.objects.get(pk=admin.clinic_id).time_zone == "UTC"
    data["time_zone"] = NEW_YORK
    assert client.post(reverse("clinics:settings"), data).status_code == 302
    assert Clinic.objects.get(pk=admin.clinic_id).time_zone == NEW_YORK


def test_the_model_refuses_a_name_that_is_not_a_time_zone(clinic):
    from django.core.exceptions import ValidationError

    for name in ("Europe/Atlantis", " Europe/London", "../etc/passwd", "/etc/localtime", ""):
        clinic.time_zone = name
        with pytest.raises(ValidationError):
            clinic.full_clean()
    clinic.time_zone = "Europe/Atlantis"
    with pytest.raises(ValidationError, match="not a time zone name"):
        clinic.full_clean()
    clinic.time_zone = "Asia/Kolkata"
    clinic.full_clean()


def test_the_setting_for_new_clinics_is_read_strictly():
    from django.core.exceptions import ImproperlyConfigured

    from alliance.web.env import env_time_zone

    assert env_time_zone("ALLIANCE_TIME_ZONE", "Europe/London", environ={}) == "Europe/London"
    assert env_time_zone("ALLIANCE_TIME_ZONE", "UTC",
                         environ={"ALLIANCE_TIME_ZONE": "Asia/Tokyo"}) == "Asia/Tokyo"
    with pytest.raises(ImproperlyConfigured, match="ALLIANCE_TIME_ZONE='Londn'"):
        env_time_zone("ALLIANCE_TIME_ZONE", "UTC", environ={"ALLIANCE_TIME_ZONE": "Londn"})


# --- the demo -------------------------------------------------------------------------------


def test_the_demos_history_lies_in_the_past_of_the_clinics_now(db):
    """A session of today: its evening answer is not later than now where the clinic is."""
    zone = zone_where_the_date_differs_now()
    with localtime.activated(tz=zone):
        today = localtime.today()
        now = timezone.now()
        for seed in range(20):
            when = demo._submitted_at(today, random.Random(seed))
            assert when <= now
            assert localtime.local(when).date() == today
        assert demo._expiry(today) == localtime.at(today, 18) + dt.timedelta(hours=72)


def test_a_day_written_once_is_written_again_in_each_language_and_style():
    """Days are kept once written (`localtime._format_day`): per language and style, and a
    moment on that day is still written in the zone asked for."""
    from django.utils import translation

    day = dt.date(2026, 12, 7)
    with translation.override("en"):
        assert localtime.format_date(day) == "7 Dec 2026"
        assert localtime.format_date(day, style="weekday") == "Mon 7 Dec 2026"
    with translation.override("fr"):
        assert localtime.format_date(day) == "7 décembre 2026"
    with translation.override("en"):
        assert localtime.format_date(day) == "7 Dec 2026"
        # 02:30 UTC on the 8th is still the 7th in New York.
        moment = dt.datetime(2026, 12, 8, 2, 30, tzinfo=dt.UTC)
        assert localtime.format_date(moment, tz="America/New_York") == "7 Dec 2026"
        assert localtime.format_date(moment, tz="UTC") == "8 Dec 2026"

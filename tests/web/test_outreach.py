"""What goes out by itself: measurement plans, check-in messages, reminders, quiet hours,
the text-message gateway, notices to staff, the worklist, and the worker's periodic jobs.

The clock is fixed by passing `now`; e-mails go to Django's in-memory outbox, except in
the test with a real SMTP server on loopback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from alliance.web.care import services as care
from alliance.web.care.models import Client, Session
from alliance.web.checkins.models import CheckinLink
from alliance.web.outreach import jobs, plans, services, timing
from alliance.web.outreach.models import ClinicMessaging, Job, Message, NoticePreference

from helpers import ITEMS, checkin_post

UTC = dt.timezone.utc


@pytest.fixture
def automatic(clinic):
    plan = plans.clinic_plan(clinic)
    plan.sending = plan.Sending.AUTOMATIC
    plan.quiet_from = plan.quiet_until = None
    plan.save()
    return plan


def record_today(case, after_commit, status=Session.Status.ATTENDED):
    with after_commit():
        return care.record_session(case, date=timezone.localdate(), status=status)


def link_in(message) -> str:
    """The check-in path in an e-mail's text."""
    [line] = [w for w in message.body.split() if "/checkin/" in w or "/c/" in w]
    return line.removeprefix("http://testserver")


# --- the rules ---------------------------------------------------------------------------

@pytest.mark.parametrize(("rule", "asked"), [
    (None, [1, 2, 3, 4, 5, 6]),
    ({"every": 1}, [1, 2, 3, 4, 5, 6]),
    ({"every": 3}, [1, 4]),
    ({"every": 0, "first": True}, [1]),
    ({"every": 0}, []),
    ({"every": 4, "first": True}, [1, 5]),
])
def test_which_attended_sessions_a_questionnaire_is_asked_at(rule, asked):
    assert [n for n in range(1, 7) if timing.asked_at(rule, n)] == asked


def test_the_last_session_is_asked_when_it_ends_the_case():
    rule = {"every": 0, "last": True}
    assert not timing.asked_at(rule, 7)
    assert timing.asked_at(rule, 7, last=True)
    assert timing.describe({"every": 2, "last": True}) == "every 2nd session and the last session"
    assert timing.describe({"every": 0}) == "never"


QUIET = (dt.time(21, 0), dt.time(8, 0))


@pytest.mark.parametrize(("when", "expected"), [
    # 22:30 in London on Saturday 28 March (GMT): the quiet hours end at 08:00 on Sunday,
    # after the clocks went forward, which is 07:00 UTC.
    ("2026-03-28T22:30:00+00:00", "2026-03-29T07:00:00+00:00"),
    # 22:30 on 24 October (BST): they end at 08:00 on the 25th, after the clocks went back.
    ("2026-10-24T21:30:00+00:00", "2026-10-25T08:00:00+00:00"),
    # 06:00 local in the morning: later the same morning.
    ("2026-06-10T05:00:00+00:00", "2026-06-10T07:00:00+00:00"),
    # Outside the quiet hours: as it was.
    ("2026-06-10T12:00:00+00:00", "2026-06-10T12:00:00+00:00"),
])
def test_quiet_hours_in_the_clients_time_zone_across_daylight_saving(when, expected):
    moved = timing.outside_quiet_hours(dt.datetime.fromisoformat(when), "Europe/London", QUIET)
    assert moved == dt.datetime.fromisoformat(expected)


def test_quiet_hours_within_one_day_and_none():
    noon = dt.datetime(2026, 6, 10, 12, 30, tzinfo=UTC)
    assert timing.outside_quiet_hours(noon, "UTC", (dt.time(12), dt.time(13))) == \
        noon.replace(hour=13, minute=0)
    assert timing.outside_quiet_hours(noon, "UTC", None) == noon


# --- check-ins by themselves ---------------------------------------------------------------

def test_recording_an_attended_session_sends_one_check_in_naming_clinic_and_therapist(
        case, automatic, after_commit, client):
    session = record_today(case, after_commit)
    # Planned "at once", it went out through the worker's queue as the session was saved.
    [planned] = Message.objects.filter(session=session, kind="checkin")
    assert planned.status == "sent"
    assert jobs.tick()["messages"]["sent"] == 0
    [email] = mail.outbox
    assert email.to == ["client@example.org"]
    assert email.from_email.startswith("Riverside Counselling <")
    assert "Riverside Counselling" in email.subject and "Therapist" in email.subject
    assert "Therapist at Riverside Counselling" in email.body
    html = email.alternatives[0][0]
    assert "<img" not in html and "http" in html
    # The link in the e-mail opens the session's check-in, and it works.
    response = client.get(link_in(email))
    assert response.status_code == 200
    with after_commit():
        response = client.post(link_in(email), checkin_post(dict.fromkeys(ITEMS, 7)))
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.status == "sent"
    # The answer cancels the reminders that were planned.
    assert set(Message.objects.filter(kind="reminder").values_list("status", flat=True)) == \
        {"cancelled"}


def test_no_message_ever_holds_answers_or_scores(case, automatic, after_commit, client):
    session = record_today(case, after_commit)
    text = mail.outbox[0].body + mail.outbox[0].alternatives[0][0]
    for word in ("score", "alliance", "rupture", "C-AAAA1"):
        assert word not in text.lower() if word.islower() else word not in text
    assert session.pk  # the code of the client is not in it either (checked above)


def test_reminders_come_with_their_own_link_and_stop_when_answered(
        case, automatic, after_commit, client):
    session = record_today(case, after_commit)
    now = Message.objects.get(kind="checkin").sent_at
    reminders = list(Message.objects.filter(kind="reminder").order_by("due_at"))
    assert [r.due_at - now for r in reminders] == [dt.timedelta(hours=24),
                                                    dt.timedelta(hours=48)]
    mail.outbox.clear()
    jobs.tick(now + dt.timedelta(hours=24, minutes=1))
    [reminder] = mail.outbox
    assert reminder.subject.startswith("Reminder:")
    # Both links lead to the check-in until it is answered; then the other one stops.
    assert CheckinLink.objects.live().count() == 2
    with after_commit():
        response = client.post(link_in(reminder), checkin_post(dict.fromkeys(ITEMS, 6)))
    assert response.status_code == 302
    assert CheckinLink.objects.live().count() == 0
    jobs.tick(now + dt.timedelta(hours=49))
    assert len(mail.outbox) == 1
    assert Message.objects.get(key=f"reminder:session:{session.pk}:2").status == "cancelled"


def test_reminders_stop_when_the_link_expires_or_the_case_ends(case, automatic, after_commit):
    clinic = case.client.clinic
    clinic.checkin_link_expiry_hours = 30  # room for one reminder only
    clinic.save()
    record_today(case, after_commit)
    jobs.tick()
    assert Message.objects.filter(kind="reminder").count() == 1
    with after_commit():
        care.end_case(case, status="closed", end_date=timezone.localdate())
    assert Message.objects.get(kind="reminder").status == "cancelled"


@pytest.mark.parametrize("status", [Session.Status.CANCELLED, Session.Status.NO_SHOW])
def test_cancelled_and_missed_sessions_send_nothing(case, automatic, after_commit, status):
    record_today(case, after_commit, status=status)
    assert not Message.objects.exists()


def test_sending_by_hand_plans_nothing(case, clinic, after_commit):
    assert not plans.clinic_plan(clinic).is_automatic
    record_today(case, after_commit)
    assert not Message.objects.exists()


def test_a_session_recorded_days_later_gets_no_automatic_check_in(case, automatic, after_commit):
    with after_commit():
        care.record_session(case, date=timezone.localdate() - dt.timedelta(days=10),
                            status=Session.Status.ATTENDED)
    assert not Message.objects.exists()


def test_the_plan_asks_each_questionnaire_at_its_sessions(case, automatic, after_commit):
    automatic.schedule = {"wellbeing": {"every": 0, "first": True}}
    automatic.save()
    session = record_today(case, after_commit)  # the case's second attended session
    jobs.tick()
    asked = set(session.administrations.values_list("instrument_id", flat=True))
    assert asked == {"alliance-client"}


def test_a_case_plan_replaces_the_clinics(case, automatic, after_commit, therapist, login):
    response = login(therapist).post(f"/cases/{case.pk}/check-ins/",
                                     {"part": "choice", "choice-own": "own"})
    assert response.status_code == 302
    own = case.plan
    own.sending = own.Sending.BY_HAND
    own.save()
    record_today(case, after_commit)
    assert not Message.objects.exists()


def test_quiet_hours_delay_a_check_in_recorded_late_in_the_evening(case, automatic):
    automatic.quiet_from, automatic.quiet_until = dt.time(21), dt.time(8)
    automatic.save()
    case.client.time_zone = "Europe/London"
    case.client.save()
    evening = dt.datetime(2026, 3, 28, 22, 30, tzinfo=UTC)
    session = care.record_session(case, date=dt.date(2026, 3, 28),
                                  status=Session.Status.ATTENDED)
    message = services.plan_checkin(session, now=evening)
    assert message.due_at == dt.datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_a_client_who_opted_out_gets_nothing_and_the_therapist_sees_why(
        case, automatic, after_commit, therapist, login):
    case.client.preferred_contact = "none"
    case.client.save()
    session = record_today(case, after_commit)
    [message] = Message.objects.filter(session=session)
    assert message.status == "cancelled" and "asked not to be contacted" in message.outcome
    jobs.tick()
    assert not mail.outbox
    page = login(therapist).get(f"/cases/{case.pk}/sessions/{session.number}/")
    assert "asked not to be contacted" in page.content.decode()


def test_a_failed_delivery_is_recorded_and_shown_on_the_worklist(
        case, automatic, after_commit, therapist, login):
    Client.objects.filter(pk=case.client_id).update(contact_email="")
    record_today(case, after_commit)
    [message] = Message.objects.all()
    assert message.status == "failed"
    assert message.outcome == "No e-mail address is on file."
    page = login(therapist).get("/worklist/").content.decode()
    assert "Messages not delivered" in page and "No e-mail address is on file." in page


@override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                   EMAIL_HOST="127.0.0.1", EMAIL_PORT=9)  # nothing listens on the discard port
def test_an_unreachable_mail_server_is_a_failed_delivery_not_an_error(
        case, automatic, after_commit):
    record_today(case, after_commit)
    message = Message.objects.get()
    assert message.status == "failed" and "mail server" in message.outcome


# --- the text-message gateway --------------------------------------------------------------

class Gateway(BaseHTTPRequestHandler):
    received: list = []
    answer = 204

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gateway.received.append((dict(self.headers), body))
        self.send_response(Gateway.answer)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    server = HTTPServer(("127.0.0.1", 0), Gateway)
    Gateway.received, Gateway.answer = [], 204
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sms"
    server.shutdown()
    server.server_close()


def test_text_messages_go_to_the_gateway_as_signed_json(case, automatic, after_commit, gateway):
    ClinicMessaging.objects.create(clinic=case.client.clinic, sms_webhook_url=gateway,
                                   sms_webhook_secret="s3cret")
    Client.objects.filter(pk=case.client_id).update(preferred_contact="sms",
                                                    phone="+44 7700 900123")
    record_today(case, after_commit)
    assert Message.objects.get(kind="checkin").status == "sent"
    [(headers, body)] = Gateway.received
    payload = json.loads(body)
    assert payload["to"] == "+44 7700 900123" and "/checkin/" in payload["text"] or \
        "/c/" in payload["text"]
    assert payload["text"].startswith("Riverside Counselling:")
    expected = hmac.new(b"s3cret", headers["X-Alliance-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Alliance-Signature"] == "sha256=" + expected


def test_a_gateway_error_is_a_failed_delivery(case, automatic, after_commit, gateway):
    Gateway.answer = 500
    ClinicMessaging.objects.create(clinic=case.client.clinic, sms_webhook_url=gateway,
                                   sms_webhook_secret="s3cret")
    Client.objects.filter(pk=case.client_id).update(preferred_contact="sms", phone="+447700900123")
    record_today(case, after_commit)
    assert Message.objects.get().outcome == "The text-message gateway answered 500."


# --- staff: notices, digest, worklist ------------------------------------------------------

def test_a_new_rupture_e_mails_a_therapist_who_asked_for_it(
        case, therapist, automatic, after_commit, client):
    NoticePreference.objects.create(staff=therapist, rupture_email=True)
    for value in (8, 8, 8, 4):
        session = record_today(case, after_commit)
        link = link_in(mail.outbox[-1])
        mail.outbox.clear()
        with after_commit():
            client.post(link, checkin_post(dict.fromkeys(ITEMS, value)))
        # The next session is another day: a new check-in each time.
        Session.objects.filter(pk=session.pk).update(date=timezone.localdate() - dt.timedelta(
            days=7 * (5 - session.number)))
    [notice] = Message.objects.filter(kind="rupture")
    [email] = mail.outbox  # sent as the rupture was found
    assert email.to == ["therapist@riverside.example"]
    assert f"/cases/{case.pk}/" in email.body and "C-AAAA1" not in email.body
    notice.refresh_from_db()
    assert notice.status == "sent"


def test_the_daily_digest_goes_once_a_day_at_the_chosen_hour(case, therapist, after_commit):
    NoticePreference.objects.create(staff=therapist, daily_digest=True, digest_hour=7)
    early = dt.datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    case.sessions.filter(number=1).update(date=early.date())
    from alliance.web.checkins import services as checkins
    checkins.issue_link(case.sessions.get(number=1), "alliance-client", by=therapist,
                        now=early - dt.timedelta(days=5))  # expired: a check-in not answered
    jobs.tick(early)
    assert not Message.objects.filter(kind="digest").exists()
    jobs.tick(early + dt.timedelta(hours=1, minutes=1))
    [digest] = mail.outbox
    assert "1 check-in not answered" in digest.body
    jobs.tick(early + dt.timedelta(hours=3))
    assert len(mail.outbox) == 1


def test_the_worklist_shows_whats_new_and_the_header_counts_it(
        case, therapist, login, issued, client):
    staff_client = login(therapist)
    assert "Nothing new" in staff_client.get("/worklist/").content.decode()
    from django.test import Client as Browser
    Browser().post(issued.path, checkin_post(dict.fromkeys(ITEMS, 7)))
    home = staff_client.get("/cases/").content.decode()
    assert 'aria-label="1 new"' in home
    page = staff_client.get("/worklist/").content.decode()
    assert "New check-ins (1)" in page and "C-AAAA1, session 1" in page
    assert 'aria-label="1 new"' not in staff_client.get("/cases/").content.decode()


def test_a_supervisor_sees_supervisees_unrepaired_ruptures(case, supervisor, login):
    from alliance.web.monitoring.models import Signal
    Signal.objects.create(case=case, session=case.sessions.get(number=1), type="rupture",
                          rule="sd1", explanation="A drop.", repair_state="pending")
    page = login(supervisor).get("/worklist/").content.decode()
    assert "ruptures not yet repaired (1)" in page and "C-AAAA1" in page


def test_the_notices_page_saves_a_preference(therapist, login):
    response = login(therapist).post("/notices/", {"rupture_email": "on", "digest_hour": "8"})
    assert response.status_code == 302
    pref = NoticePreference.objects.get(staff=therapist)
    assert pref.rupture_email and not pref.daily_digest and pref.digest_hour == 8


def test_the_measurement_plan_page_saves_the_plan_and_refuses_half_quiet_hours(admin, login):
    page = login(admin).get("/clinic/measurement/")
    assert page.status_code == 200
    data = {"plan-sending": "automatic", "plan-channel": "email", "plan-delay_hours": "0",
            "plan-reminder_after_hours": "24", "plan-reminders": "2",
            "plan-quiet_from": "21:00", "plan-quiet_until": "",
            "plan-every-alliance-client": "1", "plan-every-wellbeing": "2",
            "sending-reply_to": "reception@riverside.example"}
    refused = login(admin).post("/clinic/measurement/", data)
    assert refused.status_code == 400 and "both ends" in refused.content.decode()
    data["plan-quiet_until"] = "08:00"
    assert login(admin).post("/clinic/measurement/", data).status_code == 302
    plan = plans.clinic_plan(admin.clinic)
    assert plan.is_automatic and plan.schedule["wellbeing"]["every"] == 2
    assert plans.messaging(admin.clinic).reply_to == "reception@riverside.example"


def test_the_contact_page_refuses_a_text_preference_without_a_number(case, therapist, login):
    response = login(therapist).post(f"/cases/{case.pk}/check-ins/", {
        "part": "contact", "contact-contact_email": "client@example.org", "contact-phone": "",
        "contact-preferred_contact": "sms", "contact-time_zone": "Europe/Berlin"})
    assert response.status_code == 400 and "need a number" in response.content.decode()
    response = login(therapist).post(f"/cases/{case.pk}/check-ins/", {
        "part": "contact", "contact-contact_email": "client@example.org",
        "contact-phone": "+49 30 1234567", "contact-preferred_contact": "sms",
        "contact-time_zone": "Europe/Berlin"})
    assert response.status_code == 302
    stored = Client.objects.get(pk=case.client_id)
    assert stored.phone == "+49 30 1234567" and stored.time_zone == "Europe/Berlin"
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT phone FROM care_client WHERE id = %s", [case.client_id])
        assert "1234567" not in cursor.fetchone()[0]


# --- the worker's jobs -----------------------------------------------------------------------

def test_a_periodic_job_that_fell_due_while_the_worker_was_down_runs_once(db):
    now = dt.datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
    assert "recompute-active-cases" not in jobs.tick(now)  # first, a day after installation
    now += dt.timedelta(days=1)
    assert "recompute-active-cases" in jobs.tick(now)
    assert "recompute-active-cases" not in jobs.tick(now + dt.timedelta(hours=1))
    # Down for three days: back, it runs once, not three times.
    later = now + dt.timedelta(days=3)
    assert "recompute-active-cases" in jobs.tick(later)
    assert "recompute-active-cases" not in jobs.tick(later + dt.timedelta(minutes=1))
    assert Job.objects.get(name="recompute-active-cases").next_run_at == \
        later + dt.timedelta(days=1)


def test_a_message_left_sending_by_a_worker_that_died_is_failed_not_sent_twice(case, therapist):
    now = timezone.now()
    message = services.plan_staff_notice(therapist, kind="rupture", case=case, key="r:1",
                                         due_at=now)
    assert services.claim(message.pk, now)
    assert not services.claim(message.pk, now)  # exactly one claim
    services.send_due(now + dt.timedelta(minutes=20))
    message.refresh_from_db()
    assert message.status == "failed" and "not sent again" in message.outcome
    assert not mail.outbox


def test_a_session_recorded_through_the_api_sends_its_check_in(case, therapist, automatic,
                                                                django_capture_on_commit_callbacks):
    from api_helpers import make_token
    from django.test import Client as Browser

    token = make_token(therapist)
    with django_capture_on_commit_callbacks(execute=True):
        response = Browser().post("/api/sessions/", {"case": case.pk,
                                                        "date": str(timezone.localdate())},
                                  content_type="application/json",
                                  headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.content
    assert response.json()["number"] == 2
    [email] = mail.outbox
    assert email.to == ["client@example.org"]
    refused = Browser().post("/api/sessions/", {"case": case.pk, "date": "2020-01-01"},
                             content_type="application/json",
                             headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 400 and "before the case started" in refused.content.decode()


def test_ending_a_case_sends_the_questionnaires_asked_at_the_last_session(
        case, automatic, after_commit, client):
    automatic.schedule = {"alliance-client": {"every": 1},
                          "wellbeing": {"every": 0, "first": True, "last": True}}
    automatic.save()
    session = record_today(case, after_commit)  # the second session: alliance only
    with after_commit():
        client.post(link_in(mail.outbox[0]), checkin_post(dict.fromkeys(ITEMS, 7),
                                                          wellbeing=None))
    assert not session.administrations.filter(instrument_id="wellbeing").exists()
    mail.outbox.clear()
    with after_commit():
        care.end_case(case, status="closed", end_date=timezone.localdate())
    [closing] = Message.objects.filter(key=f"checkin:closing:{case.pk}")
    assert closing.status == "sent"
    page = client.get(link_in(mail.outbox[0])).content.decode()
    assert "How life has been going" in page and "About today's session" not in page
    with after_commit():
        response = client.post(link_in(mail.outbox[0]), {
            f"{item}": "6" for item in ("self", "close", "everyday", "overall")})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert session.administrations.get(instrument_id="wellbeing").submitted_at is not None


def test_the_gateway_secret_is_never_shown_again_and_kept_when_left_empty(admin, login):
    ClinicMessaging.objects.create(clinic=admin.clinic, sms_webhook_url="https://sms.example/in",
                                   sms_webhook_secret="s3cret-value")
    page = login(admin).get("/clinic/measurement/").content.decode()
    assert "s3cret-value" not in page and "A secret is stored" in page
    data = {"plan-sending": "by_hand", "plan-channel": "sms", "plan-delay_hours": "0",
            "plan-reminder_after_hours": "24", "plan-reminders": "0",
            "plan-every-alliance-client": "1", "plan-every-wellbeing": "1",
            "sending-sms_webhook_url": "https://sms.example/in", "sending-sms_webhook_secret": ""}
    assert login(admin).post("/clinic/measurement/", data).status_code == 302
    assert plans.messaging(admin.clinic).sms_webhook_secret == "s3cret-value"

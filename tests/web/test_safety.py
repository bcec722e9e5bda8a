"""A risk answer reaches a person at once, whichever way it arrives (docs/safety.md).

Every route a form can come by goes through `checkins.services` and its safety check: the
check-in link, in the room, the therapist's form, the API and the portal's messages; an
import of old history marks the answer and tells nobody. Escalation runs on the worker's
periodic tick, with the clock given.
"""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from alliance.web.api.services import submit_form
from alliance.web.audit.models import Event
from alliance.web.checkins import services as checkins
from alliance.web.checkins.models import Administration
from alliance.web.interop import fhir, history, research
from alliance.web.monitoring import actions, recompute
from alliance.web.monitoring.models import Signal
from alliance.web.outreach import jobs
from alliance.web.outreach.models import Message
from alliance.web.portal import services as portal
from alliance.web.privacy import services as privacy
from alliance.web.safety import services as safety
from alliance.web.safety.models import DEFAULT_CRISIS_TEXT, ClinicSafety, RiskAlert

from helpers import answers, checkin_post, next_session

CRISIS = "Call 112 now, or the duty line 0800 123 456 (evenings and weekends)."


@pytest.fixture
def on_call(clinic, other_therapist):
    """The clinic asks the safety question; `other_therapist` and a duty mailbox are on call."""
    settings = ClinicSafety.objects.create(clinic=clinic, ask_safety_question=True,
                                           crisis_text=CRISIS,
                                           on_call_emails="duty@riverside.example")
    settings.on_call_staff.set([other_therapist])
    return settings


def _answer_link(client, issued, value, text=""):
    return client.post(issued.path, checkin_post(answers(7), text, safety=value))


def _risk(case):
    return Signal.objects.filter(case=case, type=Signal.Type.RISK)


def _no_clinical_content(message, case, question_text):
    body = message.body + "".join(str(a[0]) for a in getattr(message, "alternatives", []))
    for secret in (case.client.code, question_text, "safety question", "Once or twice",
                   "On several days", "thoughts", "answered"):
        assert secret not in body and secret not in message.subject


def test_a_risk_answer_by_link_shows_the_crisis_text_and_tells_therapist_and_on_call_at_once(
        client, clinic, therapist, other_therapist, case, session, on_call, after_commit):
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    with after_commit():
        response = _answer_link(client, issued, 2)
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert CRISIS in page and "not an emergency service" in page
    [signal] = _risk(case)
    assert signal.state == Signal.State.OPEN and signal.session == session
    alert = signal.risk_alert
    assert alert.reason == RiskAlert.Reason.ANSWER and alert.notify
    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == {therapist.user.email, other_therapist.user.email,
                         "duty@riverside.example"}
    question = safety.instruments.get_instrument("safety-question").items[0].text["en"]
    for message in sent.values():
        assert message.subject == "Alliance: a check-in needs urgent review"
        assert reverse("safety:alert", args=[alert.pk]) in message.body
        _no_clinical_content(message, case, question)
    assert set(Message.objects.filter(kind=Message.Kind.RISK).values_list("status", flat=True)) \
        == {Message.Status.SENT}


def test_an_answer_below_the_threshold_thanks_the_client_and_tells_nobody(
        client, therapist, case, session, on_call, after_commit):
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    with after_commit():
        response = _answer_link(client, issued, 0)
    page = client.get(response.url).content.decode()
    assert CRISIS not in page and "Thank you" in page
    assert not _risk(case).exists() and not mail.outbox


def test_the_safety_question_is_asked_only_where_the_clinic_switched_it_on(
        client, therapist, case, session):
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    assert "safety-question" not in {a.instrument_id for a in checkins.parts_of(issued.link)}
    ClinicSafety.objects.create(clinic=case.client.clinic, ask_safety_question=True)
    again = checkins.issue_link(session, "alliance-client", by=therapist)
    assert [a.instrument_id for a in checkins.parts_of(again.link)] == [
        "alliance-client", "wellbeing", "safety-question"]
    page = client.get(again.path).content.decode()
    assert "Your safety" in page and "harming yourself" in page


def test_in_the_room_the_crisis_text_shows_before_the_device_goes_back(
        client, therapist, case, session, on_call, after_commit):
    issued = checkins.issue_link(session, "alliance-client", by=therapist, in_room=True)
    with after_commit():
        response = _answer_link(client, issued, 3)
    page = client.get(response.url).content.decode()
    assert CRISIS in page and "hand the device back" in page
    assert _risk(case).count() == 1 and len(mail.outbox) == 3


def test_a_client_form_entered_through_the_api_tells_the_same_people(
        therapist, case, session, on_call, after_commit):
    # A client's answers typed in by staff (e.g. from paper), as the clinic asks them.
    with after_commit():
        submit_form(session, "safety-question", {"thoughts": 1}, {}, by=therapist)
    [signal] = _risk(case)
    assert signal.subject == "safety-question" and len(mail.outbox) == 3


def test_the_therapists_own_form_passes_the_same_check_and_raises_nothing(
        therapist, case, session, on_call, after_commit):
    # The therapist's form has no risk item and its words are not the client's.
    on_call.keywords_enabled, on_call.keywords = True, "hopeless"
    on_call.save()
    with after_commit():
        checkins.submit_by_staff(session, "alliance-therapist",
                                 answers(7),
                                 {"try_next": "the client said they feel hopeless"},
                                 by=therapist)
    assert not _risk(case).exists() and not mail.outbox


def test_a_listed_phrase_in_a_comment_goes_the_same_way_labelled_as_a_reading_aid(
        client, therapist, case, session, on_call, after_commit):
    on_call.keywords_enabled, on_call.keywords = True, "no way out\nhopeless"
    on_call.save()
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    with after_commit():
        response = _answer_link(client, issued, 0, "Honestly I see No  way out of this")
    assert CRISIS in client.get(response.url).content.decode()
    [signal] = _risk(case)
    assert signal.risk_alert.reason == RiskAlert.Reason.PHRASE
    assert "aid to reading, not detection" in signal.explanation
    assert len(mail.outbox) == 3


def test_phrases_are_off_by_default(client, therapist, case, session, after_commit):
    ClinicSafety.objects.create(clinic=case.client.clinic, keywords="hopeless")
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    with after_commit():
        _answer_link(client, issued, None, "I feel hopeless")
    assert not _risk(case).exists()


def test_a_portal_message_with_a_listed_phrase_shows_the_crisis_text(
        client, therapist, case, on_call, after_commit):
    on_call.keywords_enabled, on_call.keywords = True, "hopeless"
    on_call.save()
    case.client.clinic.client_portal_enabled = True
    case.client.clinic.save()
    account = portal.invite(case, by=therapist)
    mail.outbox.clear()
    client.force_login(account.user)
    with after_commit():
        response = client.post(reverse("portal:feedback"), {"text": "I feel hopeless lately"})
    assert response.status_code == 302
    assert CRISIS in client.get(reverse("portal:feedback")).content.decode()
    assert _risk(case).count() == 1 and len(mail.outbox) == 3
    # Shown once, after the message that raised it.
    assert CRISIS not in client.get(reverse("portal:feedback")).content.decode()


def test_an_import_of_old_history_marks_the_answer_and_tells_nobody(
        clinic, therapist, on_call, tmp_path, after_commit):
    email = therapist.user.email
    rows = [f"OLD-9,{email},,1,2025-03-03,attended,phq-9,phq{i},{2 if i == 9 else 1}"
            for i in range(1, 10)]
    path = tmp_path / "history.csv"
    path.write_text("client,therapist,case_status,session,date,session_status,instrument,"
                    "item,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with after_commit():
        history.import_history(path, clinic)
    [signal] = Signal.objects.filter(type=Signal.Type.RISK)
    assert signal.subject == "phq-9" and not signal.risk_alert.notify
    assert not Message.objects.exists() and not mail.outbox
    jobs.tick(now=timezone.now() + dt.timedelta(days=1))
    assert not Message.objects.exists()


def test_recomputing_the_signals_never_deletes_or_reopens_a_risk_signal(
        client, therapist, case, session, on_call, after_commit):
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    with after_commit():
        _answer_link(client, issued, 1)
    signal = _risk(case).get()
    safety.record_response(signal.risk_alert, by=therapist, response="contacted")
    recompute.recompute_case_signals(case)
    case.client.clinic.rupture_rule = "rci"
    recompute.recompute_case_signals(case)
    signal.refresh_from_db()
    assert signal.state == Signal.State.RESOLVED and signal.is_current


def test_a_risk_signal_is_not_acknowledged_or_dismissed_like_the_others(
        client, therapist, case, session, on_call, after_commit):
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    with after_commit():
        _answer_link(client, issued, 1)
    signal = _risk(case).get()
    with pytest.raises(actions.SignalError):
        actions.dismiss(signal, by=therapist, reason="fine")
    with pytest.raises(actions.SignalError):
        actions.acknowledge(signal, by=therapist)


def _raised(client, therapist, session, after_commit, value=2):
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    with after_commit():
        _answer_link(client, issued, value)
    return RiskAlert.objects.get(signal__session=session)


def test_escalation_on_a_fixed_clock_until_a_response_is_recorded(
        client, therapist, supervisor, other_therapist, session, on_call, after_commit):
    alert = _raised(client, therapist, session, after_commit)
    mail.outbox.clear()
    start = alert.raised_at
    # The job runs every five minutes of the worker's clock.
    jobs.tick(now=start + dt.timedelta(minutes=119))
    assert not Message.objects.filter(kind=Message.Kind.ESCALATION).exists()
    jobs.tick(now=start + dt.timedelta(minutes=125))
    first = Message.objects.filter(kind=Message.Kind.ESCALATION)
    assert all(m.key.startswith(f"escalation:signal:{alert.signal_id}:1:") for m in first)
    told = {m.to[0] for m in mail.outbox}
    assert told == {therapist.user.email, other_therapist.user.email, supervisor.user.email,
                    "duty@riverside.example"}
    assert all("no response recorded" in m.subject for m in mail.outbox)
    # Another tick in the same interval plans nothing more.
    jobs.tick(now=start + dt.timedelta(minutes=200))
    assert first.count() == 4
    # Every further interval, again.
    jobs.tick(now=start + dt.timedelta(minutes=241))
    assert Message.objects.filter(kind=Message.Kind.ESCALATION,
                                  key__contains=":2:").count() == 4
    alert.refresh_from_db()
    assert alert.escalations == 2
    # The supervisor records a response: the escalation stops.
    safety.record_response(alert, by=supervisor, response="emergency")
    mail.outbox.clear()
    jobs.tick(now=start + dt.timedelta(minutes=600))
    assert not mail.outbox
    assert not Message.objects.filter(kind=Message.Kind.ESCALATION, key__contains=":3:").exists()


def test_the_clinics_own_escalation_time_is_used(
        client, therapist, session, on_call, after_commit):
    ClinicSafety.objects.filter(pk=on_call.pk).update(escalation_minutes=30)
    alert = _raised(client, therapist, session, after_commit)
    jobs.tick(now=alert.raised_at + dt.timedelta(minutes=31))
    assert Message.objects.filter(kind=Message.Kind.ESCALATION).exists()


def test_a_response_is_recorded_by_the_right_people_and_audited(
        login, therapist, supervisor, admin, client, session, on_call, after_commit,
        other_clinic_therapist):
    alert = _raised(client, therapist, session, after_commit)
    url = reverse("safety:alert", args=[alert.pk])
    assert login(admin).get(url).status_code == 404
    assert login(other_clinic_therapist).get(url).status_code == 404
    page = login(therapist)
    assert page.post(url, {"response": "other", "note": ""}).status_code == 400
    assert page.post(url, {"response": "contacted", "note": "Rang; safe tonight."}
                     ).status_code == 302
    alert.refresh_from_db()
    assert alert.responded_by == therapist and alert.response == "contacted"
    assert alert.signal.state == Signal.State.RESOLVED
    event = Event.objects.get(target_id=str(alert.signal_id),
                              detail__startswith="risk response recorded")
    assert "Contacted the client" in event.detail
    with pytest.raises(safety.SafetyError):
        safety.record_response(alert, by=supervisor, response="emergency")


def test_risk_stands_first_on_the_caseload_case_page_worklist_and_supervision(
        login, client, therapist, supervisor, open_case, case, session, on_call, after_commit):
    from alliance.web.monitoring import recompute as rc

    other = open_case(therapist, "C-ZZZZ9")
    for value in (8, 8, 8, 3):  # a possible rupture on the other case
        last = other.sessions.order_by("-number").first()
        s = last if not last.administrations.exists() else next_session(other)
        issued = checkins.issue_link(s, "alliance-client", by=therapist)
        checkins.submit_link(issued.token, answers(value), {})
    rc.recompute_case_signals(other)
    assert Signal.objects.filter(case=other, type="rupture").exists()
    alert = _raised(client, therapist, session, after_commit, value=1)
    staff = login(therapist)
    rows = staff.get(reverse("care:caseload")).context["rows"]
    assert rows[0].case.pk == case.pk and rows[0].level.key == "risk"
    later = next_session(case)
    Signal.objects.create(case=case, session=later, type=Signal.Type.LOW_ALLIANCE,
                          subject="total", rule="cutoff", explanation="Lower than usual.")
    html = staff.get(reverse("care:case", args=[case.pk])).content.decode()
    first = html.index('<li class="signal signal-')
    assert html[first:first + 40].startswith('<li class="signal signal-risk')
    assert reverse("safety:alert", args=[alert.pk]) in html
    assert reverse("safety:alert", args=[alert.pk]) in staff.get(
        reverse("outreach:worklist")).content.decode()
    sup = login(supervisor).get(reverse("monitoring:supervision")).content.decode()
    assert "Risk answers without a recorded response" in sup
    assert reverse("safety:alert", args=[alert.pk]) in sup


def test_exports_keep_the_risk_flag(client, therapist, case, session, on_call, after_commit):
    _raised(client, therapist, session, after_commit)
    export = research.build_export(case.client.clinic)
    sessions = export.tables()["sessions"]
    assert sessions.loc[sessions["session"] == 1, "risk_answer"].tolist() == [1]
    bundle = fhir.case_bundle(case)
    flags = [e for entry in bundle["entry"]
             for e in entry["resource"].get("extension", [])
             if e["url"].endswith("risk-answer")]
    assert flags == [{"url": "urn:alliance:fhir:risk-answer", "valueCode": "thoughts"}]


def test_erasing_the_client_keeps_the_response_and_its_audit_record(
        client, therapist, case, session, on_call, after_commit):
    alert = _raised(client, therapist, session, after_commit)
    safety.record_response(alert, by=therapist, response="safety_plan", note="Plan with J.")
    privacy.erase_client(case.client, confirm_code=case.client.code)
    alert.refresh_from_db()
    assert alert.response == "safety_plan" and alert.responded_by == therapist
    assert alert.response_note == ""
    assert Event.objects.filter(target_id=str(alert.signal_id),
                                detail__startswith="risk response recorded").exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_notice_the_mail_server_refuses_now_is_left_for_the_worker(
        client, therapist, session, on_call, after_commit):
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                           EMAIL_HOST="127.0.0.1", EMAIL_PORT=_closed_port()):
        alert = _raised(client, therapist, session, after_commit)
    failed = Message.objects.filter(kind=Message.Kind.RISK, status=Message.Status.FAILED)
    assert failed.count() == 3
    retries = Message.objects.filter(kind=Message.Kind.RISK, status=Message.Status.PLANNED)
    assert retries.count() == 3 and all(":retry:" in m.key for m in retries)
    jobs.tick(now=alert.raised_at + dt.timedelta(minutes=2))
    assert len(mail.outbox) == 3


def test_the_admin_sets_the_crisis_text_and_on_call_contacts(login, admin, clinic, therapist):
    page = login(admin)
    url = reverse("safety:clinic")
    shown = page.get(url).content.decode()
    assert DEFAULT_CRISIS_TEXT[:40] in shown
    bad = page.post(url, {"crisis_text": CRISIS, "on_call_emails": "not an address",
                          "escalation_minutes": 120})
    assert bad.status_code == 400 and not ClinicSafety.objects.exists()
    good = page.post(url, {"crisis_text": CRISIS, "on_call_staff": [therapist.pk],
                           "on_call_emails": "duty@riverside.example",
                           "escalation_minutes": 60, "ask_safety_question": "on"})
    assert good.status_code == 302
    saved = ClinicSafety.objects.get(clinic=clinic)
    assert saved.crisis_text_shown == CRISIS and list(saved.on_call_staff.all()) == [therapist]
    assert saved.escalation_minutes == 60 and saved.ask_safety_question


def test_without_a_text_of_its_own_the_client_sees_the_careful_default(
        client, therapist, case, session, after_commit):
    ClinicSafety.objects.create(clinic=case.client.clinic, ask_safety_question=True)
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    with after_commit():
        response = _answer_link(client, issued, 1)
    page = client.get(response.url).content.decode()
    assert "local emergency number" in page
    assert Administration.objects.get(session=session, instrument_id="safety-question").scores


def test_the_clients_data_export_holds_the_risk_signal_and_its_response(
        client, therapist, case, session, on_call, after_commit):
    alert = _raised(client, therapist, session, after_commit)
    safety.record_response(alert, by=therapist, response="contacted", note="Rang at six.")
    [signal] = [s for c in privacy.export_client(case.client)["cases"] for s in c["signals"]
                if s["type"] == "risk"]
    assert signal["state"] == "resolved"
    assert signal["risk_response"]["response"] == "contacted"
    assert signal["risk_response"]["by"] == therapist.display_name


def test_the_reports_and_downloads_open_with_a_risk_signal(
        login, client, therapist, admin, supervisor, case, session, on_call, after_commit):
    _raised(client, therapist, session, after_commit)
    staff = login(therapist)
    for name in ("reports:case", "reports:case_for_client"):
        response = staff.get(reverse(name, args=[case.pk]))
        assert response.status_code == 200, name
    assert login(admin).get(reverse("monitoring:report")).status_code == 200
    assert login(supervisor).get(reverse("reports:clinic")).status_code == 200
    assert login(therapist).get(reverse("interop:case_fhir", args=[case.pk])).status_code == 200

"""The intake: asked once with the check-in of a case's first sessions, every answer
optional, free text encrypted at rest; the therapist reads it beside the goals with prompts
where a preference and the case's way of working differ; research exports leave the
client's cultural text out unless the clinic allows it."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from alliance.web import crypto
from alliance.web.care.models import Case
from alliance.web.checkins import services as checkins
from alliance.web.checkins.models import CheckinLink
from alliance.web.goals import services as goals
from alliance.web.intake import services
from alliance.web.intake.models import Intake
from alliance.web.interop import research
from alliance.web.portal import services as portal
from alliance.web.privacy import services as privacy

from helpers import checkin_post, next_session

HOPES = "To stop dreading Monday mornings."
CULTURE = "I pray five times a day; Arabic is my first language."
PAST = "The last counsellor never asked what I wanted."
OPEN = '<details class="fold" open>\n  <summary><h2 id="intake-heading">'


def intake_post(client_answers, **fields) -> dict:
    data = checkin_post(client_answers)
    data.update({f"intake-{name}": str(value) for name, value in fields.items()})
    return data


def raw(column: str, pk: int) -> str:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(column)} FROM intake_intake WHERE id = %s", [pk])
        return cursor.fetchone()[0]


# -- In the check-in ---------------------------------------------------------------------------

def test_the_first_sessions_check_in_carries_the_intake_with_nothing_chosen(client, issued):
    html = client.get(issued.path).content.decode()
    assert "Getting started: about you and your therapy" in html
    for name in ("hopes", "past_therapy_text", "culture"):
        assert f'name="intake-{name}"' in html
    for name in ("past_therapy", "structure", "focus", "tasks", "lead"):
        assert f'name="intake-{name}" value="either"' in html or name == "past_therapy"
        assert html.count(f'name="intake-{name}"') >= 3
    assert html.count('name="intake-readiness"') == 11
    assert "No preference" in html and "More structure" in html
    assert " checked" not in html  # nothing chosen until the client chooses
    # The session's own questions come first, each part under its heading.
    assert html.index("About today") < html.index("Getting started")


def test_answers_are_stored_blanks_as_missing_and_the_next_link_does_not_ask_again(
        client, case, therapist, issued, client_answers):
    response = client.post(issued.path, intake_post(
        client_answers, hopes=f"  {HOPES} ", past_therapy="mixed", past_therapy_text=PAST,
        structure="explore", tasks="no_tasks", lead="either", readiness=6, culture=CULTURE))
    assert response.status_code == 302
    intake = Intake.objects.get(case=case)
    assert intake.session.number == 1 and intake.via == "checkin"
    assert (intake.hopes, intake.past_therapy, intake.past_therapy_text) == (HOPES, "mixed", PAST)
    assert (intake.structure, intake.tasks, intake.lead, intake.readiness) == (
        "explore", "no_tasks", "either", 6)
    assert intake.focus == ""  # left alone: missing, not "no preference"
    assert intake.culture == CULTURE
    assert CheckinLink.objects.get().used_at is not None

    later = checkins.issue_link(next_session(case), "alliance-client", by=therapist)
    html = client.get(later.path).content.decode()
    assert "Getting started" not in html and "intake-" not in html
    assert client.post(later.path, intake_post(client_answers, hopes="Again")).status_code == 302
    assert Intake.objects.get(case=case).hopes == HOPES


def test_an_untouched_intake_is_stored_with_every_answer_missing_and_not_asked_again(
        client, case, therapist, issued, client_answers):
    assert client.post(issued.path, checkin_post(client_answers)).status_code == 302
    intake = Intake.objects.get(case=case)
    assert not intake.answered
    assert intake.readiness is None and intake.hopes == "" and intake.culture == ""
    assert all(getattr(intake, name) == "" for name in ("past_therapy", "structure", "focus",
                                                         "tasks", "lead"))
    assert raw("hopes", intake.pk) == ""
    assert not services.asks_intake(next_session(case))


def test_free_text_is_encrypted_at_rest(client, case, issued, client_answers):
    client.post(issued.path, intake_post(client_answers, hopes=HOPES, past_therapy_text=PAST,
                                         culture=CULTURE))
    intake = Intake.objects.get(case=case)
    for column, text in (("hopes", HOPES), ("past_therapy_text", PAST), ("culture", CULTURE)):
        stored = raw(column, intake.pk)
        assert text not in stored and "Monday" not in stored and crypto.is_encrypted(stored)
        assert crypto.decrypt(stored) == text


def test_an_answer_off_the_choices_stores_nothing_and_keeps_the_link(client, case, issued,
                                                                     client_answers):
    response = client.post(issued.path, intake_post(
        client_answers, hopes=HOPES, structure="maybe", readiness=11, culture="x" * 2001))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please choose one of the options" in html
    assert "Please choose a value from 0 to 10." in html
    assert "Please keep this to 2000 characters (it has 2001)." in html
    assert HOPES in html  # the answers given are kept on the page
    assert not Intake.objects.exists()
    assert CheckinLink.objects.get().used_at is None
    assert not case.sessions.get(number=1).administrations.filter(
        submitted_at__isnull=False).exists()


def test_only_the_first_sessions_of_an_active_case_ask(case, therapist):
    for _ in range(services.ASK_UNTIL_SESSION):
        next_session(case)
    sessions = list(case.sessions.order_by("number"))
    assert [services.asks_intake(s) for s in sessions] == [True] * services.ASK_UNTIL_SESSION \
        + [False]
    case.status = Case.Status.CLOSED
    case.save()
    assert not services.asks_intake(sessions[0])


# -- What the therapist reads --------------------------------------------------------------

def stored(case, **answers) -> Intake:
    return services.store_from_checkin(case, case.sessions.get(number=1), answers)


def test_the_case_page_summarises_the_intake_and_prompts_where_preferences_differ(
        login, case, therapist):
    goal = goals.propose_goal(case, "Sleep through most nights", by=therapist)
    goals.propose_task(goal, "Phone away at 10 pm", by=therapist)
    stored(case, hopes=HOPES, past_therapy="unhelpful", past_therapy_text=PAST,
           structure="explore", focus="present", tasks="no_tasks", lead="either", readiness=4,
           culture=CULTURE)
    html = login(therapist).get(reverse("care:case", args=[case.pk])).content.decode()
    section = html[html.index('id="intake"'):html.index('id="goals"')]
    assert OPEN in section  # open during the first sessions
    assert "At the start: hopes and preferences" in section
    assert HOPES in section and CULTURE in section and PAST in section
    assert "Had therapy before; mostly not helpful." in section
    assert "More room to explore; a focus on the present; no tasks between sessions" in section
    assert "4 out of 10" in section
    # CBT is structured; the case has a task between sessions; a present focus fits.
    assert ("The client would prefer more room to explore, which CBT does not usually offer"
            in section)
    assert ("The client would prefer no tasks between sessions, and this case has 1 "
            "between-session task in its goals" in section)
    assert "attention to the past" not in section
    brief = html[html.index('id="brief-heading"'):html.index('class="case-nav"')]
    assert "The client hopes:" in brief and "Monday mornings" in brief and "Would like:" in brief
    assert "more room to explore, which CBT does not usually offer" in brief


def test_without_an_intake_the_page_says_so_and_prompts_to_ask(login, case, therapist):
    html = login(therapist).get(reverse("care:case", args=[case.pk])).content.decode()
    assert "not answered yet" in html
    assert "Ask the client how they would like the two of you to work together." in html


def test_the_mapping_compares_only_what_the_project_records(case, therapist):
    intake = Intake(structure="structure", focus="past", tasks="tasks", lead="client_led")
    case.modality = Case.Modality.INTEGRATIVE
    # Integrative says nothing about the way of working and the case has no task: ask.
    assert services.prompts(case, intake, tasks=0) == [
        "Ask the client how they would like the two of you to work together."]
    # Tasks in the goals are compared whatever the modality; wanting them is met.
    assert services.prompts(case, intake, tasks=2) == [
        "The client's preferences fit how this case works; check in about them as the work "
        "goes on."]
    case.modality = Case.Modality.PSYCHODYNAMIC
    assert services.prompts(case, intake, tasks=0) == [
        "The client would prefer more structure, which Psychodynamic does not usually offer: "
        "talk about how the work could meet this."]
    # "No preference" and questions left alone are never compared.
    assert services.prompts(case, Intake(structure="either"), tasks=3) == [
        "Ask the client how they would like the two of you to work together."]
    assert services.prompts(case, None, tasks=3) == [
        "Ask the client how they would like the two of you to work together."]


def test_the_summary_folds_after_the_first_sessions_and_leaves_the_brief(login, case,
                                                                         therapist):
    stored(case, hopes=HOPES)
    for _ in range(services.BRIEF_SESSIONS):
        next_session(case)
    html = login(therapist).get(reverse("care:case", args=[case.pk])).content.decode()
    assert HOPES in html  # still on the case page, folded
    assert OPEN not in html and 'id="intake-heading"' in html
    assert "The client hopes:" not in html


def test_another_therapists_case_and_its_intake_are_not_found(login, case, other_therapist):
    stored(case, hopes=HOPES)
    response = login(other_therapist).get(reverse("care:case", args=[case.pk]))
    assert response.status_code == 404
    assert HOPES not in response.content.decode()


# -- The client portal -------------------------------------------------------------------------

@pytest.fixture
def account(clinic, case, therapist):
    clinic.client_portal_enabled = True
    clinic.save()
    account = portal.invite(case, by=therapist)
    mail.outbox.clear()
    return account


def test_the_client_sees_and_changes_their_answers_in_the_portal(client, case, account):
    client.force_login(account.user)
    html = client.get(reverse("portal:intake")).content.decode()
    assert "Your hopes and preferences" in html and " checked" not in html
    stored(case, hopes=HOPES, structure="explore")
    html = client.get(reverse("portal:intake")).content.decode()
    assert HOPES in html and re.search(r'name="structure" value="explore"[^>]* checked', html)
    response = client.post(reverse("portal:intake"), {"hopes": "Sleep better", "structure":
                                                      "structure", "readiness": "8"})
    assert response.status_code == 302
    intake = Intake.objects.get(case=case)
    assert (intake.hopes, intake.structure, intake.readiness) == ("Sleep better", "structure", 8)
    assert intake.via == "checkin" and intake.session.number == 1  # first given there
    assert client.post(reverse("portal:intake"), {"readiness": "12"}).status_code == 400
    assert Intake.objects.get(case=case).readiness == 8


def test_a_portal_answer_first_stops_the_check_in_asking(client, case, account, therapist):
    client.force_login(account.user)
    client.post(reverse("portal:intake"), {"tasks": "tasks"})
    intake = Intake.objects.get(case=case)
    assert intake.via == "portal" and intake.session is None and intake.hopes == ""
    assert not services.asks_intake(case.sessions.get(number=1))


# -- Research exports and the client's data ----------------------------------------------------

def answered(client, case, issued, client_answers):
    client.post(issued.path, intake_post(client_answers, hopes=HOPES, past_therapy="helpful",
                                         tasks="tasks", readiness=9, culture=CULTURE))


def export_text(export) -> str:
    files = research.export_files(export, "csv")
    return zipfile.ZipFile(io.BytesIO(research.zip_export(files))).read("intake.csv").decode() \
        + "".join(content.decode() for name, content in files.items() if name.endswith(".csv"))


def test_research_exports_leave_the_cultural_text_out_unless_the_clinic_allows_it(
        client, clinic, case, issued, client_answers):
    answered(client, case, issued, client_answers)
    plain = research.build_export(clinic)
    assert plain.intake.to_dict("records") == [{
        "client": plain.sessions["client"][0], "case": plain.sessions["case"][0],
        "therapist": plain.sessions["therapist"][0], "session": 1, "past_therapy": "helpful",
        "prefer_structure": "", "prefer_focus": "", "prefer_tasks": "tasks", "prefer_lead": "",
        "readiness": 9}]
    assert HOPES not in export_text(plain)

    with_text = research.build_export(clinic, include_text=True)
    assert with_text.intake["hopes"].tolist() == [HOPES]
    assert "culture" not in with_text.intake.columns
    assert CULTURE not in export_text(with_text) and "Arabic" not in export_text(with_text)
    assert "culture" not in set(with_text.dictionary["column"])

    clinic.research_export_cultural_text = True
    clinic.save()
    allowed = research.build_export(clinic, include_text=True)
    assert allowed.intake["culture"].tolist() == [CULTURE]
    assert CULTURE in export_text(allowed)
    assert "culture" in set(allowed.dictionary.query("table == 'intake'")["column"])
    # Still never without free text.
    assert "culture" not in research.build_export(clinic).intake.columns


def test_the_web_export_follows_the_clinic_setting(client, clinic, case, issued,
                                                   client_answers, login, admin):
    answered(client, case, issued, client_answers)
    web = login(admin)
    form = {"format": "csv", "key": "research", "include_text": "on"}

    def intake_csv():
        response = web.post(reverse("interop:research_export"), form)
        content = b"".join(response.streaming_content)
        return zipfile.ZipFile(io.BytesIO(content)).read("intake.csv").decode()

    assert HOPES in intake_csv() and CULTURE not in intake_csv()
    clinic.research_export_cultural_text = True
    clinic.save()
    assert CULTURE in intake_csv()


def test_the_clinic_settings_page_offers_the_setting(login, admin):
    html = login(admin).get(reverse("clinics:settings")).content.decode()
    assert 'name="research_export_cultural_text"' in html
    assert ' name="research_export_cultural_text" checked' not in html


def test_the_clients_data_export_holds_the_intake_and_erasure_removes_its_text(
        client, case, issued, client_answers):
    answered(client, case, issued, client_answers)
    data = privacy.export_client(case.client)
    assert data["cases"][0]["intake"]["culture"] == CULTURE
    assert data["cases"][0]["intake"]["readiness"] == 9
    privacy.erase_client(case.client, confirm_code=case.client.code)
    intake = Intake.objects.get(case=case)
    assert (intake.hopes, intake.past_therapy_text, intake.culture) == ("", "", "")
    assert intake.readiness == 9 and intake.tasks == "tasks"


def test_two_open_check_ins_both_ask_and_the_first_answer_is_kept(client, case, therapist,
                                                                   issued, client_answers):
    second = checkins.issue_link(next_session(case), "alliance-client", by=therapist)
    assert "Getting started" in client.get(second.path).content.decode()
    assert client.post(second.path, intake_post(client_answers, hopes="First")).status_code == 302
    # Sent afterwards, the first session's check-in no longer carries the intake: what was
    # stored is kept, not overwritten.
    assert client.post(issued.path, intake_post(client_answers, hopes="Second")).status_code \
        == 302
    intake = Intake.objects.get(case=case)
    assert intake.hopes == "First" and intake.session.number == 2


# -- Safety: the clinic's listed phrases -------------------------------------------------------

CRISIS = "Call 112 now, or the duty line 0800 123 456."


@pytest.fixture
def phrases(clinic, other_therapist):
    from alliance.web.safety.models import ClinicSafety

    settings = ClinicSafety.objects.create(clinic=clinic, crisis_text=CRISIS,
                                           keywords_enabled=True, keywords="hopeless",
                                           on_call_emails="duty@riverside.example")
    settings.on_call_staff.set([other_therapist])
    return settings


def risk_signals(case):
    from alliance.web.monitoring.models import Signal

    return Signal.objects.filter(case=case, type=Signal.Type.RISK)


def test_a_listed_phrase_in_the_intake_raises_an_alert_and_shows_the_crisis_text(
        client, case, issued, client_answers, phrases, after_commit):
    with after_commit():
        response = client.post(issued.path, intake_post(
            client_answers, hopes="I feel hopeless about work", culture="Nothing hopeless"))
    assert response.status_code == 302
    assert CRISIS in client.get(response.url).content.decode()
    [signal] = risk_signals(case)  # one alert for the intake's words together
    assert signal.session.number == 1 and "hopeless" in signal.explanation
    assert len(mail.outbox) == 3  # the therapist and the two on call


def test_a_listed_phrase_written_in_the_portal_shows_the_crisis_text(
        client, case, account, phrases, after_commit):
    client.force_login(account.user)
    with after_commit():
        assert client.post(reverse("portal:intake"), {"hopes": "Hopeless"}).status_code == 302
    assert CRISIS in client.get(reverse("portal:intake")).content.decode()
    assert CRISIS not in client.get(reverse("portal:intake")).content.decode()  # once
    assert risk_signals(case).count() == 1

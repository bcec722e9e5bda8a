"""A client's data exported in one document, and erased under a pseudonym: what goes, what
is kept, and a search of every text column of every table for what should be gone."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection

from alliance.web import crypto
from alliance.web.audit.models import Event
from alliance.web.audit.services import record
from alliance.web.care import services as care
from alliance.web.care.models import Client, Session
from alliance.web.checkins import services as checkins
from alliance.web.checkins.models import Administration, CheckinLink, hash_token
from alliance.web.goals import services as goals
from alliance.web.goals.models import GoalReview, TaskReport
from alliance.web.monitoring import actions, recompute
from alliance.web.monitoring.models import RepairAction, Signal
from alliance.web.portal import services as portal
from alliance.web.portal.models import ClientAccount, SignInLink
from alliance.web.privacy import services as privacy

# Every string the client or their therapist gave carries this mark, so that a search of
# the whole database can find it (in plain columns, and in encrypted ones once decrypted).
MARK = "zqxv"


@pytest.fixture
def seeded(clinic, therapist, client_answers):
    """A client with a distinctive string in every field that holds words or contact details."""
    clinic.client_portal_enabled = True
    clinic.save()
    case = care.admit_client(therapist, code="ZQXV-7", contact_email="zqxv.client@example.org",
                             modality="cbt", start_date=dt.date(2026, 1, 5))
    sessions = [care.record_session(case, date=dt.date(2026, 1, 5 + 7 * i),
                                    status=Session.Status.ATTENDED) for i in range(4)]
    for number, session in enumerate(sessions):
        issued = checkins.issue_link(session, "alliance-client", by=therapist)
        answers = dict(client_answers, bond1=9 - 3 * (number == 2))
        checkins.submit_link(issued.token, answers,
                             {"more_helpful": f"ZQXV answer {number}: my sister keeps calling"})
    unanswered = checkins.issue_link(sessions[-1], "wellbeing", by=therapist)
    goal = goals.propose_goal(case, "ZQXV goal: sleep before midnight", by=therapist)
    goals.confirm_goal(goal, by=case.client)
    goals.revise_goal(goal, "ZQXV revised: sleep before eleven", by=therapist)
    goals.confirm_goal(goal, by=case.client)
    goals.record_review(goal, by=case.client, rating=4, session=sessions[1])
    task = goals.propose_task(goal, "ZQXV task: phone in the kitchen", how_often="ZQXV nightly",
                              by=therapist)
    goals.confirm_task(task, by=case.client)
    goals.report_task(task, by=case.client, done="partly", helpful=6, session=sessions[2])
    account = portal.invite(case, by=therapist)
    portal.leave_feedback(account, case, "ZQXV feedback: the sessions feel rushed")
    portal.request_sign_in_link(case.client.contact_email)
    recompute.recompute_case_signals(case)
    feedback = Signal.objects.filter(case=case, type=Signal.Type.CLIENT_FEEDBACK).first()
    actions.dismiss(feedback, by=therapist, reason="ZQXV reason: talked it through")
    rupture = Signal.objects.create(case=case, session=sessions[2], type=Signal.Type.RUPTURE,
                                    subject="total", rule="sd1", repair_state="pending",
                                    explanation="Alliance dropped from 7.2 to 6.2.")
    actions.record_repair(rupture, by=therapist, kind="explored", showed_as="withdrawal",
                             note="ZQXV note: named the missed week")
    # A goal signal quotes the goal's words (in its explanation and data).
    Signal.objects.create(case=case, type=Signal.Type.GOAL_NOT_AGREED, subject=str(goal.pk),
                          rule="goal_not_agreed", data={"goal_id": goal.pk, "title": goal.text},
                          explanation=f"“{goal.text}” is not yet agreed.")
    record(None, "read", case.client, actor="records office", clinic=clinic)
    case.client.refresh_from_db()
    return case.client, unanswered


def marked_cells() -> list[tuple[str, str, str]]:
    """(table, column, text) of every value in the database that holds MARK, reading each
    encrypted value through the configured keys."""
    found = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [c.name for c in connection.introspection.get_table_description(cursor,
                                                                                       table)]
            cursor.execute(f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)}")
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if not isinstance(value, str):
                        continue
                    text = crypto.decrypt(value) if crypto.is_encrypted(value) else value
                    if MARK in text.lower():
                        found.append((table, column, text))
    return found


def test_the_search_finds_the_seeded_strings_in_every_kind_of_table(seeded):
    tables = {table for table, _, _ in marked_cells()}
    assert {"care_client", "checkins_administration", "goals_goal", "goals_goalevent",
            "goals_task", "monitoring_signal", "monitoring_repairaction",
            "portal_clientfeedback", "auth_user"} <= tables


def test_erasure_leaves_none_of_the_clients_words_or_contact_details_in_any_table(seeded):
    client, _ = seeded
    privacy.erase_client(client, confirm_code="ZQXV-7")
    assert marked_cells() == []


def test_erasure_keeps_scores_dates_and_sessions_under_a_new_pseudonym(seeded):
    client, _ = seeded
    scores = list(Administration.objects.filter(session__case__client=client)
                  .order_by("pk").values_list("pk", "responses", "scores", "submitted_at"))
    sessions = list(Session.objects.filter(case__client=client).values_list("number", "date"))
    ratings = list(GoalReview.objects.values_list("rating", flat=True))
    reports = list(TaskReport.objects.values_list("done", "helpful"))
    ruptures = sorted((s.pk, s.explanation) for s in Signal.objects.filter(type="rupture"))

    erased = privacy.erase_client(client, confirm_code="ZQXV-7")

    client = Client.objects.get(pk=client.pk)
    assert client.code == erased.pseudonym and client.code.startswith("erased-")
    assert client.contact_email == "" and client.erased_at is not None
    assert list(Administration.objects.filter(session__case__client=client).order_by("pk")
                .values_list("pk", "responses", "scores", "submitted_at")) == scores
    assert all(a.answers is None for a in Administration.objects.all())
    assert list(Session.objects.filter(case__client=client)
                .values_list("number", "date")) == sessions
    assert list(GoalReview.objects.values_list("rating", flat=True)) == ratings
    assert list(TaskReport.objects.values_list("done", "helpful")) == reports
    # Explanations written from scores alone are kept.
    assert sorted((s.pk, s.explanation) for s in Signal.objects.filter(type="rupture")) == \
        ruptures and ruptures
    assert RepairAction.objects.get().kind == "explored"
    assert not Signal.objects.filter(type=Signal.Type.CLIENT_FEEDBACK).exists()
    assert client.cases.get().status == "closed" and erased.cases_closed == 1


def test_erasure_removes_the_portal_account_and_every_link(seeded):
    client, _ = seeded
    user_pk = client.portal_account.user_id
    privacy.erase_client(client, confirm_code="ZQXV-7")
    assert not ClientAccount.objects.exists() and not SignInLink.objects.exists()
    assert not get_user_model().objects.filter(pk=user_pk).exists()
    assert not CheckinLink.objects.exists()


def test_the_audit_trail_is_untouched_and_still_names_the_client_by_number(seeded):
    client, _ = seeded
    before = list(Event.objects.order_by("id").values_list("id", "hash"))
    privacy.erase_client(client, confirm_code="ZQXV-7")
    after = list(Event.objects.order_by("id").values_list("id", "hash"))
    assert after[:len(before)] == before
    assert Event.objects.filter(client_id=client.pk).exists()


def test_erasure_needs_the_clients_code_and_happens_once(seeded):
    client, _ = seeded
    with pytest.raises(privacy.PrivacyError, match="Type the client's code"):
        privacy.erase_client(client, confirm_code="ZQXV-8")
    assert Client.objects.get(pk=client.pk).code == "ZQXV-7"
    erased = privacy.erase_client(client, confirm_code=" ZQXV-7 ")
    with pytest.raises(privacy.PrivacyError, match="already been erased"):
        privacy.erase_client(erased.client, confirm_code=erased.pseudonym)


def test_erasure_leaves_other_clients_alone(seeded, therapist):
    client, _ = seeded
    other = care.admit_client(therapist, code="C-OTHER", contact_email="other@example.org",
                              modality="cbt")
    goal = goals.propose_goal(other, "Another client's goal", by=therapist)
    privacy.erase_client(client, confirm_code="ZQXV-7")
    other.client.refresh_from_db()
    goal.refresh_from_db()
    assert other.client.code == "C-OTHER" and other.client.contact_email == "other@example.org"
    assert goal.text == "Another client's goal"


# -- Export -----------------------------------------------------------------------------------

def test_the_export_holds_everything_about_the_client_in_one_json_document(seeded):
    client, _ = seeded
    document = json.loads(json.dumps(privacy.export_client(client)))
    assert document["format"] == "alliance-client-export" and document["version"] == 1
    assert document["client"]["code"] == "ZQXV-7"
    assert document["client"]["contact_email"] == "zqxv.client@example.org"
    (case,) = document["cases"]
    assert [s["number"] for s in case["sessions"]] == [1, 2, 3, 4]
    first = case["sessions"][0]["administrations"][0]
    assert first["answers"] == {"more_helpful": "ZQXV answer 0: my sister keeps calling"}
    assert first["responses"]["bond1"] == 9 and "total" in json.dumps(first["scores"])
    assert first["checkin_links"][0]["state"] == "used"
    (goal,) = case["goals"]
    assert goal["text"] == "ZQXV revised: sleep before eleven"
    assert "ZQXV goal: sleep before midnight" in [e["old_text"] for e in goal["history"]]
    assert goal["reviews"][0]["rating"] == 4 and goal["reviews"][0]["session_number"] == 2
    assert goal["tasks"][0]["how_often"] == "ZQXV nightly"
    assert goal["tasks"][0]["reports"][0]["helpful"] == 6
    signals = {s["type"]: s for s in case["signals"]}
    assert signals["rupture"]["repair_actions"][0]["note"] == "ZQXV note: named the missed week"
    assert any(s["dismiss_reason"] == "ZQXV reason: talked it through" for s in case["signals"])
    assert case["portal_feedback"][0]["text"] == "ZQXV feedback: the sessions feel rushed"
    account = document["portal_account"]
    assert account["email"] == "zqxv.client@example.org" and len(account["sign_in_links"]) == 1
    assert any(e["actor"] == "records office" for e in document["audit_events"])


def test_the_export_never_holds_a_token_hash(seeded):
    client, unanswered = seeded
    text = json.dumps(privacy.export_client(client))
    assert "token_hash" not in text
    assert hash_token(unanswered.token) not in text
    assert all(link.token_hash not in text for link in SignInLink.objects.all())
    assert mail.outbox  # the sign-in link was sent, and its hash is not in the export


def test_the_export_holds_nothing_of_another_client(seeded, therapist):
    client, _ = seeded
    other = care.admit_client(therapist, code="C-OTHER", contact_email="other@example.org",
                              modality="cbt")
    goals.propose_goal(other, "Another client's goal", by=therapist)
    text = json.dumps(privacy.export_client(client))
    assert "C-OTHER" not in text and "Another client's goal" not in text


def test_after_erasure_the_export_shows_only_what_was_kept(seeded):
    client, _ = seeded
    erased = privacy.erase_client(client, confirm_code="ZQXV-7")
    document = privacy.export_client(erased.client)
    assert document["client"]["code"] == erased.pseudonym
    assert document["portal_account"] is None
    assert MARK not in json.dumps(document).lower()

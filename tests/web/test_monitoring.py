"""Signals in the web application: recomputation, the upsert rules, actions and pages.

Data are built through the services a therapist and a client use (recording sessions,
issuing and submitting check-in links), so recomputation is triggered by the real events;
`after_commit` runs the callbacks the test transaction would otherwise never commit.

Reference numbers come from the rupture rule in docs/signals.md: with the clinic's default
pooled SD p = 1 (a tenth of the 0–10 scale, while the clinic has fewer than 30 ratings) and
three earlier scores of 8 (v = 0, df = 2), s_t² = (2·0 + 3·1²)/(2 + 3) = 0.6, so
s_t = √0.6 = 0.7746 and the sd1 threshold is 8 − 0.7746 = 7.2254, the sd2 threshold
8 − 1.5492 = 6.4508 (tolerance 1e-9).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re

import numpy as np
import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alliance.web import instruments
from alliance.web.care import services as care
from alliance.web.care.models import Case, Client, Session
from alliance.web.checkins import services as checkins
from alliance.web.checkins.models import Administration, CheckinLink
from alliance.web.clinics.models import Clinic
from alliance.web.monitoring import actions, baseline, queries, recompute
from alliance.web.monitoring.models import ClinicBaseline, Signal

from helpers import (ITEMS, START, answers, audit_queries, checkin_post,  # noqa: F401
                     next_session)


def checkin(case, responses, *, text="", session=None):
    """The client's alliance check-in for `session` (default: a new attended session)."""
    session = session or next_session(case)
    issued = checkins.issue_link(session, "alliance-client", by=case.therapist)
    return checkins.submit_link(issued.token, responses, {"more_helpful": text})


def ratings(case, after_commit, values, *, first_session_exists=True):
    """One check-in per value (all six items at that value), session 1 first."""
    for i, value in enumerate(values):
        with after_commit():
            session = case.sessions.get(number=1) if i == 0 and first_session_exists else None
            checkin(case, answers(value), session=session)


def ruptures(case, subject="total"):
    return list(Signal.objects.filter(case=case, type="rupture", subject=subject)
                .select_related("session").order_by("session__number"))


def test_a_drop_in_the_clients_alliance_fires_a_rupture_with_its_explanation(
        client, case, after_commit):
    ratings(case, after_commit, [8, 8, 8])
    assert not Signal.objects.filter(type="rupture").exists()
    # The fourth check-in arrives through the public form, as from the client's phone.
    session = next_session(case)
    issued = checkins.issue_link(session, "alliance-client", by=case.therapist)
    with after_commit():
        response = client.post(issued.path, checkin_post(dict.fromkeys(ITEMS, 5)))
    assert response.status_code == 302
    [signal] = ruptures(case)
    assert signal.session.number == 4 and signal.state == "open"
    assert signal.repair_state == "pending" and signal.rule == "sd1" and signal.is_current
    assert signal.explanation == ("Alliance fell from 8.0 to 5.0 at session 4, at least as "
                                  "large as this client's usual ups and downs. Bond, "
                                  "goals and tasks also fell at this session.")
    assert signal.parameters["m"] == 1 and signal.parameters["pooled_sd"] == 1.0
    assert signal.parameters["pooled_sd_source"] == "default"
    assert signal.parameters["instrument"] == "Alliance check-in (client)"
    assert signal.data["reference"] == 8.0 and signal.data["score"] == 5.0
    assert signal.data["s_t"] == pytest.approx(math.sqrt(0.6), abs=1e-9)
    assert signal.data["threshold"] == pytest.approx(8 - math.sqrt(0.6), abs=1e-9)
    # Every subscale fell as well: one drop is one signal, which names the parts that moved.
    assert Signal.objects.filter(type="rupture").count() == 1
    assert [(a["subject"], a["score"]) for a in signal.data["also"]] == [
        ("bond", 5.0), ("goals", 5.0), ("tasks", 5.0)]


def test_a_drop_in_one_subscale_fires_only_for_that_part_of_the_alliance(case, after_commit):
    ratings(case, after_commit, [8, 8, 8])
    with after_commit():
        checkin(case, answers(8, bond1=6, bond2=6))  # total 7.33, bond 6.0
    # The total fell by 0.67, less than s_t = 0.7746: only the bond speaks for the session.
    bond = ruptures(case, "bond")
    assert [s.session.number for s in bond] == [4]
    assert bond[0].explanation.startswith("Bond fell from 8.0 to 6.0 at session 4")
    assert "also" not in bond[0].data
    assert not ruptures(case) and not ruptures(case, "goals") and not ruptures(case, "tasks")


def test_when_the_total_and_one_subscale_fall_the_total_speaks_and_names_the_subscale(
        case, after_commit):
    ratings(case, after_commit, [8, 8, 8])
    with after_commit():
        checkin(case, answers(8, bond1=5, bond2=5))  # total 7.0, bond 5.0
    # The total fell by 1.0, more than s_t = 0.7746: it fires, and the bond is named.
    [signal] = Signal.objects.filter(case=case, type="rupture")
    assert signal.subject == "total" and signal.session.number == 4
    assert [a["subject"] for a in signal.data["also"]] == ["bond"]
    assert signal.explanation.endswith("Bond also fell at this session.")


def test_the_rupture_is_repaired_when_a_later_check_in_returns_to_the_reference(
        case, after_commit):
    ratings(case, after_commit, [8, 8, 8, 5])
    with after_commit():
        checkin(case, answers(6))
    [signal] = ruptures(case)
    assert signal.repair_state == "pending"  # 6 < 8: not back yet, window still open
    with after_commit():
        checkin(case, answers(8))
    signal.refresh_from_db()
    assert signal.repair_state == "repaired" and signal.data["repaired_session"] == 6
    assert signal.state == "open" and not signal.needs_attention
    assert not Signal.objects.needing_attention().filter(type="rupture").exists()


def test_a_rupture_not_back_to_its_reference_within_the_window_is_unresolved(
        case, after_commit):
    ratings(case, after_commit, [8, 8, 8, 5, 6, 6, 6])
    [signal] = ruptures(case)
    assert signal.repair_state == "unresolved"
    assert list(Signal.objects.unrepaired_ruptures().filter(subject="total")) == [signal]


def test_a_dismissed_signal_stays_dismissed_after_recomputation(case, therapist, after_commit):
    ratings(case, after_commit, [8, 8, 8, 5])
    [signal] = ruptures(case)
    actions.dismiss(signal, by=therapist, reason="We talked about the missed week.")
    with after_commit():
        checkin(case, answers(8))
    signal.refresh_from_db()
    assert signal.state == "dismissed"
    assert signal.dismiss_reason == "We talked about the missed week."
    assert signal.repair_state == "repaired"  # its data keep following the case
    recompute.recompute_case_signals(case)
    signal.refresh_from_db()
    assert signal.state == "dismissed" and signal.changed_by == therapist


def settings_form_data(client):
    form = client.get(reverse("clinics:settings")).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    for flag in ("client_portal_enabled", "clients_see_alliance_scores"):
        if not data.get(flag):
            data.pop(flag, None)
    return data


def test_changing_the_clinic_rule_from_sd1_to_sd2_changes_the_open_signals(
        login, admin, case, after_commit):
    # A drop of 1.0 from three 8s: beyond s_t = 0.7746 (sd1), within 2·s_t = 1.5492 (sd2).
    ratings(case, after_commit, [8, 8, 8, 7, 8, 8, 4])
    assert [s.session.number for s in ruptures(case)] == [4, 7]
    client = login(admin)
    data = settings_form_data(client)
    data["rupture_rule"] = "sd2"
    with after_commit():
        response = client.post(reverse("clinics:settings"), data)
    assert response.status_code == 302
    remaining = ruptures(case)
    assert [s.session.number for s in remaining] == [7]
    assert remaining[0].rule == "sd2" and remaining[0].parameters["m"] == 2
    assert "at least twice this client's usual" in remaining[0].explanation
    # Back to sd1: the session-4 rupture returns, as a new open signal.
    data["rupture_rule"] = "sd1"
    with after_commit():
        client.post(reverse("clinics:settings"), data)
    assert [(s.session.number, s.rule) for s in ruptures(case)] == [(4, "sd1"), (7, "sd1")]


def test_a_signal_the_new_rule_no_longer_produces_is_kept_when_a_therapist_acted_on_it(
        case, therapist, after_commit):
    ratings(case, after_commit, [8, 8, 8, 7])
    [signal] = ruptures(case)
    actions.acknowledge(signal, by=therapist)
    clinic = Clinic.objects.get(pk=case.client.clinic_id)
    clinic.rupture_rule = "sd2"
    with after_commit():
        clinic.save()
    signal.refresh_from_db()
    assert signal.state == "acknowledged" and signal.is_current is False
    with pytest.raises(actions.SignalError, match="no longer flag"):
        actions.reopen(signal, by=therapist)
    clinic.rupture_rule = "sd1"
    with after_commit():
        clinic.save()
    signal.refresh_from_db()
    assert signal.is_current is True and signal.state == "acknowledged"


def test_saving_settings_that_do_not_touch_the_rules_does_not_recompute(case, after_commit):
    ratings(case, after_commit, [8, 8])
    clinic = Clinic.objects.get(pk=case.client.clinic_id)
    recompute.recompute_clinic_signals(clinic)
    clinic.name = "Riverside Counselling Centre"
    assert recompute.clinic_settings_saved(clinic) is False
    clinic.repair_window = 4
    assert recompute.clinic_settings_saved(clinic) is True


def test_consecutive_no_shows_fire_a_disengagement_signal(case, after_commit):
    with after_commit():
        next_session(case, Session.Status.NO_SHOW)
    assert not Signal.objects.filter(type="disengagement").exists()
    with after_commit():
        next_session(case, Session.Status.CANCELLED)
    [signal] = Signal.objects.filter(type="disengagement")
    assert signal.session.number == 3 and signal.subject == "missed_in_a_row"
    assert signal.explanation.startswith("2 scheduled sessions in a row did not take place "
                                         "(sessions 2–3)")
    assert signal.parameters == {"missed_in_a_row": 2}


def test_check_ins_count_as_unanswered_only_once_their_links_no_longer_work(
        case, therapist, after_commit):
    ratings(case, after_commit, [8])
    for _ in range(2):  # two more sessions, each with a link the client has not used yet
        with after_commit():
            checkins.issue_link(next_session(case), "alliance-client", by=therapist)
    recompute.recompute_case_signals(case)
    assert not Signal.objects.filter(subject="unanswered_in_a_row").exists()
    CheckinLink.objects.filter(used_at__isnull=True).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1))
    recompute.recompute_case_signals(case)
    [signal] = Signal.objects.filter(subject="unanswered_in_a_row")
    assert signal.session.number == 3 and signal.data["from_session"] == 2


def test_sessions_without_a_check_in_are_not_unanswered_check_ins(case, after_commit):
    for _ in range(4):
        with after_commit():
            next_session(case)
    assert not Signal.objects.filter(type="disengagement").exists()


def test_an_open_text_answer_becomes_a_client_feedback_signal(case, after_commit):
    with after_commit():
        checkin(case, answers(8), text="  Could we go a little slower?  ",
                session=case.sessions.get(number=1))
    [signal] = Signal.objects.filter(type="client_feedback")
    assert signal.data["text"] == "Could we go a little slower?"
    assert signal.session.number == 1 and signal.subject == "alliance-client:more_helpful"
    assert "What would make our work together more helpful for you?" in signal.explanation
    with after_commit():
        checkin(case, answers(8), text="")
    assert Signal.objects.filter(type="client_feedback").count() == 1


def test_the_signal_list_shows_kind_words_the_explanation_the_why_and_the_forms(
        case, therapist, after_commit):
    ratings(case, after_commit, [8, 8, 8, 5])
    with after_commit():
        checkin(case, answers(6), text="It felt rushed.")
    listed = queries.signals_for_case(case)
    assert [s.subject for s in listed if s.type == "rupture"] == ["total"]
    request = RequestFactory().get(f"/cases/{case.pk}/")
    request.user = therapist.user
    html = render_to_string("monitoring/includes/signal_list.html",
                            {"signals": queries.signals_for_case(case), "can_change": True},
                            request=request)
    # The client's comment is a comment to read, not a signal in the list.
    assert "Possible rupture" in html and "Client feedback" not in html
    assert [c.data["text"] for c in queries.new_comments(case)] == ["It felt rushed."]
    assert "Alliance fell from 8.0 to 5.0 at session 4" in html
    assert "<details class=\"signal-why\">" in html and "<code>sd1</code>" in html
    assert "7.23" in html  # the threshold, in the data
    assert "a cautious starting value" in html  # where the pooled SD comes from
    assert "Repair window open" in html
    assert 'name="csrfmiddlewaretoken"' in html and 'name="reason"' in html
    read_only = render_to_string("monitoring/includes/signal_list.html",
                                 {"signals": queries.signals_for_case(case),
                                  "can_change": False}, request=request)
    assert "<form" not in read_only


@pytest.fixture
def signal(case, after_commit):
    with after_commit():
        checkin(case, answers(8), text="More homework, please.",
                session=case.sessions.get(number=1))
    return Signal.objects.get(type="client_feedback")


def action(name, signal):
    return reverse(f"monitoring:{name}", args=[signal.case_id, signal.pk])


def test_the_therapist_acknowledges_dismisses_with_a_reason_and_reopens(login, therapist,
                                                                       signal):
    client = login(therapist)
    response = client.post(action("acknowledge", signal), {"next": f"/cases/{signal.case_id}/"})
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{signal.case_id}/#signal-{signal.pk}"
    signal.refresh_from_db()
    assert signal.state == "acknowledged" and signal.changed_by == therapist
    response = client.post(action("dismiss", signal), {"reason": "   "})
    assert response.status_code == 200
    assert "Please say briefly why" in response.content.decode()
    signal.refresh_from_db()
    assert signal.state == "acknowledged"
    client.post(action("dismiss", signal), {"reason": "Agreed on homework together."})
    signal.refresh_from_db()
    assert signal.state == "dismissed" and signal.dismiss_reason == "Agreed on homework together."
    client.post(action("reopen", signal))
    signal.refresh_from_db()
    assert signal.state == "open" and signal.dismiss_reason == ""


def test_a_redirect_after_an_action_stays_on_this_site(login, therapist, signal):
    response = login(therapist).post(action("acknowledge", signal),
                                     {"next": "https://elsewhere.example/"})
    assert response["Location"] == f"/cases/{signal.case_id}/#signal-{signal.pk}"


def test_signal_actions_need_a_post(login, therapist, signal):
    assert login(therapist).get(action("acknowledge", signal)).status_code == 405


@pytest.mark.parametrize("who, status", [("other_therapist", 404), ("supervisor", 403),
                                         ("admin", 404), ("other_admin", 404)])
def test_only_the_cases_therapist_can_act_on_its_signals(login, request, signal, who, status):
    client = login(request.getfixturevalue(who))
    for name, data in (("acknowledge", {}), ("dismiss", {"reason": "Not mine to judge."}),
                       ("reopen", {})):
        assert client.post(action(name, signal), data).status_code == status
    signal.refresh_from_db()
    assert signal.state == "open" and signal.changed_by is None


def test_a_signal_of_another_case_answers_404(login, therapist, signal, open_case):
    mine = open_case(therapist, "C-MINE2")
    url = reverse("monitoring:acknowledge", args=[mine.pk, signal.pk])
    assert login(therapist).post(url).status_code == 404


def test_the_supervisor_overview_shows_only_supervisees(
        login, supervisor, therapist, other_therapist, case, other_therapist_case, after_commit):
    ratings(case, after_commit, [8, 8, 8, 5])
    ratings(other_therapist_case, after_commit, [8, 8, 8, 5])
    client = login(supervisor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("monitoring:supervision"))
    assert response.status_code == 200
    html = response.content.decode()
    assert therapist.display_name in html and case.client.code in html
    assert other_therapist.display_name not in html
    assert other_therapist_case.client.code not in html
    [row] = response.context["rows"]
    [shown] = row["cases"]
    assert shown.ruptures == 1 and shown.attention == 1  # one drop at session 4, one signal
    assert "Possible rupture" in shown.attention_types
    # The login session, the user, the staff member; the page's ten (the supervisees, the
    # scope, the cases, their signals needing attention and unrepaired ruptures, two for the
    # ruptures followed, the supervisees' practice foci and the cases to bring, the open
    # risk answers); the header's worklist count; and the page's audit event.
    assert len(queries) <= 3 + 10 + 1 + audit_queries()


def test_a_large_supervision_overview_opens_one_supervisees_cases_at_a_time(
        login, monkeypatch, supervisor, therapist, case, open_case, after_commit):
    from alliance.web.monitoring import views

    ratings(case, after_commit, [8, 8, 8, 5])
    quiet = open_case(therapist, "C-QUIET")
    client = login(supervisor)
    with CaptureQueriesContext(connection) as full:
        client.get(reverse("monitoring:supervision"))
    monkeypatch.setattr(views, "SUPERVISION_ALL_CASES", 1)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("monitoring:supervision")).content.decode()
    # The figures stay; the cases are one link away, and no more queries are made.
    assert "2 active cases · 1 signal needing attention · 1 session with a rupture" in html
    assert case.client.code not in html and quiet.client.code not in html
    assert f"?therapist={therapist.pk}#supervisee-{therapist.pk}" in html
    assert f"/cases/?therapist={therapist.pk}" in html
    opened = client.get(reverse("monitoring:supervision") + f"?therapist={therapist.pk}")
    assert case.client.code in opened.content.decode()
    assert quiet.client.code in opened.content.decode()
    assert len(queries) <= len(full)


def test_the_supervisor_overview_says_a_rupture_left_the_attention_count_by_being_acknowledged(
        login, supervisor, therapist, case, after_commit):
    ratings(case, after_commit, [8, 8, 8, 5])
    actions.acknowledge(Signal.objects.get(case=case, type="rupture"), by=therapist)
    response = login(supervisor).get(reverse("monitoring:supervision"))
    [shown] = response.context["rows"][0]["cases"]
    assert (shown.attention, shown.ruptures, shown.ruptures_acknowledged) == (0, 1, 1)
    html = response.content.decode()
    assert ("0 signals needing attention · 1 session with a rupture not yet repaired "
            "(acknowledged)") in html
    assert "acknowledged, not yet repaired" in html
    assert '<span class="tag tag-pending">1</span><span class="case-meta">acknowledged</span>' in html
    # The date of the last session does not wrap.
    assert '<td class="date">' in html


def test_the_supervisor_overview_is_not_part_of_a_therapists_role(login, therapist):
    assert login(therapist).get(reverse("monitoring:supervision")).status_code == 403


def build_case_with_ratings(therapist, code, n_sessions, after_commit):
    case = care.admit_client(therapist, code=code, modality="cbt", start_date=START)
    values = [8, 7, 8, 9, 5, 6, 8] * 5
    ratings(case, after_commit, values[:n_sessions], first_session_exists=False)
    return case


def test_recomputation_takes_the_same_number_of_queries_for_5_or_30_sessions(
        therapist, after_commit):
    counts = []
    for code, n in (("C-SHORT", 5), ("C-LONG1", 30)):
        case = build_case_with_ratings(therapist, code, n, after_commit)
        assert Signal.objects.filter(case=case).exists()
        Signal.objects.filter(case=case, type="rupture").delete()  # some writes to do
        with CaptureQueriesContext(connection) as queries:
            recompute.recompute_case_signals(case)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 15


def test_recomputing_a_whole_clinic_takes_the_same_number_of_queries_for_2_or_6_cases(
        therapist, after_commit):
    clinic = therapist.clinic
    counts = []
    for i in range(6):
        build_case_with_ratings(therapist, f"C-Q{i}", 5, after_commit)
        if i in (1, 5):
            Signal.objects.all().delete()
            with CaptureQueriesContext(connection) as queries:
                result = recompute.recompute_clinic_signals(clinic)
            assert result.cases == i + 1 and result.created > 0
            counts.append(len(queries))
    assert counts[0] == counts[1]


def test_recomputation_within_the_deferred_block_runs_once_at_the_end(case, after_commit):
    with recompute.deferred_recomputation():
        ratings(case, after_commit, [8, 8, 8, 5])
        assert not Signal.objects.exists()
    assert len(ruptures(case)) == 1


def test_a_signal_without_a_session_is_unique_per_case_type_and_subject(case):
    Signal.objects.create(case=case, type="disengagement", subject="long_gap",
                          rule="long_gap", explanation="A long gap.")
    with pytest.raises(IntegrityError), transaction.atomic():
        Signal.objects.create(case=case, type="disengagement", subject="long_gap",
                              rule="long_gap", explanation="The same long gap again.")


# ------------------------------------------------------------------ the clinic's baseline

_codes = itertools.count(1)


def bulk_ratings(therapist, instrument_id, series, *, status=Case.Status.ACTIVE,
                 respondent="client"):
    """Cases with stored scores, written directly (quicker than the forms, same shape)."""
    instrument = instruments.get_instrument(instrument_id)
    cases = []
    for values in series:
        client = Client.objects.create(clinic=therapist.clinic, code=f"B-{next(_codes):05d}")
        case = Case.objects.create(client=client, therapist=therapist, modality="cbt",
                                   start_date=START, status=status,
                                   end_date=START + dt.timedelta(days=200)
                                   if status != Case.Status.ACTIVE else None)
        sessions = Session.objects.bulk_create(
            Session(case=case, number=k + 1, date=START + dt.timedelta(days=7 * k))
            for k in range(len(values)))
        Administration.objects.bulk_create(
            Administration(session=s, instrument_id=instrument_id, instrument_version="1.0",
                           respondent=respondent, via="staff", submitted_at=timezone.now(),
                           responses={item: v for item in instrument.item_ids},
                           scores=instruments.score(instrument,
                                                    {item: v for item in instrument.item_ids}))
            for s, v in zip(sessions, values))
        cases.append(case)
    return cases


def test_the_pooled_sd_is_the_clinics_own_once_it_has_enough_ratings(therapist):
    rng = np.random.default_rng(7)
    series = [list(rng.integers(4, 11, size=6)) for _ in range(6)]  # 36 ratings, 6 clients
    bulk_ratings(therapist, "alliance-client", [[int(v) for v in s] for s in series])
    stored = baseline.refresh_pooled_sd(therapist.clinic)
    entry = stored.pooled_sd["alliance"]
    # The formula of docs/signals.md, by hand: root mean squared deviation from each
    # client's own mean over all rated sessions.
    values = np.array(series, dtype=float)
    expected = math.sqrt(np.mean((values - values.mean(axis=1, keepdims=True)) ** 2))
    assert entry["source"] == "clinic" and entry["n_rated"] == 36
    assert entry["pooled_sd"] == pytest.approx(expected, abs=1e-12)
    assert stored.pooled_sd["bond"]["source"] == "clinic"


def test_a_new_clinic_uses_a_tenth_of_the_scale_as_its_pooled_sd(therapist):
    bulk_ratings(therapist, "alliance-client", [[8, 7, 9]] * 3)  # 9 ratings: too few
    stored = baseline.refresh_pooled_sd(therapist.clinic)
    assert stored.pooled_sd["alliance"]["pooled_sd"] == 1.0
    assert stored.pooled_sd["alliance"]["source"] == "default"


def test_the_pooled_sd_is_refreshed_only_when_the_ratings_grew_by_a_tenth(therapist):
    bulk_ratings(therapist, "alliance-client", [[8, 7, 9, 6, 8]] * 8)
    first = baseline.refresh_pooled_sd(therapist.clinic)
    assert first.pooled_n_rated == 40
    stamp = first.pooled_at
    bulk_ratings(therapist, "alliance-client", [[5, 9, 7]])  # 43 < 44
    assert baseline.refresh_pooled_sd(therapist.clinic).pooled_at == stamp
    bulk_ratings(therapist, "alliance-client", [[5]])  # 44
    assert baseline.refresh_pooled_sd(therapist.clinic).pooled_at > stamp


def closed_wellbeing_cases(therapist, n, seed=3):
    """n closed cases whose wellbeing rises with log(session) from an intake of 2–8."""
    rng = np.random.default_rng(seed)
    series = []
    for _ in range(n):
        intake = int(rng.integers(2, 9))
        series.append([int(np.clip(round(intake + 1.2 * math.log(k) + rng.normal(0, 0.8)), 0, 10))
                       for k in range(1, 7)])
    return bulk_ratings(therapist, "wellbeing", series, status=Case.Status.CLOSED)


def test_not_on_track_waits_until_the_clinic_has_enough_closed_cases(therapist, case):
    closed_wellbeing_cases(therapist, 5)
    status, changed = baseline.refit_expected(therapist.clinic)
    assert not status.available and not changed
    assert "30 closed cases" in status.message and "so far: 5" in status.message
    assert ClinicBaseline.objects.get().expected_model is None


def test_with_enough_closed_cases_a_case_far_below_its_band_is_not_on_track(
        therapist, case, after_commit):
    closed_wellbeing_cases(therapist, 32)
    status, changed = baseline.refit_expected(therapist.clinic)
    assert status.available and changed and status.n_cases == 32
    stored = ClinicBaseline.objects.get().expected_model
    assert stored["n_cases"] == 32 and "coefficients" in stored
    # Below the band at sessions 3 and 4: it fires at the second session in a row.
    [active] = bulk_ratings(therapist, "wellbeing", [[5, 5, 1, 1]])
    recompute.recompute_case_signals(active)
    [signal] = Signal.objects.filter(case=active, type="not_on_track")
    assert signal.session.number == 4 and signal.rule == "expected_band"
    assert signal.data["observed"] == 1.0 and signal.data["low"] > 1.0
    assert signal.data["sessions_in_a_row"] == 2 and signal.parameters["persistence"] == 2
    assert signal.parameters["instrument"] == "Wellbeing check-in"


def test_closing_a_case_refits_the_expected_course(therapist, case, after_commit):
    closed_wellbeing_cases(therapist, 30)
    with after_commit():
        care.end_case(case, status=Case.Status.CLOSED, end_date=START + dt.timedelta(days=60))
    assert baseline.expected_status(therapist.clinic).available


def test_the_refit_command_reports_each_clinic(therapist, case, capsys):
    call_command("refit_expected")
    out = capsys.readouterr().out
    assert "Riverside Counselling" in out and "Not-on-track signals start once" in out


def test_the_why_of_a_merged_rupture_names_the_other_scores_that_fell():
    from alliance.web.monitoring.display import plain_value

    also = [{"subject": "bond", "reference": 8.0, "score": 5.0, "state": "pending"},
            {"subject": "tasks", "reference": 7.5, "score": 6.0, "state": "pending"}]
    assert plain_value(also, "also") == "bond 8 → 5; tasks 7.5 → 6"
    # Lists among the parameters (a form's scale) are shown as ranges, not looked up.
    assert plain_value([0.0, 10.0], "client_scale") == "0–10"


TECHNICAL_WORDS = ("sd1", "sd2", "Multiplier", "pooled", "s_t", "Threshold", "S_diff", "POMP",
                   "1.96")


def outside_technical_details(html: str) -> str:
    return re.sub(r"<details class=\"(signal-why|technical-details)\">.*?</details>", "", html,
                  flags=re.S)


def test_clinicians_read_plain_words_and_the_rule_is_under_technical_details(
        login, therapist, case, after_commit):
    ratings(case, after_commit, [8, 8, 8, 5])
    html = login(therapist).get(reverse("care:case", args=[case.pk])).content.decode()
    assert "Alliance fell from 8.0 to 5.0 at session 4" in html
    assert "<summary>Technical details</summary>" in html
    assert "<code>sd1</code>" in html  # one click away
    plain = outside_technical_details(html)
    assert [word for word in TECHNICAL_WORDS if word in plain] == []


def test_drifting_away_the_client_came_back_from_is_shown_but_needs_no_attention(
        case, after_commit):
    """Two missed sessions, then one attended: the signal stays, marked, off the count; a
    gap still open today is what needs attention."""
    for status in ("attended", "attended", "no_show", "no_show"):
        with after_commit():
            next_session(case, status=status)
    recompute.recompute_case_signals(case)
    [missed] = Signal.objects.filter(type="disengagement", subject="missed_in_a_row")
    assert not missed.client_returned and missed.needs_attention
    assert Signal.objects.needing_attention().filter(pk=missed.pk).exists()
    with after_commit():
        next_session(case)  # the client came back
    recompute.recompute_case_signals(case)
    missed.refresh_from_db()
    assert missed.client_returned and missed.state == "open" and not missed.needs_attention
    assert not Signal.objects.needing_attention().filter(pk=missed.pk).exists()

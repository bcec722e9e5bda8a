"""Rupture → repair → follow-up: recording what the therapist did, the prompts, the outcome
decided by later check-ins, the case's history, the supervisor's view and the clinic report.

Check-ins go through the services a client uses, so signals are recomputed by the real
events (`after_commit` runs the callbacks the test transaction would otherwise never
commit). With the clinic's default pooled SD p = 1 and three earlier scores of 8, the sd1
threshold at the fourth rated session is 8 − √0.6 = 7.2254 (docs/signals.md; see
tests/web/test_monitoring.py), so a fourth check-in of 5 is a rupture and a later one of 8
repairs it.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from alliance.core.signals import RUPTURE_RULES
from alliance.web.care import services as care
from alliance.web.care.models import Case, Session
from alliance.web.checkins import services as checkins
from alliance.web.clinics.models import StaffMember
from alliance.web.monitoring import actions, recompute, repair
from alliance.web.monitoring.models import RepairAction, Signal
from alliance.web.monitoring.prompts import PROMPTS, prompts_for

from demo_clinic import seeded  # noqa: F401 (fixture)
from helpers import ITEMS, START, answers, audit_queries, next_session  # noqa: F401


def checkin(case, responses, *, session=None):
    session = session or next_session(case)
    issued = checkins.issue_link(session, "alliance-client", by=case.therapist)
    return checkins.submit_link(issued.token, responses, {"more_helpful": ""})


def ratings(case, after_commit, values):
    """One check-in per value; the first goes to the case's existing session 1."""
    for i, value in enumerate(values):
        with after_commit():
            checkin(case, value if isinstance(value, dict) else answers(value),
                    session=case.sessions.get(number=1) if i == 0 else None)


def the_rupture(case) -> Signal:
    return Signal.objects.select_related("session", "case").get(case=case, type="rupture")


@pytest.fixture
def rupture(case, after_commit):
    """A rupture of the total (and every part) at session 4: 8, 8, 8, then 5."""
    ratings(case, after_commit, [8, 8, 8, 5])
    return the_rupture(case)


def record_url(signal):
    return reverse("monitoring:repair", args=[signal.case_id, signal.pk])


# --------------------------------------------------------------------------- recording

def test_the_therapist_records_what_they_did_and_the_signal_is_acknowledged(rupture, therapist):
    action = actions.record_repair(rupture, by=therapist, kind="explored",
                                    showed_as="withdrawal", note="  We talked about pace.  ",
                                    session=rupture.case.sessions.get(number=4))
    assert action.signal == rupture and action.by == therapist
    assert action.note == "We talked about pace." and action.session.number == 4
    rupture.refresh_from_db()
    assert rupture.state == "acknowledged" and rupture.changed_by == therapist
    # A second action on the acknowledged signal is fine too.
    actions.record_repair(rupture, by=therapist, kind="consulted_supervision",
                           showed_as="not_sure")
    assert rupture.repair_actions.count() == 2


@pytest.mark.parametrize("change, message", [
    ({"kind": "other", "note": ""}, "say in a few words what you did"),
    ({"kind": "sang"}, "choose what you did"),
    ({"showed_as": "loudly"}, "how it showed"),
    ({"note": "x" * 2001}, "under 2000 characters"),
])
def test_a_repair_that_breaks_a_rule_is_refused_with_a_clear_message(rupture, therapist,
                                                                    change, message):
    values = {"kind": "explored", "showed_as": "not_sure", "note": "", **change}
    with pytest.raises(actions.SignalError, match=message):
        actions.record_repair(rupture, by=therapist, **values)
    assert not RepairAction.objects.exists()


def test_only_the_cases_therapist_records_a_repair(rupture, other_therapist, supervisor):
    for someone in (other_therapist, supervisor):
        with pytest.raises(actions.SignalError, match="Only the case's therapist"):
            actions.record_repair(rupture, by=someone, kind="explored", showed_as="not_sure")


def test_repairs_are_recorded_only_for_signals_about_the_alliance_and_engagement(
        case, therapist):
    feedback = Signal.objects.create(case=case, session=case.sessions.get(number=1),
                                     type="client_feedback", subject="x", rule="open_answer",
                                     explanation="The client wrote something.")
    with pytest.raises(actions.SignalError, match="ruptures, lower alliance ratings"):
        actions.record_repair(feedback, by=therapist, kind="explored", showed_as="not_sure")
    for kind in ("low_alliance", "discrepancy", "disengagement"):
        signal = Signal.objects.create(case=case, type=kind, subject=kind, rule="r",
                                       explanation="…")
        actions.record_repair(signal, by=therapist, kind="acknowledged", showed_as="not_sure")
    assert RepairAction.objects.count() == 3


def test_a_dismissed_signal_must_be_reopened_before_recording_a_repair(rupture, therapist):
    actions.dismiss(rupture, by=therapist, reason="A hard week at work, we talked.")
    with pytest.raises(actions.SignalError, match="reopen it first"):
        actions.record_repair(rupture, by=therapist, kind="explored", showed_as="not_sure")


def test_the_session_of_a_repair_is_of_the_same_case_and_not_before_the_signal(
        rupture, therapist, other_therapist_case):
    with pytest.raises(actions.SignalError, match="session 4 or a later one"):
        actions.record_repair(rupture, by=therapist, kind="explored", showed_as="not_sure",
                               session=rupture.case.sessions.get(number=3))
    with pytest.raises(actions.SignalError, match="another case"):
        actions.record_repair(rupture, by=therapist, kind="explored", showed_as="not_sure",
                               session=other_therapist_case.sessions.get(number=1))


def test_recording_from_the_case_page_goes_back_to_the_signal(login, therapist, rupture):
    response = login(therapist).post(record_url(rupture), {
        "kind": "renegotiated_goals", "showed_as": "confrontation", "note": "New goal agreed.",
        "session": "4", "next": f"/cases/{rupture.case_id}/"})
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{rupture.case_id}/#signal-{rupture.pk}"
    [action] = RepairAction.objects.all()
    assert (action.kind, action.showed_as, action.session.number) == \
        ("renegotiated_goals", "confrontation", 4)


def test_a_form_with_a_problem_comes_back_on_its_own_page_with_the_message(
        login, therapist, rupture):
    client = login(therapist)
    response = client.post(record_url(rupture), {"kind": "other", "showed_as": "not_sure",
                                                 "note": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Please say in a few words what you did." in html
    assert 'value="other" required checked' in html
    response = client.post(record_url(rupture), {"kind": "explored", "showed_as": "not_sure",
                                                 "session": "9"})
    assert "This case has no session 9." in response.content.decode()
    assert not RepairAction.objects.exists()


def test_who_may_record_a_repair_other_therapist_404_supervisor_403_admin_404(
        client, rupture, other_therapist, supervisor, admin, other_admin):
    data = {"kind": "explored", "showed_as": "not_sure"}
    for member, status in ((other_therapist, 404), (supervisor, 403), (admin, 404),
                           (other_admin, 404)):
        client.force_login(member.user)
        assert client.post(record_url(rupture), data).status_code == status, member
    client.logout()
    assert client.post(record_url(rupture), data).status_code == 302  # to the login page
    assert not RepairAction.objects.exists()
    client.force_login(supervisor.user)
    assert client.get(record_url(rupture)).status_code == 405  # POST only


def test_recomputation_keeps_a_signal_with_a_repair_action_even_when_reopened(
        case, rupture, therapist):
    actions.record_repair(rupture, by=therapist, kind="explored", showed_as="not_sure")
    actions.reopen(rupture, by=therapist)
    clinic = case.client.clinic
    # The strict rule (2 SD: threshold 8 − 1.549 = 6.45) still flags 5; a reliable-change
    # rule with a wide S_diff does not.
    clinic.rupture_rule, clinic.rci_sd, clinic.rci_reliability = "rci", 3.0, 0.5
    clinic.save()
    recompute.clinic_settings_saved(clinic)
    kept = Signal.objects.get(pk=rupture.pk)
    assert not kept.is_current and kept.repair_actions.count() == 1


# --------------------------------------------------------------------------- prompts

def titles(choice):
    return [p.title for p in choice.situation], [p.title for p in choice.markers]


def test_a_bond_drop_gets_the_bond_prompts_and_a_tasks_drop_the_tasks_prompts(
        login, therapist, case, other_therapist, after_commit):
    ratings(case, after_commit, [8, 8, 8, answers(8, bond1=6, bond2=6)])
    bond = the_rupture(case)
    assert bond.subject == "bond"
    situation, markers = titles(prompts_for(bond))
    assert situation == [PROMPTS["bond"].title]
    assert markers == [PROMPTS["withdrawal"].title, PROMPTS["confrontation"].title]
    html = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    assert "The bond: attend to the relationship" in html
    assert "Tasks: adjust what you do together" not in html
    # Only the bond fell: its explanation says so, and "What moved" would repeat it.
    assert "Bond fell from 8.0 to 6.0" in html and "What moved:" not in html

    tasks_case = care.admit_client(therapist, code="C-TASKS", modality="cbt", start_date=START)
    next_session(tasks_case)
    ratings(tasks_case, after_commit, [8, 8, 8, answers(8, tasks1=6, tasks2=6)])
    tasks = the_rupture(tasks_case)
    assert tasks.subject == "tasks"
    assert titles(prompts_for(tasks))[0] == [PROMPTS["tasks"].title]
    html = login(therapist).get(f"/cases/{tasks_case.pk}/").content.decode()
    assert "Tasks: adjust what you do together" in html
    assert "The bond: attend to the relationship" not in html


def test_a_signal_shows_what_moved_when_several_scores_fell_and_folds_what_to_try(
        login, therapist, case, rupture):
    assert rupture.needs_attention
    html = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    item = html[html.index(f'id="signal-{rupture.pk}"'):]
    item = item[:item.index("</li>")]
    # The total and its three parts fell at session 4: "What moved" gives their numbers.
    assert "What moved:" in item and "Bond 8.0 → 5.0" in item and "Tasks 8.0 → 5.0" in item
    # The outcome comes under the explanation; "Technical details" and then "What to try"
    # follow, both folded, even while the signal needs attention.
    assert (item.index('class="signal-explanation"') < item.index('class="repair-outcome')
            < item.index("Technical details") < item.index("What to try"))
    assert '<details class="signal-why repair-prompts">' in item
    assert "repair-prompts\" open" not in item and " open>" not in item


def test_why_this_signal_gives_a_long_value_a_whole_row_so_its_label_is_not_squeezed(
        login, therapist, case, rupture):
    html = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    # The new clinic's pooled SD is the cautious default, a value of many words.
    assert ('<div class="fact-long"><dt>Where that comes from</dt><dd>a cautious starting '
            'value') in html
    assert "<div><dt>Multiplier m</dt><dd>1</dd></div>" in html


def test_a_merged_rupture_gets_the_prompts_of_every_part_that_fell_and_the_total_its_own():
    merged = SimpleNamespace(type="rupture", subject="total",
                             data={"reference": 8, "score": 6.5,
                                   "also": [{"subject": "goals", "reference": 8, "score": 5},
                                            {"subject": "bond", "reference": 9, "score": 6}]})
    assert titles(prompts_for(merged))[0] == [PROMPTS["goals"].title, PROMPTS["bond"].title]
    assert [p.name for p in repair.moved_parts(merged)] == ["Alliance overall", "Goals", "Bond"]
    alone = SimpleNamespace(type="rupture", subject="total", data={"reference": 8, "score": 6})
    assert titles(prompts_for(alone))[0] == [PROMPTS["total"].title]


def test_withdrawal_and_confrontation_prompts_follow_how_the_therapist_says_it_showed(
        login, therapist, rupture):
    quiet = titles(prompts_for(rupture, showed_as="withdrawal"))[1]
    loud = titles(prompts_for(rupture, showed_as="confrontation"))[1]
    assert quiet == [PROMPTS["withdrawal"].title] and loud == [PROMPTS["confrontation"].title]
    client = login(therapist)
    actions.record_repair(rupture, by=therapist, kind="explored", showed_as="withdrawal")
    html = client.get(f"/cases/{rupture.case_id}/").content.decode()
    assert "If it shows as withdrawal" in html and "If it shows as confrontation" not in html
    actions.record_repair(rupture, by=therapist, kind="adjusted_tasks",
                           showed_as="confrontation")
    html = client.get(f"/cases/{rupture.case_id}/").content.decode()
    assert "If it shows as confrontation" in html and "If it shows as withdrawal" not in html


def test_other_signals_get_their_own_prompts():
    for kind in ("low_alliance", "discrepancy", "disengagement"):
        choice = prompts_for(SimpleNamespace(type=kind, subject="total", data={}))
        assert titles(choice)[0] == [PROMPTS[kind].title]
    assert titles(prompts_for(SimpleNamespace(type="disengagement", subject="", data={})))[1] \
        == [PROMPTS["withdrawal"].title]
    assert prompts_for(SimpleNamespace(type="client_feedback", subject="", data={})) is None


def test_every_prompt_is_short_and_kind():
    unkind = ("fail", "resistan", "difficult client", "non-complian", "blame the client")
    for prompts in PROMPTS.values():
        assert 3 <= len(prompts.points) <= 5
        for point in prompts.points:
            assert len(point) <= 200
            assert not any(word in point.lower() for word in unkind), point


# --------------------------------------------------------------------------- follow-up

def test_a_rupture_followed_by_a_check_in_back_at_the_reference_is_repaired_with_its_action(
        login, therapist, case, rupture, after_commit):
    client = login(therapist)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Record what you did" in html and 'name="kind"' in html
    assert "Not yet: the next check-ins decide within 3 rated sessions" in html
    # Session 5: the therapist names the drop, records it, and the client's check-in after
    # the session is back at 8.
    with after_commit():
        session = next_session(case)
    response = client.post(record_url(rupture), {
        "kind": "acknowledged", "showed_as": "withdrawal",
        "note": "Named the drop; the client felt rushed.", "session": "5"})
    assert response.status_code == 302
    with after_commit():
        checkin(case, answers(8), session=session)
    rupture.refresh_from_db()
    assert rupture.repair_state == "repaired" and rupture.data["repaired_session"] == 5
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Repaired at session 5, after 1 recorded repair action." in html
    assert "Named the drop; the client felt rushed." in html
    assert "Ruptures and repair" in html
    history = html.split('id="repair-history-heading"')[1]
    assert "Acknowledged it with the client (session 5)" in history
    assert "Repaired at session 5" in history
    # Repaired: no prompts any more.
    assert "What to try" not in html


def test_an_unresolved_rupture_shows_it_plainly_with_or_without_an_action(
        login, therapist, case, rupture, after_commit):
    ratings_after = [6, 6, 6]
    for value in ratings_after:
        with after_commit():
            checkin(case, answers(value))
    rupture.refresh_from_db()
    assert rupture.repair_state == "unresolved"
    html = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    assert ("Unresolved: not back at the earlier level within 3 rated sessions; no repair "
            "action recorded.") in html


def test_the_history_lists_each_rupture_oldest_first_with_scores_actions_and_outcome(
        login, therapist, supervisor, case, after_commit):
    ratings(case, after_commit, [8, 8, 8, 5, 8, 8, 8, answers(8, goals1=5, goals2=5)])
    first, second = Signal.objects.filter(case=case, type="rupture").order_by("session__number")
    actions.record_repair(second, by=therapist, kind="renegotiated_goals", showed_as="not_sure",
                           note="Rewrote the goal together.")
    for member in (therapist, supervisor):
        html = login(member).get(f"/cases/{case.pk}/").content.decode()
        history = html.split('id="repair-history-heading"')[1].split("</table>")[0]
        assert history.index(f'id="rupture-{first.pk}"') < history.index(
            f'id="rupture-{second.pk}"')
        assert "Alliance overall 8.0 → 5.0" in history and "Goals 8.0 → 5.0" in history
        assert "Repaired at session 5" in history and "Pending" in history
        assert "Renegotiated goals" in history and "Rewrote the goal together." in history
        assert "Nothing recorded" in history
    # The supervisor reads the prompts and the actions, without the forms.
    assert "What to try" in html and 'name="kind"' not in html


def test_the_case_page_reads_repair_actions_in_one_query_however_many(
        login, therapist, case, rupture):
    client = login(therapist)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/cases/{case.pk}/").status_code == 200
        return len(queries)

    actions.record_repair(rupture, by=therapist, kind="explored", showed_as="not_sure")
    one = count()
    for kind in ("acknowledged", "adjusted_tasks", "changed_approach", "other"):
        actions.record_repair(rupture, by=therapist, kind=kind, showed_as="not_sure",
                               note="Something.", session=case.sessions.get(number=4))
    assert count() == one


# --------------------------------------------------------------------------- supervision

def test_supervisors_see_repair_actions_and_outcomes_of_their_supervisees(
        login, supervisor, therapist, case, rupture, other_therapist_case, after_commit):
    ratings(other_therapist_case, after_commit, [8, 8, 8, 5])
    actions.record_repair(rupture, by=therapist, kind="changed_approach",
                           showed_as="confrontation", session=case.sessions.get(number=4))
    client = login(supervisor)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("monitoring:supervision"))
    html = response.content.decode()
    section = html.split("Ruptures and repair")[1]
    assert case.client.code in section and "Pending" in section
    assert "Done: Changed approach (session 4)" in section
    assert other_therapist_case.client.code not in html
    assert len(queries) <= 3 + 10 + 1 + audit_queries()  # as in test_monitoring's overview
    with after_commit():
        checkin(case, answers(8))
    # A repaired rupture stays in view for eight weeks after its session.
    today = timezone.localdate()
    for session in case.sessions.all():
        Session.objects.filter(pk=session.pk).update(
            date=today - dt.timedelta(days=7 * (5 - session.number)))
    html = login(supervisor).get(reverse("monitoring:supervision")).content.decode()
    assert "Repaired at session 5" in html.split("Ruptures and repair")[1]
    Session.objects.filter(case=case).update(date=today - dt.timedelta(days=70))
    html = login(supervisor).get(reverse("monitoring:supervision")).content.decode()
    assert "Ruptures and repair" not in html


# --------------------------------------------------------------------------- report

def add_case(therapist, code, statuses, *, status=Case.Status.ACTIVE):
    case = care.admit_client(therapist, code=code, modality="cbt", start_date=START)
    for i, attended in enumerate(statuses):
        care.record_session(case, date=START + dt.timedelta(days=7 * i),
                            status=Session.Status.ATTENDED if attended
                            else Session.Status.NO_SHOW)
    if status != Case.Status.ACTIVE:
        Case.objects.filter(pk=case.pk).update(status=status, end_date=START + dt.timedelta(100))
    return case


def add_signal(case, kind, number=None, state="", back=None, *, current=True):
    session = case.sessions.get(number=number) if number else None
    data = {"repaired_session": back} if back else {}
    return Signal.objects.create(case=case, session=session, type=kind, subject=f"{kind}{number}",
                                 rule="sd1", repair_state=state, data=data, is_current=current,
                                 explanation="…")


@pytest.fixture
def report_clinic(therapist, other_therapist, supervisor):
    """A known small clinic (the supervisor supervises `therapist` only).

    Active cases: A (therapist) sessions 1–6, 4 missed: 5 attended; B (therapist) 5 of 5;
    C (other therapist) 10 of 10. Case D is closed and does not count.
    Signals: A rupture s3 repaired at s5 (action), low alliance s2; B rupture s2
    unresolved (action), rupture s5 pending, disengagement without a session; C rupture s4
    repaired at s7, discrepancy s3 (action), a rupture the current rules no longer produce
    (not counted); D a rupture (not counted).
    """
    a = add_case(therapist, "C-AAAAA", [1, 1, 1, 0, 1, 1])
    b = add_case(therapist, "C-BBBBB", [1] * 5)
    c = add_case(other_therapist, "C-CCCCC", [1] * 10)
    d = add_case(therapist, "C-DDDDD", [1] * 4, status=Case.Status.CLOSED)
    acted = [add_signal(a, "rupture", 3, "repaired", 5), add_signal(b, "rupture", 2, "unresolved"),
             add_signal(c, "discrepancy", 3)]
    add_signal(a, "low_alliance", 2)
    add_signal(b, "rupture", 5, "pending")
    add_signal(b, "disengagement")
    add_signal(c, "rupture", 4, "repaired", 7)
    add_signal(c, "rupture", 6, "unresolved", current=False)
    add_signal(d, "rupture", 2, "unresolved")
    for signal in acted:
        RepairAction.objects.create(signal=signal, kind="explored", by=signal.case.therapist)
    return a, b, c, d


def test_the_clinic_report_for_an_administrator_matches_the_hand_computed_numbers(
        login, admin, report_clinic):
    # 20 attended sessions. Ruptures A3, B2, B5, C4: 100·4/20 = 20 per 100 (with an action
    # A3, B2: 10; without B5, C4: 10); one signal = 5 per 100; seven in all = 35 per 100.
    # Outcomes: repaired A3 (d = 2) and C4 (d = 3), unresolved B2, pending B5: share 2/3,
    # median 2.5; with an action 1 of 2 (50%), median 2; without 1 of 1 (100%), median 3.
    client = login(admin)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("monitoring:report"))
    assert response.status_code == 200
    data = response.context["report"]
    report = data.report
    assert report.attended_sessions == 20 and report.cases == 3
    rupture = report.rate("rupture")
    assert (rupture.count, rupture.with_action, rupture.without_action) == (4, 2, 2)
    assert rupture.per_100_sessions == pytest.approx(20.0, abs=1e-12)
    assert rupture.with_action_per_100 == pytest.approx(10.0, abs=1e-12)
    assert report.rate("low_alliance").per_100_sessions == pytest.approx(5.0, abs=1e-12)
    assert report.rate("discrepancy").with_action == 1
    everyone = report.repair_group("all")
    assert (everyone.repaired, everyone.unresolved, everyone.pending) == (2, 1, 1)
    assert everyone.share_repaired == pytest.approx(2 / 3, abs=1e-12)
    assert everyone.median_sessions_to_repair == 2.5
    acted = report.repair_group("with_action")
    assert acted.share_repaired == 0.5 and acted.median_sessions_to_repair == 2.0
    not_acted = report.repair_group("without_action")
    assert not_acted.share_repaired == 1.0 and not_acted.median_sessions_to_repair == 3.0
    html = response.content.decode()
    assert ("Across 20 attended sessions in 3 cases, the current rules raised 35.0 signals per "
            "100 sessions, ruptures 20.0 per 100 sessions.") in html
    assert ("Of the 3 ruptures whose repair window has closed, 2 were repaired (67%): 1 of 2 "
            "(50%) with a recorded repair action and 1 of 1 (100%) without one. 1 more is still "
            "within the window.") in html
    assert "not a controlled comparison" in html
    assert "67% <span" in html and ">2.5<" in html
    # The rules in force, to tune them by.
    assert escape(RUPTURE_RULES["sd1"].label) in html and "3 rated sessions" in html
    # The alert burden: the kinds the clinic counts as needing attention (discrepancy is
    # information by default), per 100 attended sessions, one total on the page.
    kinds = admin.clinic.attention_type_set
    burden = sum(r.per_100_sessions for r in report.rates if r.type in kinds)
    assert "discrepancy" not in kinds and 0 < burden < 35
    assert data.attention_per_100 == pytest.approx(burden, abs=1e-12)
    assert [r.attention for r in data.rows if r.type == "discrepancy"] == [False]
    assert "Needing attention, all kinds" in html
    assert f"Of those, {burden:.1f} per 100 sessions are of the kinds" in html
    assert 'href="/clinic/settings/"' in html
    # Aggregates only: no client codes, no links to cases.
    for code in ("C-AAAAA", "C-BBBBB", "C-CCCCC", "C-DDDDD"):
        assert code not in html
    assert "/cases/" not in html
    assert len(queries) <= 10


def test_a_supervisors_report_covers_only_the_supervisees_cases(login, supervisor,
                                                                 report_clinic):
    response = login(supervisor).get(reverse("monitoring:report"))
    report = response.context["report"].report
    # Cases A and B: 10 attended sessions; ruptures A3, B2, B5 = 30 per 100.
    assert report.attended_sessions == 10 and report.cases == 2
    assert report.rate("rupture").per_100_sessions == pytest.approx(30.0, abs=1e-12)
    assert report.rate("discrepancy").count == 0
    everyone = report.repair_group("all")
    assert (everyone.repaired, everyone.unresolved, everyone.pending) == (1, 1, 1)
    assert "C-AAAAA" not in response.content.decode()


def test_the_report_is_for_administrators_and_supervisors(login, therapist, other_admin,
                                                         report_clinic):
    assert login(therapist).get(reverse("monitoring:report")).status_code == 403
    response = login(other_admin).get(reverse("monitoring:report"))
    assert response.status_code == 200
    assert response.context["report"].report.attended_sessions == 0
    assert "nothing to report" in response.content.decode()


def test_the_report_takes_the_same_number_of_queries_for_a_small_or_larger_clinic(
        login, admin, therapist, report_clinic):
    client = login(admin)

    def count():
        with CaptureQueriesContext(connection) as queries:
            client.get(reverse("monitoring:report"))
        return len(queries)

    before = count()
    for i in range(5):
        case = add_case(therapist, f"C-MORE{i}", [1, 1, 1])
        signal = add_signal(case, "rupture", 2, "repaired", 3)
        RepairAction.objects.create(signal=signal, kind="explored", by=therapist)
    assert count() == before


# --------------------------------------------------------------------------- demo

@pytest.fixture
def demo_clinic(seeded):
    return seeded.clinic


def test_the_demo_records_repairs_some_followed_by_repair_some_not_and_some_none(
        demo_clinic, db, client):
    from alliance.web import demo

    ruptures = Signal.objects.filter(case__client__clinic=demo_clinic, type="rupture",
                                     case__status="active")
    acted = ruptures.filter(repair_actions__isnull=False).distinct()
    assert acted.filter(repair_state="repaired").count() >= 3
    assert acted.filter(repair_state="unresolved").count() >= 2
    assert ruptures.filter(repair_actions__isnull=True,
                           repair_state__in=["repaired", "unresolved"]).count() >= 3
    for action in RepairAction.objects.filter(signal__in=acted).select_related("signal__session",
                                                                                 "session", "by"):
        assert action.by == action.signal.case.therapist
        assert action.session is None or action.session.number >= action.signal.session.number
    # What the admin and supervisor see has content.
    for email in (demo.ADMIN_EMAIL, demo.LOGINS[1].email):
        client.force_login(StaffMember.objects.get(user__username=email).user)
        response = client.get(reverse("monitoring:report"))
        assert response.status_code == 200
        report = response.context["report"].report
        assert report.repair_group("with_action").decided >= 2
        assert report.repair_group("without_action").decided >= 2
    html = client.get(reverse("monitoring:supervision")).content.decode()
    assert "Done: " in html
    case = acted.filter(case__therapist__user__username=demo.THERAPIST_EMAILS[0]).first().case
    client.force_login(case.therapist.user)
    html = client.get(reverse("care:case", args=[case.pk])).content.decode()
    assert "Ruptures and repair" in html and "What was done" in html

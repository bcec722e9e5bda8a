"""The caseload and the case page: what they show, in which order, in how many queries.

Scores are stored as the check-in forms store them (the core's scoring of item answers;
see dashboard_data.py); signals are created directly with the fields the monitoring part
fills, so that the order of the caseload can be checked case by case.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.core.expected import COEFFICIENTS, ExpectedResponseModel
from alliance.web.care import services as care
from alliance.web.care.views import CASELOAD_PAGE
from alliance.web.dashboards import attention
from alliance.web.monitoring.models import ClinicBaseline, Signal

from dashboard_data import START, add_sessions, many_cases, steady_rows
from helpers import audit_queries


def new_case(therapist, code, rows=(), *, start=START):
    case = care.admit_client(therapist, code=code, modality="cbt", start_date=start)
    if rows:
        add_sessions(case, list(rows))
    return case


def signal(case, type, *, number=None, subject="total", state="open", repair_state="",
           **fields):
    session = case.sessions.get(number=number) if number else None
    return Signal.objects.create(case=case, session=session, type=type, subject=subject,
                                 rule=fields.pop("rule", "sd1"), state=state,
                                 repair_state=repair_state,
                                 dismiss_reason="Not needed." if state == "dismissed" else "",
                                 explanation=fields.pop("explanation", "Something changed."),
                                 **fields)


def caseload_codes(html: str) -> list[str]:
    return re.findall(r'class="case-code" href="/cases/\d+/">([^<]+)<', html)


# --------------------------------------------------------------------------- caseload

def test_the_caseload_is_ordered_by_how_much_attention_each_case_needs(login, therapist):
    rows = steady_rows(3)
    cases = {code: new_case(therapist, code, rows) for code in (
        "C-NONE", "C-OTHER", "C-DISENG", "C-DISCREP", "C-LOW", "C-NOTRACK", "C-PENDING",
        "C-UNRES")}
    signal(cases["C-UNRES"], "rupture", number=3, subject="bond", repair_state="unresolved")
    signal(cases["C-PENDING"], "rupture", number=3, repair_state="pending")
    signal(cases["C-NOTRACK"], "not_on_track", number=3, rule="expected_band")
    signal(cases["C-LOW"], "low_alliance", number=3, rule="percentile")
    signal(cases["C-DISCREP"], "discrepancy", number=3, rule="pomp_difference")
    signal(cases["C-DISENG"], "disengagement", number=3, rule="missed_in_a_row")
    signal(cases["C-OTHER"], "client_feedback", number=3, rule="open_answer")
    html = login(therapist).get("/cases/").content.decode()
    # Discrepancy is information and a comment is read, not alerted: by default neither
    # needs attention, and those cases follow in code order.
    assert caseload_codes(html) == ["C-UNRES", "C-PENDING", "C-NOTRACK", "C-LOW", "C-DISENG",
                                    "C-DISCREP", "C-NONE", "C-OTHER"]
    assert "Rupture not yet repaired" in html and "Bond, session 3" in html
    assert "1 new comment to read" in html

    # A clinic that counts discrepancy and comments puts them back on the list.
    therapist.clinic.attention_types = [*therapist.clinic.attention_types, "discrepancy",
                                        "client_feedback"]
    therapist.clinic.save()
    html = login(therapist).get("/cases/").content.decode()
    assert caseload_codes(html) == ["C-UNRES", "C-PENDING", "C-NOTRACK", "C-LOW", "C-DISCREP",
                                    "C-DISENG", "C-OTHER", "C-NONE"]


def test_within_a_level_the_case_seen_most_recently_comes_first(login, therapist):
    older = new_case(therapist, "C-OLDER", steady_rows(2))
    newer = new_case(therapist, "C-NEWER", steady_rows(2), start=START + dt.timedelta(days=3))
    for case in (older, newer):
        signal(case, "low_alliance", number=2, rule="percentile")
    html = login(therapist).get("/cases/").content.decode()
    assert caseload_codes(html) == ["C-NEWER", "C-OLDER"]


def test_acted_on_and_repaired_signals_do_not_raise_a_case(login, therapist):
    quiet = new_case(therapist, "C-QUIET", steady_rows(3))
    signal(quiet, "rupture", number=2, repair_state="repaired")
    signal(quiet, "low_alliance", number=3, state="acknowledged", rule="percentile")
    signal(quiet, "discrepancy", number=3, state="dismissed", rule="pomp_difference")
    flagged = new_case(therapist, "C-FLAG", steady_rows(3))
    signal(flagged, "disengagement", number=3, rule="missed_in_a_row")
    html = login(therapist).get("/cases/").content.decode()
    assert caseload_codes(html) == ["C-FLAG", "C-QUIET"]
    assert "1 open signal" in html and "Nothing open" in html


def test_the_caseload_shows_latest_scores_trend_sparklines_and_signal_count(login, therapist):
    rows = [{"alliance": (5, 5, 5), "wellbeing": 4.0}, {"alliance": (6, 6, 6), "wellbeing": 4.0},
            {"alliance": (7, 7, 7), "wellbeing": 4.25},
            {"alliance": (8, 7, 7.5), "therapist": (8, 8, 8), "wellbeing": 4.0}]
    case = new_case(therapist, "C-TREND", rows)
    signal(case, "rupture", number=4, subject="goals", repair_state="pending")
    signal(case, "low_alliance", number=4, rule="percentile")
    html = login(therapist).get("/cases/").content.decode()
    # Latest total: (8 + 8 + 7 + 7 + 7 + 8) / 6 = 7.5; bond 8, goals 7, tasks 7.5.
    assert '<span class="metric-value">7.5</span>' in html
    assert "bond 8.0 · goals 7.0 · tasks 7.5" in html
    # Alliance 5, 6, 7, 7.5 at sessions 1–4: slope 0.85, fitted change 2.55 ≥ 1 → rising.
    # Wellbeing 4, 4, 4.25, 4: fitted change 0.075 → steady.
    assert re.search(r'trend-rising trend-better"><span class="trend-arrow" aria-hidden="true">'
                     r'↗</span>rising', html)
    assert "steady" in html
    assert html.count('src="data:image/svg+xml;base64,') == 2
    assert 'alt="Client-rated alliance at sessions 1–4: 5.0, 6.0, 7.0, 7.5."' in html
    assert "Possible rupture" in html and "Goals, session 4 · 2 open signals" in html


def test_the_last_session_column_shows_the_latest_day_with_that_sessions_number(login,
                                                                              therapist):
    late = new_case(therapist, "C-LATE", steady_rows(3))  # 5, 12 and 19 January 2026
    # Session 4 recorded afterwards, for a day before session 3.
    care.record_session(late, date=dt.date(2026, 1, 16), status="attended")
    new_case(therapist, "C-SEEN", steady_rows(2), start=dt.date(2026, 1, 10))  # 10, 17 Jan
    html = login(therapist).get("/cases/").content.decode()
    assert re.search(r'19 Jan<span class="case-meta">session 3</span>', html)
    # The case seen most recently first: 19 January before 17 January.
    assert caseload_codes(html) == ["C-LATE", "C-SEEN"]


def test_a_case_without_check_ins_says_so_on_the_caseload(login, therapist):
    new_case(therapist, "C-EMPTY")
    html = login(therapist).get("/cases/").content.decode()
    assert "C-EMPTY" in html and "No recent check-in" in html and "None yet" in html


def test_the_caseload_looks_back_over_the_last_eight_sessions(login, therapist):
    rows = [{"alliance": (2, 2, 2)}] * 4 + [{"alliance": (8, 8, 8)}] * 8
    new_case(therapist, "C-LONG", rows)
    html = login(therapist).get("/cases/").content.decode()
    assert 'alt="Client-rated alliance at sessions 5–12: 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0."' in html


def test_a_supervisor_sees_the_supervisees_cases_with_their_therapist(login, therapist,
                                                                      supervisor,
                                                                      other_therapist):
    new_case(therapist, "C-SUPV1", steady_rows(2))
    new_case(other_therapist, "C-NOTMINE", steady_rows(2))
    html = login(supervisor).get("/cases/").content.decode()
    assert "C-SUPV1" in html and therapist.display_name in html
    assert "C-NOTMINE" not in html


def caseload_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/cases/")
    assert response.status_code == 200
    return len(queries)


def test_the_caseload_takes_the_same_number_of_queries_for_5_or_200_cases(
        login, therapist, other_therapist):
    many_cases(therapist, 5, prefix="C-A")
    many_cases(other_therapist, 200, prefix="C-B")
    few = caseload_queries(login(therapist))
    client = login(other_therapist)
    page = client.get("/cases/").content.decode()
    # A page shows CASELOAD_PAGE cases; the order runs over all of them.
    assert len(caseload_codes(page)) == CASELOAD_PAGE and "200 active cases" in page
    assert "page 1 of 4" in page
    shown = [code for n in range(1, 5)
             for code in caseload_codes(client.get(f"/cases/?page={n}").content.decode())]
    assert sorted(shown) == [f"C-B{k:04d}" for k in range(200)]
    assert caseload_queries(client) == few
    with CaptureQueriesContext(connection) as queries:
        client.get("/cases/?page=4")
    assert len(queries) == few
    # The login session, the user, the staff member; the page's five; the header's worklist
    # count; and the page's one audit event.
    assert few <= 3 + 5 + 1 + audit_queries()


def test_the_caseloads_search_and_filters_find_cases_on_every_page(login, therapist):
    many_cases(therapist, 120, prefix="C-P")
    client = login(therapist)
    last = caseload_codes(client.get("/cases/?page=3").content.decode())[-1]
    found = client.get(f"/cases/?q={last}").content.decode()
    assert caseload_codes(found) == [last] and "1 of 120 active cases" in found
    # A filter's pages keep the filter in their links.
    page = client.get("/cases/?modality=cbt").content.decode()
    assert "modality=cbt&amp;page=2" in page


def test_a_supervisors_caseload_takes_a_bounded_number_of_queries(login, therapist,
                                                                  supervisor):
    many_cases(therapist, 5, prefix="C-A")
    few = caseload_queries(login(supervisor))
    many_cases(supervisor, 60, prefix="C-S")
    assert caseload_queries(login(supervisor)) == few


# --------------------------------------------------------------------------- case page

def test_the_case_page_explains_the_scores_in_plain_words(login, therapist):
    case = new_case(therapist, "C-WORDS", [
        {"alliance": (7, 6, 7), "therapist": (8, 8, 8), "wellbeing": 4.5},
        {"alliance": (7, 7, 7), "wellbeing": 5.0},
        {"alliance": (8, 7, 7.5), "therapist": (8, 9, 8), "wellbeing": 6.25}])
    html = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    assert "Client-rated alliance 7.5 of 10 at session 3; bond 8.0, goals 7.0, tasks 7.5." in html
    # (8 + 8 + 9 + 9 + 8 + 8) / 6 = 8.33: one decimal, as everywhere.
    assert "Your own rating at session 3: 8.3 of 10." in html
    assert "Wellbeing 6.3 of 10 at session 3; it was 4.5 at the first check-in (session 1)." \
        in html
    # Wellbeing 4.5, 5, 6.25 at 1–3: slope 0.875, change 1.75.
    assert "Rising over sessions 1–3 (up about 1.8 points)." in html


def test_the_supervisor_reads_the_therapists_rating_in_the_third_person(login, therapist,
                                                                        supervisor):
    case = new_case(therapist, "C-THIRD", [{"alliance": (7, 7, 7), "therapist": (6, 6, 6)}])
    html = login(supervisor).get(f"/cases/{case.pk}/").content.decode()
    assert "The therapist&#x27;s own rating at session 1: 6.0 of 10." in html
    assert "Record a session" not in html


def test_the_charts_are_images_from_scoped_urls_with_the_numbers_in_a_table(login, therapist):
    case = new_case(therapist, "C-TABLE", [
        {"alliance": (7, 6, 7), "therapist": (8, 8, 8), "wellbeing": 4.5},
        {"status": "no_show"},
        {"alliance": (4, 6.5, 5), "therapist": (7, 7, 7), "wellbeing": 4.25}])
    signal(case, "rupture", number=3, subject="bond", repair_state="pending")
    html = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    assert f'src="/cases/{case.pk}/charts/alliance.svg"' in html
    assert f'srcset="/cases/{case.pk}/charts/alliance.svg?size=narrow"' in html
    assert f'src="/cases/{case.pk}/charts/wellbeing.svg"' in html
    table = html[html.index("Alliance scores by session"):]
    table = table[:table.index("</table>")]
    cells = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", table)
    # Session 1: (7+7+6+6+7+7)/6 = 6.67; session 3: (4+4+6+7+5+5)/6 = 5.17; one decimal.
    assert cells[8:16] == ["1", "5 Jan 2026", "6.7", "7.0", "6.0", "7.0", "8.0", ""]
    assert cells[16:24] == ["2", "12 Jan 2026", "—", "—", "—", "—", "—", "Did not attend"]
    assert cells[24:32] == ["3", "19 Jan 2026", "5.2", "4.0", "6.5", "5.0", "7.0",
                            "Possible rupture (bond)"]
    assert "<details class=\"chart-table\">" in html


def test_too_early_to_tell_has_no_empty_arrow_before_it(login, therapist):
    new_case(therapist, "C-EARLY", steady_rows(2))
    html = login(therapist).get("/cases/").content.decode()
    assert '<span class="trend trend-unknown">too early to tell</span>' in html
    assert '<span class="trend-arrow" aria-hidden="true"></span>' not in html


def test_the_session_list_shows_attendance_and_which_check_ins_were_answered(login, therapist):
    from django.utils import timezone

    from alliance.web.checkins import services as checkins
    from alliance.web.checkins.models import CheckinLink

    case = new_case(therapist, "C-FORMS", [
        {"alliance": (7, 7, 7), "therapist": (7, 7, 7), "wellbeing": 5.0},
        {"status": "cancelled"}, {}, {}])
    # Session 3's link has expired unanswered; session 4's link still works.
    expired = checkins.issue_link(case.sessions.get(number=3), "alliance-client", by=therapist)
    CheckinLink.objects.filter(pk=expired.link.pk).update(expires_at=timezone.now())
    checkins.issue_link(case.sessions.get(number=4), "alliance-client", by=therapist)
    html = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    sessions = html[html.index('id="sessions-heading"'):]
    sessions = sessions[:sessions.index("</table>")]
    assert "Cancelled" in sessions and "Attended" in sessions
    assert 'tag-ok">Alliance <span aria-hidden="true">✓</span>' in sessions
    assert 'tag-ok">Wellbeing' in sessions and 'tag-ok">Therapist' in sessions
    rows = sessions.split("<tr>")
    newest, expired_row = rows[2], rows[3]   # newest first: session 4, then 3
    assert 'tag-pending">Alliance · waiting' in newest
    assert 'tag-muted">Alliance · not answered' in expired_row and "waiting" not in expired_row


def test_the_clients_open_answers_are_shown_with_session_and_date(login, therapist):
    case = new_case(therapist, "C-SAYS", [
        {"alliance": (7, 7, 7), "answer": "Less homework, please."},
        {"alliance": (8, 8, 8), "answer": "Today helped."}])
    html = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    words = html[html.index("In the client"):]
    assert words.index("Today helped.") < words.index("Less homework, please.")
    assert "Session 2 · 12 Jan 2026 · What would make our work together more helpful for you?" \
        in words


def test_without_an_expected_model_the_wellbeing_chart_says_why(login, therapist):
    case = new_case(therapist, "C-NOBAND", steady_rows(3))
    html = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    assert "The clinic does not yet have enough completed cases for an expected range." in html
    assert "Expected range</th>" not in html


def simple_model() -> ExpectedResponseModel:
    # expected = 2 + 0.5 · intake + 1 · log(session); var = 0.25 + 0.25 = 0.5 (no C).
    return ExpectedResponseModel(
        coefficients=dict(zip(COEFFICIENTS, (2.0, 0.5, 1.0, 0.0))),
        cov_coefficients=np.zeros((4, 4)), cov_random=np.array([[0.25]]),
        residual_variance=0.25, random_slope=False, coverage=0.8, n_cases=40, n_obs=300,
        intake_range=(1.0, 9.0), session_range=(1.0, 20.0), intake_quartiles=(3.0, 5.0, 7.0))


def test_with_the_clinics_model_the_expected_range_is_shown_and_tabled(login, therapist,
                                                                       clinic):
    ClinicBaseline.objects.create(clinic=clinic, expected_instrument="wellbeing",
                                  expected_model=simple_model().to_dict())
    case = new_case(therapist, "C-BAND", [
        {"alliance": (7, 7, 7), "wellbeing": 4.0},
        {"alliance": (7, 7, 7), "wellbeing": 3.0},
        {"alliance": (7, 7, 7), "wellbeing": 5.0}])
    signal(case, "not_on_track", number=2, rule="expected_band")
    html = login(therapist).get(f"/cases/{case.pk}/").content.decode()
    assert "The shaded area is the range expected" in html
    # Session 2, intake 4: expected 2 + 2 + log 2 = 4.6931; half-width Φ⁻¹(0.9) · √0.5 =
    # 1.28155 · 0.70711 = 0.9062; range 3.787–5.599. Session 3: 5.0986 ± 0.9062 → 4.192–6.005.
    # Shown to one decimal: a model's range claims no more precision.
    assert "3.8–5.6</td>" in html and "4.2–6.0</td>" in html
    assert "Outside the expected range" in html
    assert ("That is within the range expected at this session for clients of this clinic "
            "who started at a similar level (4.2 to 6.0).") in html
    chart = login(therapist).get(f"/cases/{case.pk}/charts/wellbeing.svg").content.decode()
    assert 'id="expected-range"' in chart and 'id="outside-expected"' in chart


def test_an_end_of_the_expected_range_is_rounded_away_from_the_score():
    from alliance.web.dashboards.text import range_bound

    assert [range_bound(v) for v in (6.0912, 10.0, 3.787, None)] == ["6.1", "10.0", "3.8", "—"]
    # A score of 3 below an end of 3.04 ("3.0" would read as inside), 3.8 above 3.77.
    assert range_bound(3.04, 3.0) == "3.1" and range_bound(3.77, 3.8) == "3.7"
    assert range_bound(3.04, 5.0) == "3.0" and range_bound(6.0, 5.98) == "6.1"


def test_the_expected_range_stops_at_the_ends_of_the_scale(clinic):
    from alliance.web.dashboards.expected import apply_expected
    from alliance.web.dashboards.series import CaseSeries, Measures, SessionScores

    model = simple_model()
    model = ExpectedResponseModel(**{**model.__dict__, "coefficients": dict(zip(
        COEFFICIENTS, (5.0, 0.5, 1.0, 0.0)))})
    rows = [SessionScores(number=n, date=START, status="attended", wellbeing=w)
            for n, w in ((1, 9.0), (2, 9.5))]
    measures = Measures.of(clinic)
    shown = apply_expected(CaseSeries(rows, measures), model, measures)
    # Session 2, intake 9: 5 + 4.5 + log 2 = 10.19 ± 0.906 → 9.29–11.10, shown as 9.29–10.
    assert shown.band.upper == [10.0] and shown.band.expected == [10.0]
    assert rows[1].expected_low == pytest.approx(9.2869, abs=1e-4)
    assert rows[1].expected_high == 10.0


def case_page_queries(client, case) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return len(queries)


def test_the_case_page_takes_the_same_number_of_queries_however_long_the_case(login,
                                                                              therapist):
    short = new_case(therapist, "C-SHORT", steady_rows(2))
    long = new_case(therapist, "C-LONGER", steady_rows(30))
    for case in (short, long):
        signal(case, "low_alliance", number=2, rule="percentile")
        signal(case, "client_feedback", number=1, rule="open_answer")
    client = login(therapist)
    assert case_page_queries(client, short) == case_page_queries(client, long)
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/cases/{long.pk}/charts/alliance.svg")
    # The chart's queries, and its audit event (on PostgreSQL: lock, last event, insert).
    assert len(queries) <= 10 + 3


def test_recording_a_session_still_works_from_the_case_page(login, therapist):
    case = new_case(therapist, "C-REC", steady_rows(1))
    client = login(therapist)
    assert f'href="/cases/{case.pk}/sessions/new/"' in client.get(f"/cases/{case.pk}/")\
        .content.decode()
    response = client.post(f"/cases/{case.pk}/sessions/new/",
                           {"date": "2026-01-12", "status": "attended", "format": "video"})
    assert response.status_code == 302
    assert case.sessions.count() == 2


# --------------------------------------------------------------------------- attention

class FakeSignal:
    def __init__(self, type, state="open", repair_state="", session=None, subject="total"):
        self.type, self.state, self.repair_state = type, state, repair_state
        self.session, self.subject = session, subject


def test_attention_levels_follow_the_documented_order():
    order = [FakeSignal("rupture", repair_state="unresolved"),
             FakeSignal("rupture", repair_state="pending"), FakeSignal("not_on_track"),
             FakeSignal("low_alliance"), FakeSignal("discrepancy"), FakeSignal("disengagement"),
             FakeSignal("goal_not_agreed")]
    ranks = [attention.signal_level(s).rank for s in order]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    assert attention.case_level([]) is attention.NONE
    assert attention.case_level([FakeSignal("rupture", repair_state="repaired"),
                                 FakeSignal("rupture", state="dismissed")]) is attention.NONE
    assert attention.most_important(list(reversed(order)))[0] is order[0]

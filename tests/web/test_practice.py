"""My practice, the clinic's aggregates, practice focus and the supervision page's additions.

On the demo clinic (three therapists with some thirty clients each, a supervisor of the
first two, an administrator) for what the pages say, and on conftest's small clinic for
the rules with too little data and the cases to bring.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from alliance.web.audit.models import Event
from alliance.web.clinics.models import StaffMember
from alliance.web.monitoring.models import Signal
from alliance.web.practice import supervision
from alliance.web.practice.models import PracticeFocus

from demo_clinic import PASSWORD, TODAY, clinic, seeded  # noqa: F401 (fixtures)

PERIOD = {"start": (TODAY - dt.timedelta(days=365)).isoformat(), "end": TODAY.isoformat()}


def staff(clinic, name) -> StaffMember:
    return StaffMember.objects.get(clinic=clinic, display_name=name)


@pytest.fixture
def sam(clinic):
    return staff(clinic, "Sam Rivera")


@pytest.fixture
def priya(clinic):
    return staff(clinic, "Priya Nair")        # not supervised by the demo supervisor


@pytest.fixture
def ruth(clinic):
    return staff(clinic, "Dr Ruth Adeyemi")


@pytest.fixture
def morgan(clinic):
    return staff(clinic, "Morgan Ellis")


def test_a_therapist_reads_their_own_practice_in_plain_words_first(client, sam):
    client.force_login(sam.user)
    response = client.get(reverse("practice:mine"), PERIOD)
    assert response.status_code == 200
    text = response.content.decode()
    assert "<h1>My practice</h1>" in text
    assert "Across your 3" in text and "your clients rate the alliance at about" in text
    assert "Most therapists in the clinic are between" in text
    assert "work with you, the alliance rating" in text
    assert "ratings move with theirs" in text
    # The technical details are one click away, and every chart has its table.
    assert text.count("<summary>Technical details</summary>") >= 4
    assert text.count('<img class="chart practice-chart"') == text.count(
        "<summary>Show the numbers as a table</summary>")
    assert "alliance ~ 1 + (1 | therapist) + (1 | therapist:client) (REML)" in text
    # One therapist only: no other therapist's name, no ranking.
    for other in ("Jonas Berg", "Priya Nair"):
        assert other not in text.split("<main")[1]
    assert Event.objects.filter(action="read", target_type="clinics.staffmember",
                                target_id=str(sam.pk), actor_id=sam.user.pk).exists()


def test_the_page_has_no_inline_style_or_script(client, sam):
    client.force_login(sam.user)
    text = client.get(reverse("practice:mine"), PERIOD).content.decode()
    main = text.split("<main")[1].split("</main>")[0]
    assert "style=" not in text and "<script" not in main


def test_a_supervisor_opens_each_supervisees_page_but_no_one_elses(client, ruth, sam, priya):
    client.force_login(ruth.user)
    response = client.get(reverse("practice:therapist", args=[sam.pk]), PERIOD)
    assert response.status_code == 200
    assert "Practice of Sam Rivera" in response.content.decode()
    assert client.get(reverse("practice:therapist", args=[priya.pk])).status_code == 404
    assert Event.objects.filter(outcome="denied", actor_id=ruth.user.pk).exists()


def test_a_therapist_cannot_open_a_colleagues_page(client, sam, priya):
    client.force_login(priya.user)
    assert client.get(reverse("practice:therapist", args=[sam.pk])).status_code == 404
    assert client.get(reverse("practice:therapist", args=[priya.pk])).status_code == 200
    assert client.get(reverse("practice:therapist", args=[999999])).status_code == 404


def test_the_admin_sees_clinic_aggregates_only(client, morgan, sam):
    client.force_login(morgan.user)
    response = client.get(reverse("practice:clinic"), PERIOD)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Clinic mean:" in text and "Most therapists are between" in text
    for name in ("Sam Rivera", "Jonas Berg", "Priya Nair"):
        assert name not in text
    assert "You" not in text.split("<main")[1].replace("Your", "")
    assert client.get(reverse("practice:therapist", args=[sam.pk])).status_code == 404
    assert client.get(reverse("practice:mine")).status_code == 403


def test_a_wrong_period_says_so_and_shows_the_last_year(client, sam):
    client.force_login(sam.user)
    response = client.get(reverse("practice:mine"), {"start": "2026-03-01",
                                                     "end": "2026-01-01"})
    assert response.status_code == 200
    assert "The period must start before it ends." in response.content.decode()


def test_a_focus_is_noted_and_audited(client, ruth, sam):
    client.force_login(ruth.user)
    response = client.post(reverse("practice:start_focus", args=[sam.pk]),
                           {"skill": "inviting_feedback",
                            "started_on": dt.date.today().isoformat(),
                            "note": "Ask at the end of each session what did not help."})
    assert response.status_code == 302
    focus = PracticeFocus.objects.get(therapist=sam, ended_on__isnull=True)
    assert focus.created_by == ruth and focus.started_on == dt.date.today()
    # The demo's focus ended the day before the new one began.
    assert PracticeFocus.objects.get(therapist=sam, skill="inviting_feedback",
                                     started_on__lt=dt.date.today()).ended_on is not None
    assert Event.objects.filter(action="create", target_type="practice.practicefocus",
                                target_id=str(focus.pk), actor_id=ruth.user.pk).exists()
    response = client.post(reverse("practice:end_focus", args=[sam.pk, focus.pk]))
    assert response.status_code == 302
    focus.refresh_from_db()
    assert focus.ended_on is not None
    assert Event.objects.filter(action="update", target_id=str(focus.pk)).exists()


def test_the_figures_before_and_after_a_focus_have_intervals_or_say_why_not(client, sam):
    # The demo's focus began eight weeks before its history ends.
    focus = PracticeFocus.objects.get(therapist=sam)
    assert focus.started_on == TODAY - dt.timedelta(weeks=8)
    client.force_login(sam.user)
    text = client.get(reverse("practice:mine")).content.decode()
    assert "Inviting negative feedback" in text
    # One comparison per figure of the skill: the alliance level and the rating difference.
    assert text.count('class="focus-comparison"') == 2
    assert "Alliance across your clients:" in text
    assert "before the start" in text and "likely between" in text
    assert "alliance ~ after + (1 | client) (REML)" in text


def test_a_focus_cannot_start_in_the_future(client, sam):
    client.force_login(sam.user)
    future = dt.date.today() + dt.timedelta(days=3)
    response = client.post(reverse("practice:start_focus", args=[sam.pk]),
                           {"skill": "inviting_feedback", "started_on": future.isoformat()})
    assert response.status_code == 400
    assert "The start date cannot be in the future." in response.content.decode()
    assert not PracticeFocus.objects.filter(therapist=sam, started_on=future).exists()


def test_a_new_focus_ends_the_current_one(client, sam):
    client.force_login(sam.user)
    url = reverse("practice:start_focus", args=[sam.pk])
    today = dt.date.today()
    client.post(url, {"skill": "inviting_feedback",
                      "started_on": (today - dt.timedelta(days=30)).isoformat()})
    client.post(url, {"skill": "repairing_withdrawal", "started_on": today.isoformat()})
    PracticeFocus.objects.filter(therapist=sam, started_on__lt=today - dt.timedelta(days=30)
                                 ).delete()                     # the demo's own
    foci = list(PracticeFocus.objects.filter(therapist=sam).order_by("started_on"))
    assert [f.skill for f in foci] == ["inviting_feedback", "repairing_withdrawal"]
    assert foci[0].ended_on == today - dt.timedelta(days=1) and foci[1].is_current


def test_the_supervision_page_shows_focus_and_cases_to_bring(client, ruth, sam):
    client.force_login(ruth.user)
    text = client.get(reverse("monitoring:supervision")).content.decode()
    assert "Practice focus: <strong>Inviting negative feedback</strong>" in text
    assert "No practice focus noted" in text          # Jonas Berg has none
    assert text.count("Cases to bring to supervision") == 2
    assert reverse("practice:therapist", args=[sam.pk]) in text
    assert "was not repaired within the window" in text or "slower than expected" in text


# A clinic of its own with one therapist, and conftest's therapist for the rules.
def test_too_few_clients_says_so_instead_of_a_figure(db, client):
    from alliance.web.clinics.models import Clinic
    from helpers import make_staff, open_case_with_session

    small = Clinic.objects.create(name="Small")
    therapist = make_staff(small, "therapist@small.example", StaffMember.Role.THERAPIST)
    open_case_with_session(therapist, "C-ONE")
    client.force_login(therapist.user)
    text = client.get(reverse("practice:mine")).content.decode()
    assert "needs ratings from at least 5 clients; there are 0 in this period." in text \
        or "There are no ratings yet." in text
    assert '<img class="chart' not in text


def test_cases_to_bring_follow_the_rules_with_a_reason_each(db, therapist, case, open_case):
    other = open_case(therapist, "C-OTHER")
    quiet = open_case(therapist, "C-QUIET")
    first = case.sessions.get(number=1)
    make = Signal.objects.create
    make(case=case, session=first, type="rupture", subject="total", rule="sd1",
         repair_state="unresolved", explanation="x")
    make(case=case, session=first, type="discrepancy", subject="total", rule="pomp",
         explanation="x")
    # Not suggested: a pending rupture, a dismissed not-on-track signal.
    make(case=other, session=other.sessions.get(number=1), type="rupture", subject="total",
         rule="sd1", repair_state="pending", explanation="x")
    make(case=other, session=other.sessions.get(number=1), type="not_on_track",
         subject="total", rule="band", state="dismissed", dismiss_reason="seen", explanation="x")
    make(case=quiet, session=quiet.sessions.get(number=1), type="not_on_track",
         subject="total", rule="band", explanation="x")
    found = supervision.cases_to_bring([case, other, quiet])[therapist.pk]
    assert [(item.case.client.code, item.reasons) for item in found] == [
        ("C-AAAA1", ["A rupture at session 1 was not repaired within the window",
                     "The therapist rated the alliance well above the client at session 1"]),
        ("C-QUIET", ["Progress slower than expected at session 1"])]

"""The demo clinic (`alliance.web.demo`) and the `alliance demo` command."""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import urllib.parse
import urllib.request
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from django.urls import reverse

from alliance.cli.demo import demo_environment
from alliance.cli.main import cli
from alliance.core.expected import MIN_CASES, MIN_SESSIONS, fit_expected_response
from alliance.core.signals import detect_ruptures
from alliance.web import demo, instruments
from alliance.web.care.models import Case, Client, Session
from alliance.web.checkins.models import Administration
from alliance.web.clinics.models import StaffMember

from demo_clinic import PASSWORD, TODAY, clinic, seeded  # noqa: F401 (fixtures)
from helpers import checkin_post


def long_format(clinic, statuses=(Case.Status.ACTIVE,)) -> pd.DataFrame:
    """One row per session with the client's and therapist's scores (the core's input)."""
    rows = {s.pk: {"client_id": s.case_id, "session": s.number, "date": s.date,
                   "attended": int(s.status == Session.Status.ATTENDED)}
            for s in Session.objects.filter(case__client__clinic=clinic,
                                            case__status__in=statuses)}
    columns = {demo.CLIENT_FORM: "alliance", "alliance-therapist": "therapist_alliance",
               "wellbeing": "wellbeing"}
    for a in Administration.objects.filter(session_id__in=rows, submitted_at__isnull=False):
        rows[a.session_id][columns[a.instrument_id]] = a.scores["total"]
    frame = pd.DataFrame(list(rows.values())).sort_values(["client_id", "session"])
    return frame.reset_index(drop=True)


def test_the_demo_clinic_has_an_admin_a_supervisor_of_two_and_three_therapists(clinic):
    roles = Counter(StaffMember.objects.filter(clinic=clinic).values_list("role", flat=True))
    assert roles == {"admin": 1, "supervisor": 1, "therapist": 3}
    supervisor = StaffMember.objects.get(clinic=clinic, role="supervisor")
    assert sorted(m.user.email for m in supervisor.supervisees.all()) == sorted(
        demo.SUPERVISEE_EMAILS)
    for login in demo.LOGINS:
        member = StaffMember.objects.get(user__username=login.email)
        assert member.role == login.role and member.user.check_password(PASSWORD)


def test_forty_active_cases_with_weeks_to_months_of_weekly_sessions_ending_around_today(clinic):
    active = Case.objects.filter(client__clinic=clinic, status=Case.Status.ACTIVE)
    assert active.count() == demo.ACTIVE_CASES
    assert Client.objects.filter(clinic=clinic).count() == (
        demo.ACTIVE_CASES + demo.CLOSED_CASES + demo.DROPPED_OUT_CASES)
    per_therapist = Counter(active.values_list("therapist__user__username", flat=True))
    assert set(per_therapist) == set(demo.THERAPIST_EMAILS)
    assert min(per_therapist.values()) >= 12
    sessions = Session.objects.filter(case__in=active)
    assert max(s.date for s in sessions) <= TODAY
    for case in active:
        dates = [s.date for s in sessions if s.case_id == case.pk]
        assert TODAY - max(dates) <= dt.timedelta(days=6)
        assert case.start_date == min(dates)
    lengths = [sessions.filter(case=case).count() for case in active]
    assert min(lengths) >= 2 and max(lengths) == demo.SESSIONS
    assert sum(n >= 12 for n in lengths) >= 20  # months of history for most


def test_enough_completed_cases_for_the_expected_response_and_some_not_on_track(clinic):
    closed = long_format(clinic, statuses=(Case.Status.CLOSED,))
    rated = closed.dropna(subset=["wellbeing"]).groupby("client_id").size()
    assert (rated >= MIN_SESSIONS).sum() >= MIN_CASES
    assert Case.objects.filter(client__clinic=clinic, status=Case.Status.DROPPED_OUT,
                               end_date__isnull=False).count() == demo.DROPPED_OUT_CASES
    model = fit_expected_response(closed, "client_id", "session", "wellbeing")
    active = long_format(clinic).dropna(subset=["wellbeing"])
    intake = active.groupby("client_id")["wellbeing"].transform("first")
    later = active["session"] > active.groupby("client_id")["session"].transform("min")
    off = model.not_on_track(intake[later].to_numpy(), active.loc[later, "session"].to_numpy(),
                             active.loc[later, "wellbeing"].to_numpy())
    assert active.loc[later, "client_id"][off].nunique() >= 3


def test_every_stored_score_is_the_core_scoring_of_its_stored_answers(clinic):
    answered = Administration.objects.filter(session__case__client__clinic=clinic,
                                             submitted_at__isnull=False)
    assert answered.count() > 2500
    for a in answered.select_related("session"):
        instrument = instruments.get_instrument(a.instrument_id)
        assert a.scores == instruments.score(instrument, a.responses)
        assert set(a.responses) == {item.id for item in instrument.items}
        assert all(v in range(11) for v in a.responses.values())
        assert a.session.status == Session.Status.ATTENDED
    kinds = Counter(answered.values_list("instrument_id", "respondent"))
    assert set(kinds) == {(demo.CLIENT_FORM, "client"), ("wellbeing", "client"),
                          ("alliance-therapist", "therapist")}


def test_some_answers_carry_open_text_in_kind_words(clinic):
    texts = [a.answers["more_helpful"] for a in Administration.objects.filter(
        session__case__client__clinic=clinic, instrument_id=demo.CLIENT_FORM,
        submitted_at__isnull=False)]
    written = [t for t in texts if t]
    assert 0.05 < len(written) / len(texts) < 0.4
    assert len(set(written)) >= 25
    notes = Administration.objects.filter(session__case__client__clinic=clinic,
                                          instrument_id="alliance-therapist")
    assert any(a.answers["try_next"] for a in notes)


def test_active_cases_whose_first_check_in_was_answered_have_an_intake(clinic):
    from alliance.web.intake.models import Intake

    intakes = Intake.objects.filter(case__client__clinic=clinic)
    assert intakes.count() >= 10
    assert set(intakes.values_list("case__status", flat=True)) == {"active"}
    assert set(intakes.values_list("session__number", flat=True)) == {1}
    assert {i.structure for i in intakes} >= {"structure", "explore"}
    assert any(i.culture for i in intakes) and any(not i.focus for i in intakes)


def test_recent_sessions_have_pending_links_that_open_the_form(seeded, client):
    assert len(seeded.pending_tokens) == demo.PENDING_LINKS
    for token in seeded.pending_tokens:
        page = client.get(reverse("checkins:form", args=[token]))
        assert page.status_code == 200
        html = page.content.decode()
        # One page for the session: the short alliance check-in and the wellbeing one.
        assert "Is there anything that would make our sessions more helpful for you?" in html
        assert "How life has been going" in html
    pending = Administration.objects.filter(session__case__client__clinic=seeded.clinic,
                                            submitted_at__isnull=True,
                                            links__expires_at__gt=dt.datetime.now(dt.UTC))
    assert pending.filter(instrument_id=demo.CLIENT_FORM).count() == demo.PENDING_LINKS
    assert {a.session.case.status for a in pending} == {"active"}


def test_unanswered_checkins_were_sent_and_have_expired(clinic):
    unanswered = Administration.objects.filter(
        session__case__client__clinic=clinic, submitted_at__isnull=True,
        session__date__lt=TODAY - dt.timedelta(days=7))
    assert unanswered.count() > 20
    for a in unanswered.prefetch_related("links"):
        assert [link.state() for link in a.links.all()] == ["expired"]


def test_the_printed_checkin_link_is_for_the_first_therapist_and_opens(clinic, client):
    issued = demo.checkin_link(clinic, today=TODAY)
    assert issued.administration.session.case.therapist.user.email == demo.THERAPIST_EMAILS[0]
    assert client.get(issued.path).status_code == 200
    # Once answered, the next call finds another open check-in or records today's session.
    answers = {item.id: 7 for item in instruments.get_instrument(demo.CLIENT_FORM).items}
    assert client.post(issued.path, checkin_post(answers)).status_code == 302
    again = demo.checkin_link(clinic, today=TODAY)
    assert again.administration.pk != issued.administration.pk
    assert client.get(again.path).status_code == 200


def test_active_cases_hold_ruptures_repaired_and_unresolved(clinic):
    frame = long_format(clinic).dropna(subset=["alliance"])
    result = detect_ruptures(frame["client_id"].to_numpy(), frame["session"].to_numpy(),
                             frame["alliance"].to_numpy(), rule=clinic.rupture_rule)
    states = result.counts()
    assert states["repaired"] >= 3 and states["unresolved"] >= 3


def test_signals_are_computed_with_ruptures_repaired_and_unresolved_and_cases_off_track(clinic):
    from alliance.web.monitoring.models import Signal

    signals = Signal.objects.filter(case__client__clinic=clinic)
    ruptures = Counter(signals.filter(type="rupture").values_list("repair_state", flat=True))
    assert ruptures["repaired"] >= 1 and ruptures["unresolved"] >= 1
    assert signals.filter(type="not_on_track").values("case").distinct().count() >= 3
    assert signals.filter(type="client_feedback").exists()
    assert signals.filter(type="discrepancy").exists()
    assert signals.filter(type="disengagement").exists()


def test_older_signals_were_worked_through_and_recent_ones_are_open(clinic):
    from alliance.web.monitoring.models import Signal

    signals = Signal.objects.filter(case__client__clinic=clinic)
    old = signals.filter(session__date__lt=TODAY - dt.timedelta(days=28))
    assert not old.filter(state="open").exists()
    assert old.filter(state="acknowledged").exists()
    for signal in old.filter(state="dismissed"):
        assert signal.dismiss_reason and signal.changed_by == signal.case.therapist
    recent = signals.filter(session__date__gte=TODAY - dt.timedelta(days=28))
    assert recent.filter(state="open").exists()
    attention = demo.attention_count(clinic)
    assert 5 <= attention <= 2 * demo.ACTIVE_CASES


def test_seeding_again_reuses_the_clinic_and_changes_nothing(seeded, db):
    before = (Client.objects.count(), Session.objects.count(), Administration.objects.count())
    again = demo.seed_demo("another password", today=TODAY + dt.timedelta(days=30))
    assert again.created is False and again.clinic.pk == seeded.clinic.pk
    assert (Client.objects.count(), Session.objects.count(),
            Administration.objects.count()) == before
    assert demo.password_matches(PASSWORD)
    assert again.client_logins == seeded.client_logins


def test_the_portal_is_on_and_two_clients_have_an_account_with_the_demo_password(seeded, db):
    from alliance.web.goals.models import Goal, Task
    from alliance.web.portal import services as portal
    from alliance.web.portal.models import ClientAccount

    clinic = seeded.clinic
    assert clinic.client_portal_enabled
    accounts = sorted(ClientAccount.objects.filter(client__clinic=clinic).select_related(
        "user", "client"), key=lambda a: demo.CLIENT_EMAILS.index(a.client.contact_email))
    assert [a.client.contact_email for a in accounts] == list(demo.CLIENT_EMAILS)
    assert [login.email for login in seeded.client_logins] == list(demo.CLIENT_EMAILS)
    for account, login in zip(accounts, seeded.client_logins):
        user = account.user
        assert not user.is_staff and not user.is_superuser and user.username.startswith("client-")
        assert not StaffMember.objects.filter(user=user).exists()
        # Signed in the way the portal's sign-in page does it: contact address and password.
        assert portal.authenticate_client(account.client.contact_email, PASSWORD) == account
        assert login.role == "client" and account.client.code in login.name
        case = account.client.cases.get()
        assert case.is_active and case.therapist.user.username == demo.THERAPIST_EMAILS[0]
    first, second = (a.client.cases.get() for a in accounts)
    # Something to do in the portal: a goal the therapist suggested, a task running.
    assert Goal.objects.filter(case=first, status="proposed", client_confirmed_at=None,
                               therapist_confirmed_at__isnull=False).exists()
    assert Task.objects.filter(goal__case=second, status="active",
                               client_confirmed_at__isnull=False,
                               therapist_confirmed_at__isnull=False).exists()
    # Staff logins are not client addresses, and seeding the accounts again adds none.
    assert not set(demo.CLIENT_EMAILS) & {login.email for login in demo.LOGINS}
    assert demo.seed_portal_accounts(clinic, "another password") == []
    assert ClientAccount.objects.filter(client__clinic=clinic).count() == 2


def test_a_demo_client_signs_in_to_the_portal_and_its_pages_show(seeded, client):
    response = client.post(reverse("portal:sign_in"), {
        "method": "password", "password-email": demo.CLIENT_EMAILS[0],
        "password-password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    for name in ("portal:home", "portal:goals", "portal:progress", "portal:feedback"):
        assert client.get(reverse(name)).status_code == 200, name
    # The first demo client has a goal to agree to among the next steps.
    assert "Your therapist suggested a goal" in client.get(
        reverse("portal:home")).content.decode()
    # A client is kept out of the staff pages.
    assert client.get("/cases/").status_code == 403


def test_every_page_a_demo_login_reaches_shows_without_error(clinic, client):
    """What a visitor clicks through: each role's pages, every case of the first therapist."""
    def member(email):
        return StaffMember.objects.get(user__username=email)

    pages = {demo.ADMIN_EMAIL: ["/", "/clinic/staff/", "/clinic/settings/"],
             demo.LOGINS[1].email: ["/", "/cases/", "/supervision/"],
             demo.THERAPIST_EMAILS[0]: ["/", "/cases/"]}
    therapist = member(demo.THERAPIST_EMAILS[0])
    for k, case in enumerate(Case.objects.filter(therapist=therapist).order_by("pk")):
        last = case.sessions.order_by("-number").first()
        pages[therapist.user.email] += [reverse("care:case", args=[case.pk]),
                                        reverse("care:session", args=[case.pk, last.number])]
        if k < 2:  # drawing charts takes a while; their code has its own tests
            pages[therapist.user.email] += [reverse("care:alliance_chart", args=[case.pk]),
                                            reverse("care:wellbeing_chart", args=[case.pk])]
    for email, paths in pages.items():
        client.force_login(member(email).user)
        for path in paths:
            response = client.get(path, follow=True)
            assert response.status_code == 200, (email, path)


def test_spread_gives_whole_numbers_with_the_simulated_mean():
    import random

    rng = random.Random(1)
    for mean in np.arange(0, 10.01, 0.25):
        values = demo._spread(mean, ("a", "b", "c", "d"), rng)
        assert all(v in range(11) for v in values.values())
        assert np.mean(list(values.values())) == pytest.approx(mean, abs=1e-12)


# --- the command ---------------------------------------------------------------------------

def test_demo_help_has_an_example():
    result = CliRunner().invoke(cli, ["demo", "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "alliance demo" in result.output


def test_the_demo_answers_on_localhost_and_names_other_hosts_it_is_reached_at(tmp_path,
                                                                            monkeypatch):
    monkeypatch.delenv("ALLIANCE_ALLOWED_HOSTS", raising=False)
    local = demo_environment(tmp_path, "127.0.0.1", 8000)
    assert local["ALLIANCE_ALLOWED_HOSTS"] == "localhost,127.0.0.1,[::1]"
    assert local["ALLIANCE_BASE_URL"] == "http://localhost:8000"
    assert local["ALLIANCE_HTTPS"] == "false" and local["ALLIANCE_DEBUG"] == "false"
    assert demo_environment(tmp_path, "192.168.1.20", 80)["ALLIANCE_ALLOWED_HOSTS"].endswith(
        ",192.168.1.20")
    assert demo_environment(tmp_path, "0.0.0.0", 80)["ALLIANCE_ALLOWED_HOSTS"] == \
        "localhost,127.0.0.1,[::1]"
    # The key is made once and kept, readable by the owner only.
    key = (tmp_path / "demo-secret-key")
    assert key.read_text().strip() == local["ALLIANCE_SECRET_KEY"]
    assert len(local["ALLIANCE_SECRET_KEY"]) >= 50 and key.stat().st_mode & 0o077 == 0
    assert demo_environment(tmp_path, "::1", 80)["ALLIANCE_SECRET_KEY"] == \
        local["ALLIANCE_SECRET_KEY"]


def test_a_data_folder_that_cannot_be_written_is_a_one_line_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    # The command edits the environment: let monkeypatch restore it afterwards.
    monkeypatch.setenv("DATABASE_URL", os.environ.get("DATABASE_URL", ""))
    monkeypatch.setenv("ALLIANCE_DATA_DIR", str(blocker))
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 1
    assert f"cannot use the data folder {blocker / 'var'}" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_alliance_demo_seeds_serves_and_the_therapist_signs_in_to_the_caseload(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALLIANCE_", "DJANGO_", "DATABASE_URL"))}
    env["ALLIANCE_DATA_DIR"] = str(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-c", "from alliance.cli.main import cli; cli()", "demo",
         "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    try:
        # Read what it prints until gunicorn's worker is up (a blocking read: no sleeping).
        seen = []
        for line in server.stdout:
            seen.append(line)
            if "Booting worker" in line:
                break
        else:
            raise AssertionError("the demo did not start:\n" + "".join(seen))
        output = "".join(seen)
        password = re.search(r"Password \(every login\): (\S+)", output).group(1)
        link = re.search(r"http://localhost:\d+(/c/[\w-]+/)", output).group(1)
        assert "therapist@demo.alliance" in output and "admin@demo.alliance" in output
        assert "client@demo.alliance" in output and "/portal/sign-in/" in output
        assert (tmp_path / "var" / "alliance.sqlite3").exists()

        base = f"http://127.0.0.1:{port}"
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login = browser.open(f"{base}/login/", timeout=90).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
        form = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "password": password,
                                       "username": "therapist@demo.alliance"}).encode()
        request = urllib.request.Request(f"{base}/login/", data=form,
                                         headers={"Referer": f"{base}/login/"})
        with browser.open(request, timeout=90) as page:   # follows to the caseload
            assert page.status == 200
            assert page.url.endswith("/cases/")
            assert re.search(r"C-[A-Z2-9]{5}", page.read().decode())
        with urllib.request.urlopen(base + link, timeout=90) as page:
            assert page.status == 200
    finally:
        # `alliance demo` becomes gunicorn (exec), so this stops the server itself.
        server.terminate()
        server.wait(timeout=90)
        server.stdout.close()


def test_at_most_a_third_of_the_clinics_active_cases_need_attention(clinic):
    shares = demo.attention_shares(clinic)
    assert len(shares) == len(demo.THERAPIST_EMAILS)
    needing = sum(n for n, _ in shares.values())
    active = sum(of for _, of in shares.values())
    assert active == demo.ACTIVE_CASES and 0 < 3 * needing <= active


def test_at_most_a_third_of_each_therapists_active_cases_need_attention(clinic):
    for name, (needing, active) in demo.attention_shares(clinic).items():
        assert active and 3 * needing <= active, f"{name}: {needing} of {active}"

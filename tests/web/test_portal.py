"""The client portal: accounts, sign-in, the client's pages, feedback and scoping.

Clients: `account` is the client of the therapist's case (C-AAAA1, client@example.org);
`other_account` a second client of the same therapist, so that only the portal's own
scoping keeps them apart.
"""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import timedelta

import pytest
from dashboard_data import add_sessions
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from alliance.web.care import services as care
from alliance.web.goals import services as goals
from alliance.web.goals.models import Goal, TaskReport
from alliance.web.monitoring import queries, recompute
from alliance.web.monitoring.models import Signal
from alliance.web.portal import services
from alliance.web.portal.models import ClientAccount, ClientFeedback, SignInLink

NEW_PASSWORD = "a quiet walk by the river"


@pytest.fixture
def portal_on(clinic):
    clinic.client_portal_enabled = True
    clinic.save()
    return clinic


@pytest.fixture
def account(portal_on, case, therapist):
    account = services.invite(case, by=therapist)
    mail.outbox.clear()
    return account


@pytest.fixture
def other_case(therapist, open_case):
    return open_case(therapist, "C-OTHER", email="other@example.org")


@pytest.fixture
def other_account(portal_on, other_case, therapist):
    account = services.invite(other_case, by=therapist)
    mail.outbox.clear()
    return account


def as_client(client, account):
    client.force_login(account.user)
    return client


def link_in(message) -> str:
    return re.search(r"http://testserver(/\S+)", message.body).group(1)


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[1]


def ask_for_link(client, email):
    return client.post(reverse("portal:sign_in"), {"method": "link", "link-email": email})


# --------------------------------------------------------------------------- accounts

def test_inviting_creates_a_client_user_without_staff_rights_or_a_usable_password(
        portal_on, case, therapist):
    account = services.invite(case, by=therapist)
    user = account.user
    assert account.client == case.client
    assert not user.is_staff and not user.is_superuser and user.is_active
    assert not user.has_usable_password()
    assert "@" not in user.username  # can never collide with a staff login (an e-mail)
    [message] = mail.outbox
    assert message.to == ["client@example.org"]
    assert "/portal/welcome/" in message.body and "/portal/sign-in/" in message.body
    assert portal_on.name not in message.body  # nothing identifying in the e-mail


def test_the_therapist_invites_from_the_case_page(login, therapist, portal_on, case):
    client = login(therapist)
    page = client.get(reverse("care:case", args=[case.pk])).content.decode()
    assert "Invite to the client portal" in page
    response = client.post(reverse("portal:invite", args=[case.pk]))
    assert response.status_code == 302
    assert ClientAccount.objects.filter(client=case.client).exists()
    assert len(mail.outbox) == 1
    page = client.get(reverse("care:case", args=[case.pk])).content.decode()
    assert "not signed in yet" in page and "Send the invitation again" in page


def test_no_invitation_while_the_portal_is_off(login, therapist, clinic, case):
    client = login(therapist)
    page = client.get(reverse("care:case", args=[case.pk])).content.decode()
    assert "Invite to the client portal" not in page
    client.post(reverse("portal:invite", args=[case.pk]))
    assert not ClientAccount.objects.exists() and not mail.outbox


def test_no_invitation_without_a_contact_email(login, therapist, portal_on, open_case):
    case = open_case(therapist, "C-NOMAIL")
    client = login(therapist)
    page = client.get(reverse("care:case", args=[case.pk])).content.decode()
    assert "no e-mail address on file" in page
    assert "Invite to the client portal" not in page
    with pytest.raises(services.PortalError):
        services.invite(case, by=therapist)
    assert not ClientAccount.objects.exists()


def test_only_the_cases_therapist_invites(portal_on, case, supervisor, other_therapist, login):
    assert login(supervisor).post(reverse("portal:invite", args=[case.pk])).status_code == 403
    assert (login(other_therapist).post(reverse("portal:invite", args=[case.pk])).status_code
            == 404)
    assert not ClientAccount.objects.exists()


def test_the_client_chooses_a_password_from_the_invitation_and_signs_in_with_it(
        portal_on, case, therapist, client):
    services.invite(case, by=therapist)
    path = link_in(mail.outbox[0])
    # Django's set-password view moves the token out of the URL first.
    response = client.get(path)
    assert response.status_code == 302
    form_url = response["Location"]
    response = client.post(form_url, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200 and "too short" in response.content.decode()
    response = client.post(form_url, {"new_password1": NEW_PASSWORD,
                                      "new_password2": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200
    # The invitation works once.
    client.post(reverse("portal:sign_out"))
    assert "no longer works" in client.get(path, follow=True).content.decode()
    # From now on the password signs in, with the contact address in any case.
    response = client.post(reverse("portal:sign_in"), {
        "method": "password", "password-email": "Client@Example.org",
        "password-password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(account, client):
    account.user.set_password(NEW_PASSWORD)
    account.user.save()
    answers = []
    for email, password in (("client@example.org", "not the password"),
                            ("nobody@example.org", NEW_PASSWORD)):
        response = client.post(reverse("portal:sign_in"), {
            "method": "password", "password-email": email, "password-password": password})
        answers.append((response.status_code, "do not match" in response.content.decode()))
    assert answers == [(400, True), (400, True)]


def test_five_wrong_portal_passwords_lock_that_address_and_e_mail_like_the_staff_sign_in(
        account, client):
    account.user.set_password(NEW_PASSWORD)
    account.user.save()

    def attempt(password, **extra):
        return client.post(reverse("portal:sign_in"), {
            "method": "password", "password-email": "client@example.org",
            "password-password": password}, **extra)

    statuses = [attempt("not the password").status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 400, 429]
    locked = attempt(NEW_PASSWORD)  # even the right password, for the lock-out's time
    assert locked.status_code == 429 and "paused" in locked.content.decode()
    assert not client.session.get("_auth_user_id")
    # The client, on their own phone at another address, still gets in.
    assert attempt(NEW_PASSWORD, REMOTE_ADDR="192.0.2.77").status_code == 302


def test_a_staff_members_invitation_token_does_not_work_in_the_portal(therapist, client):
    from alliance.web.clinics.services import set_password_path

    uid_token = set_password_path(therapist.user).split("/password/set/")[1]
    response = client.get(f"/portal/welcome/{uid_token}", follow=True)
    assert "no longer works" in response.content.decode()


def test_a_staff_login_does_not_sign_in_to_the_portal(therapist, portal_on, client):
    response = client.post(reverse("portal:sign_in"), {
        "method": "password", "password-email": therapist.user.email,
        "password-password": "a long test password"})
    assert response.status_code == 400


def test_the_client_can_choose_a_new_password_once_signed_in(account, client):
    as_client(client, account)
    response = client.post(reverse("portal:password"), {"new_password1": NEW_PASSWORD,
                                                       "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    account.user.refresh_from_db()
    assert account.user.check_password(NEW_PASSWORD)
    assert client.get(reverse("portal:home")).status_code == 200  # still signed in


# --------------------------------------------------------------------------- sign-in links

def test_a_sign_in_link_works_once(account, client):
    response = ask_for_link(client, "client@example.org")
    assert response.status_code == 302 and response["Location"] == reverse("portal:sign_in_sent")
    [message] = mail.outbox
    assert message.to == ["client@example.org"]
    path = link_in(message)
    # Opening shows a button and changes nothing (mail scanners open links too).
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200
    assert client.get(reverse("portal:home")).status_code == 302
    response = client.post(path)
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    assert client.get(reverse("portal:home")).status_code == 200
    client.post(reverse("portal:sign_out"))
    assert client.post(path).status_code == 410
    assert client.get(path).status_code == 410
    assert client.get(reverse("portal:home")).status_code == 302


def test_a_sign_in_link_is_random_hashed_and_short_lived(account, settings):
    before = timezone.now()
    assert services.request_sign_in_link("client@example.org") == 1
    token = token_of(link_in(mail.outbox[0]))
    assert len(token) >= 43  # secrets.token_urlsafe(32): 256 random bits
    [link] = SignInLink.objects.all()
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = [str(v) for v in SignInLink.objects.values_list().get()]
    assert not any(token in value for value in stored)
    assert link.expires_at - before <= timedelta(minutes=20)
    assert settings.PORTAL_SIGN_IN_LINK_MINUTES <= 20


def test_a_sign_in_link_expires(account, client):
    services.request_sign_in_link("client@example.org",
                                  now=timezone.now() - timedelta(minutes=21))
    path = link_in(mail.outbox[0])
    assert client.get(path).status_code == 410
    assert client.post(path).status_code == 410
    assert client.get(reverse("portal:home")).status_code == 302


def test_a_sign_in_link_is_consumed_by_one_conditional_update(account):
    services.request_sign_in_link("client@example.org")
    token = token_of(link_in(mail.outbox[0]))
    link = services.open_sign_in_link(token)
    # Another request used it between opening and consuming: this one must fail.
    SignInLink.objects.filter(pk=link.pk).update(used_at=timezone.now())
    with pytest.raises(services.LinkUsed):
        services.use_sign_in_link(token)
    assert SignInLink.objects.filter(used_at__isnull=False).count() == 1


def test_a_new_sign_in_link_replaces_the_previous_one(account, client):
    services.request_sign_in_link("client@example.org")
    services.request_sign_in_link("client@example.org")
    first, second = (link_in(m) for m in mail.outbox)
    assert client.post(first).status_code == 410
    assert client.post(second).status_code == 302


def test_asking_for_a_link_gives_the_same_answer_for_an_unknown_address(account, therapist,
                                                                        client):
    answers = []
    for email in ("client@example.org", "nobody@example.org", therapist.user.email):
        response = ask_for_link(client, email)
        answers.append((response.status_code, response["Location"]))
    assert answers == [(302, reverse("portal:sign_in_sent"))] * 3
    assert [m.to for m in mail.outbox] == [["client@example.org"]]


def test_a_tampered_or_made_up_token_answers_404(account, client):
    services.request_sign_in_link("client@example.org")
    path = link_in(mail.outbox[0])
    token = token_of(path)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, token[:20], token + "x" * 30, "made-up"):
        url = reverse("portal:sign_in_link", args=[bad])
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert client.get(reverse("portal:home")).status_code == 302
    assert client.post(path).status_code == 302  # the real one still works


def test_links_are_rate_limited_per_account_without_changing_the_answer(account, client):
    for _ in range(services.MAX_LINKS_PER_HOUR + 2):
        assert ask_for_link(client, "client@example.org")["Location"] == \
            reverse("portal:sign_in_sent")
    assert len(mail.outbox) == services.MAX_LINKS_PER_HOUR


def test_no_link_when_the_portal_is_off_or_access_was_removed(account, case, therapist,
                                                              portal_on, client):
    portal_on.client_portal_enabled = False
    portal_on.save()
    assert services.request_sign_in_link("client@example.org") == 0
    portal_on.client_portal_enabled = True
    portal_on.save()
    services.request_sign_in_link("client@example.org")
    path = link_in(mail.outbox[0])
    services.remove_access(case, by=therapist)
    assert client.post(path).status_code == 404  # the account no longer signs in
    assert not SignInLink.objects.live().exists()  # and its live links ended
    assert services.request_sign_in_link("client@example.org") == 0


# --------------------------------------------------------------------------- who sees what

PORTAL_PAGES = ("portal:home", "portal:goals", "portal:goal_new", "portal:feedback",
                "portal:progress", "portal:password")


def test_portal_pages_answer_404_when_the_clinics_portal_is_off(account, case, portal_on,
                                                                client):
    as_client(client, account)
    for name in PORTAL_PAGES:
        assert client.get(reverse(name)).status_code == 200, name
    portal_on.client_portal_enabled = False
    portal_on.save()
    for name in PORTAL_PAGES:
        assert client.get(reverse(name)).status_code == 404, name
    assert client.get(reverse("portal:wellbeing_chart", args=[case.pk])).status_code == 404


def test_anonymous_visitors_are_sent_to_the_portal_sign_in(client):
    response = client.get(reverse("portal:goals"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:sign_in") + "?next=")


@pytest.mark.parametrize("who", ["therapist", "supervisor", "admin"])
def test_staff_cannot_use_portal_pages(who, request, portal_on, account, login):
    client = login(request.getfixturevalue(who))
    for name in PORTAL_PAGES:
        assert client.get(reverse(name)).status_code == 403, name


def test_clients_cannot_use_staff_pages(account, case, client):
    as_client(client, account)
    for path in ("/cases/", f"/cases/{case.pk}/", f"/cases/{case.pk}/sessions/1/",
                 f"/cases/{case.pk}/charts/alliance.svg", "/clients/new/", "/clinic/staff/",
                 "/clinic/settings/", "/supervision/"):
        assert client.get(path).status_code == 403, path
    assert client.post(reverse("portal:invite", args=[case.pk])).status_code == 403
    # The start page sends a signed-in client to their own page.
    assert client.get("/")["Location"] == reverse("portal:home")


def test_removing_access_signs_the_client_out(account, case, therapist, login, client):
    as_client(client, account)
    assert client.get(reverse("portal:home")).status_code == 200
    services.remove_access(case, by=therapist)
    assert client.get(reverse("portal:home")).status_code == 302
    page = login(therapist).get(reverse("care:case", args=[case.pk])).content.decode()
    assert "Portal access was removed" in page and "Invite to the client portal" in page


def test_a_second_invitation_restores_access_after_removal(account, case, therapist):
    services.remove_access(case, by=therapist)
    again = services.invite(case, by=therapist)
    assert again.pk == account.pk and again.user.is_active
    assert len(mail.outbox) == 1


def test_a_client_with_a_password_is_not_invited_twice(account, case, therapist):
    account.user.set_password(NEW_PASSWORD)
    account.user.save()
    with pytest.raises(services.PortalError, match="already has access"):
        services.invite(case, by=therapist)


# --------------------------------------------------------------------------- feedback

def test_feedback_reaches_the_therapist_and_can_be_marked_discussed(
        account, case, therapist, login, client, after_commit):
    as_client(client, account)
    with after_commit():
        response = client.post(reverse("portal:feedback"),
                               {"text": "The homework felt like too much this week."})
    assert response.status_code == 302
    [feedback] = ClientFeedback.objects.all()
    assert feedback.case == case and feedback.account == account
    signal = Signal.objects.get(case=case, type="client_feedback", subject=f"portal:{feedback.pk}")
    assert signal.state == "open" and signal.session is None
    assert signal.data["text"] == "The homework felt like too much this week."
    # A comment to read, not a signal needing attention.
    assert queries.comment_counts([case.pk]) == {case.pk: 1}
    assert queries.attention_counts([case.pk], case.client.clinic) == {}

    staff = login(therapist)
    page = staff.get(reverse("care:case", args=[case.pk])).content.decode()
    assert "The homework felt like too much this week." in page
    assert "New comments" in page and "Mark as read" in page
    response = staff.post(reverse("portal:discussed", args=[case.pk, signal.pk]))
    assert response.status_code == 302
    signal.refresh_from_db()
    assert signal.state == "acknowledged" and signal.changed_by == therapist
    assert queries.comment_counts([case.pk]) == {}
    page = staff.get(reverse("care:case", args=[case.pk])).content.decode()
    assert "New comments" not in page

    # Recomputing keeps the item and its state; the client sees it was talked about.
    recompute.recompute_case_signals(case)
    signal.refresh_from_db()
    assert signal.state == "acknowledged"
    as_client(client, account)
    assert "Read by your therapist" in client.get(reverse("portal:feedback")).content.decode()


def test_an_open_check_in_answer_is_marked_discussed_the_same_way(case, therapist, login,
                                                                  after_commit):
    with after_commit():
        add_sessions_answer(case)
    signal = Signal.objects.get(case=case, type="client_feedback")
    assert signal.rule == "open_answer"
    login(therapist).post(reverse("portal:discussed", args=[case.pk, signal.pk]))
    signal.refresh_from_db()
    assert signal.state == "acknowledged"


def add_sessions_answer(case):
    from alliance.web.checkins import services as checkins

    issued = checkins.issue_link(case.sessions.get(number=1), "alliance-client",
                                 by=case.therapist)
    checkins.submit_link(issued.token, {"bond1": 8, "bond2": 8, "goals1": 7, "goals2": 7,
                                        "tasks1": 6, "tasks2": 6},
                         {"more_helpful": "Slower, please."})


def test_only_feedback_is_marked_discussed_and_only_by_the_cases_therapist(
        account, case, therapist, supervisor, other_therapist, login):
    feedback = services.leave_feedback(account, case, "Thank you for last week.")
    recompute.recompute_case_signals(case)
    signal = Signal.objects.get(subject=f"portal:{feedback.pk}")
    other = Signal.objects.create(case=case, type="low_alliance", subject="total",
                                  session=case.sessions.get(number=1), rule="percentile",
                                  explanation="Lower than usual.")
    url = reverse("portal:discussed", args=[case.pk, signal.pk])
    assert login(supervisor).post(url).status_code == 403
    assert login(other_therapist).post(url).status_code == 404
    assert login(therapist).get(url).status_code == 405
    assert (login(therapist).post(reverse("portal:discussed", args=[case.pk, other.pk]))
            .status_code == 404)
    signal.refresh_from_db()
    assert signal.state == "open"


def test_empty_feedback_is_refused_kindly(account, client):
    as_client(client, account)
    response = client.post(reverse("portal:feedback"), {"text": "   "})
    assert response.status_code == 400
    assert not ClientFeedback.objects.exists()


def test_a_client_sees_only_their_own_feedback(account, other_account, case, other_case,
                                               client):
    services.leave_feedback(account, case, "Mine: the breathing exercise helps.")
    services.leave_feedback(other_account, other_case, "Theirs: please start on time.")
    as_client(client, account)
    for name in ("portal:home", "portal:feedback"):
        page = client.get(reverse(name)).content.decode()
        assert "the breathing exercise helps" in page
        assert "please start on time" not in page
    with pytest.raises(services.PortalError):
        services.leave_feedback(account, other_case, "Writing into another case.")


# --------------------------------------------------------------------------- progress

def rated(case, rows=3):
    add_sessions_rows = [{"alliance": (8, 7, 6), "therapist": (9, 9, 9), "wellbeing": 4.0 + i}
                         for i in range(rows)]
    case.sessions.all().delete()
    add_sessions(case, add_sessions_rows)


def test_the_progress_page_shows_wellbeing_and_hides_alliance_scores_by_default(
        account, case, client):
    rated(case)
    as_client(client, account)
    page = client.get(reverse("portal:progress")).content.decode()
    assert "you rated how life is going 6.0 out of 10" in page
    assert reverse("portal:wellbeing_chart", args=[case.pk]) in page
    assert reverse("portal:alliance_chart", args=[case.pk]) not in page
    assert "How the work with your therapist is going" not in page
    svg = client.get(reverse("portal:wellbeing_chart", args=[case.pk]))
    assert svg.status_code == 200 and svg["Content-Type"].startswith("image/svg+xml")
    assert svg["Cache-Control"] == "private, no-store"
    assert 'id="series-wellbeing"' in svg.content.decode()
    assert 'id="expected-range"' not in svg.content.decode()
    assert client.get(reverse("portal:alliance_chart", args=[case.pk])).status_code == 404


def test_alliance_scores_are_shown_when_the_clinic_allows_it(account, case, portal_on, client):
    portal_on.clients_see_alliance_scores = True
    portal_on.save()
    rated(case)
    as_client(client, account)
    page = client.get(reverse("portal:progress")).content.decode()
    assert "How the work with your therapist is going" in page
    assert "you rated how the work with your therapist is going 7.0 out of 10" in page
    svg = client.get(reverse("portal:alliance_chart", args=[case.pk])).content.decode()
    assert 'id="series-alliance"' in svg and 'id="series-bond"' in svg
    # The therapist's own rating is never part of the client's chart.
    assert 'id="series-therapist"' not in svg


def test_a_client_cannot_open_another_clients_chart(account, other_account, other_case,
                                                    portal_on, client):
    portal_on.clients_see_alliance_scores = True
    portal_on.save()
    as_client(client, account)
    for name in ("portal:wellbeing_chart", "portal:alliance_chart"):
        assert client.get(reverse(name, args=[other_case.pk])).status_code == 404
        assert client.get(reverse(name, args=[987654])).status_code == 404


def test_the_portal_pages_pass_the_security_headers_and_have_no_inline_code(account, client):
    as_client(client, account)
    for name in PORTAL_PAGES:
        response = client.get(reverse(name))
        html = response.content.decode()
        assert "Content-Security-Policy" in response.headers
        assert "<script>" not in html and " style=" not in html and " onclick=" not in html


def test_the_sign_in_pages_work_for_anonymous_visitors(client):
    for name in ("portal:sign_in", "portal:sign_in_sent"):
        assert client.get(reverse(name)).status_code == 200


# --------------------------------------------------------------------------- goals and tasks

def test_a_client_proposes_a_goal_in_their_own_words_and_the_therapist_agrees(
        account, case, therapist, client):
    as_client(client, account)
    response = client.post(reverse("portal:goal_new"),
                           {"text": "Sleep through the night more often"})
    assert response.status_code == 302
    [goal] = Goal.objects.filter(case=case)
    assert goal.text == "Sleep through the night more often"
    assert goal.proposed_by == "client" and goal.proposed_by_client == case.client
    assert goal.client_confirmed and not goal.therapist_confirmed
    page = client.get(reverse("portal:goals")).content.decode()
    assert "Your suggestion" in page
    goals.confirm_goal(goal, by=therapist)
    page = client.get(reverse("portal:goals")).content.decode()
    assert "Agreed by you both" in page


def test_a_client_confirms_a_goal_the_therapist_proposed(account, case, therapist, client):
    goal = goals.propose_goal(case, "Feel less tense at work", by=therapist)
    as_client(client, account)
    home = client.get(reverse("portal:home")).content.decode()
    assert "Your therapist suggested a goal: “Feel less tense at work”" in home
    response = client.post(reverse("portal:goal_confirm", args=[goal.pk]))
    assert response.status_code == 302
    goal.refresh_from_db()
    assert goal.status == "agreed" and goal.client_confirmed
    event = goal.events.get(kind="confirmed")
    assert event.side == "client" and event.by_client == case.client
    # A second confirmation changes nothing and says so kindly.
    response = client.post(reverse("portal:goal_confirm", args=[goal.pk]), follow=True)
    assert "already agreed by both of you" in response.content.decode()
    assert "Nothing is waiting for you" in client.get(reverse("portal:home")).content.decode()


def agreed_goal_with_task(case, therapist):
    goal = goals.propose_goal(case, "Feel calmer in the evenings", by=therapist)
    goals.confirm_goal(goal, by=case.client)
    task = goals.propose_task(goal, "Ten minutes of slow breathing", how_often="every evening",
                              by=therapist)
    return goal, task


def test_a_client_agrees_to_a_task_and_reports_on_it(account, case, therapist, client):
    _, task = agreed_goal_with_task(case, therapist)
    as_client(client, account)
    assert client.get(reverse("portal:task_report", args=[task.pk])).status_code == 200
    # Not agreed by the client yet: no report.
    response = client.post(reverse("portal:task_report", args=[task.pk]),
                           {"done": "done", "helpful": "7"})
    assert response.status_code == 400 and not TaskReport.objects.exists()
    assert client.post(reverse("portal:task_confirm", args=[task.pk])).status_code == 302
    task.refresh_from_db()
    assert task.both_confirmed
    # Done without saying how helpful: asked again, nothing stored.
    response = client.post(reverse("portal:task_report", args=[task.pk]), {"done": "partly"})
    assert response.status_code == 400 and "how helpful" in response.content.decode()
    response = client.post(reverse("portal:task_report", args=[task.pk]),
                           {"done": "partly", "helpful": "6"})
    assert response.status_code == 302
    report = TaskReport.objects.get()
    assert (report.done, report.helpful, report.side, report.by_client) == \
        ("partly", 6, "client", case.client)
    client.post(reverse("portal:task_report", args=[task.pk]), {"done": "not_done"})
    assert TaskReport.objects.latest("pk").helpful is None
    page = client.get(reverse("portal:goals")).content.decode()
    assert "Last time you said: not done" in page


def test_one_client_cannot_see_or_change_another_clients_goals_or_tasks(
        account, other_account, other_case, therapist, client):
    goal = goals.propose_goal(other_case, "Their goal, not mine", by=therapist)
    _, task = agreed_goal_with_task(other_case, therapist)
    goals.confirm_task(task, by=other_case.client)
    waiting = goals.propose_task(goal, "Their task", by=therapist)
    as_client(client, account)
    for name, pk in (("portal:goal_confirm", goal.pk), ("portal:task_confirm", waiting.pk),
                     ("portal:task_report", task.pk)):
        assert client.post(reverse(name, args=[pk]), {"done": "done", "helpful": "5"}) \
            .status_code == 404, name
    assert client.get(reverse("portal:task_report", args=[task.pk])).status_code == 404
    for name in ("portal:home", "portal:goals"):
        page = client.get(reverse(name)).content.decode()
        assert "Their goal" not in page and "slow breathing" not in page
    goal.refresh_from_db()
    waiting.refresh_from_db()
    assert not goal.client_confirmed and not waiting.client_confirmed
    assert not TaskReport.objects.exists()


def test_a_goal_is_not_proposed_for_an_ended_case(account, case, client):
    care.end_case(case, status="closed", end_date=case.start_date)
    as_client(client, account)
    assert client.get(reverse("portal:goal_new")).status_code == 404
    assert "Suggest a goal" not in client.get(reverse("portal:goals")).content.decode()


@pytest.mark.django_db(transaction=True)
def test_of_concurrent_uses_of_one_sign_in_link_exactly_one_signs_in(therapist, clinic,
                                                                     open_case, monkeypatch):
    clinic.client_portal_enabled = True
    clinic.save()
    case = open_case(therapist, "C-RACE2", email="race@example.org")
    services.invite(case, by=therapist)
    services.request_sign_in_link("race@example.org")
    token = token_of(link_in(mail.outbox[-1]))
    contenders = 4
    # Every thread finds the link live before any consumes it: the race is on the UPDATE.
    all_read = threading.Barrier(contenders, timeout=30)
    real_open = services.open_sign_in_link

    def open_then_wait(token, now=None):
        link = real_open(token, now)
        all_read.wait()
        return link

    monkeypatch.setattr(services, "open_sign_in_link", open_then_wait)
    outcomes: list[str] = []

    def use():
        try:
            services.use_sign_in_link(token)
            outcomes.append("signed in")
        except services.LinkUsed:
            outcomes.append("refused")
        except Exception as exc:  # noqa: BLE001 - any other outcome fails the test below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=use) for _ in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["refused"] * (contenders - 1) + ["signed in"], outcomes


def test_the_client_sees_every_task_with_the_goal_it_serves(account, case, therapist, client):
    goal, task = agreed_goal_with_task(case, therapist)
    as_client(client, account)
    towards = f"Towards your goal: {goal.text}"
    home = client.get(reverse("portal:home")).content.decode()
    assert task.what in home and towards in home  # waiting for the client's agreement
    assert towards in client.get(reverse("portal:task_report", args=[task.pk])).content.decode()
    client.post(reverse("portal:task_confirm", args=[task.pk]))
    home = client.get(reverse("portal:home")).content.decode()
    assert f"How is “{task.what}” going?" in home and towards in home
    goals = client.get(reverse("portal:goals")).content.decode()
    # On the goals page each task sits inside its goal's entry.
    entry = goals[goals.index(f'id="goal-{goal.pk}"'):]
    assert f'id="task-{task.pk}"' in entry[:entry.index('class="portal-goal ') if
                                           'class="portal-goal ' in entry else len(entry)]


def test_one_view_of_the_progress_page_is_one_read_in_the_audit_trail(account, case,
                                                                      portal_on, client):
    from alliance.web.audit.models import Event

    portal_on.clients_see_alliance_scores = True
    portal_on.save()
    rated(case)
    as_client(client, account)
    before = Event.objects.filter(action="read").count()
    assert client.get(reverse("portal:progress")).status_code == 200
    for name in ("portal:wellbeing_chart", "portal:alliance_chart"):
        assert client.get(reverse(name, args=[case.pk])).status_code == 200
    reads = Event.objects.filter(action="read").order_by("id")[before:]
    assert [e.detail for e in reads] == ["portal: progress"]

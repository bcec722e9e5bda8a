"""Role × URL access matrix, generated from the URL configuration.

Every named URL in the project must have a row in MATRIX: a new URL without an expectation
fails `test_every_url_has_a_row_in_the_matrix`. Each row says how to build the URL (for the
records of `therapist` in clinic Riverside), the method, and the status each role gets.

Roles: anonymous; therapist (owns the case); other_therapist (same clinic); supervisor
(supervises therapist); admin (same clinic); other_admin (another clinic); portal_client
(the case's client, signed in to the client portal); other_portal_client (another client of
the same therapist). Staff pages reject client accounts (403) and portal pages reject staff
(403); one client's records answer 404 to another client.

Derived columns (EXPECTED_BY_RULE): rows need not name these roles; their expectation follows
from a rule over the row's other cells, and a row may still name one to override the rule.
- deactivated: a former supervisor of `therapist` whose account was deactivated. Django
  does not authenticate an inactive user, so they are treated exactly as `anonymous`.
- other_clinic_therapist: a therapist of clinic Hillside. Every record of Riverside is out
  of their scope and every page is their own clinic's, so they get what `other_therapist`
  (a therapist who does not treat the case) gets.
- other_supervisor: a supervisor in Riverside who supervises `other_therapist`, not
  `therapist`. A record hidden from `other_therapist` (404) is hidden from them too;
  elsewhere they get what the supervisor gets (the same role).
- pending_2fa: `therapist`, signed in with the password but without the second factor,
  with the second factor required (STAFF_2FA on for this column). Every page sends them to
  the two-factor step (TWO_FACTOR), except the pages of that step and signing out
  (BEFORE_SECOND_FACTOR), which they get as the therapist does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core import mail
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from alliance.web.clinics import services as clinic_services
from alliance.web.goals import services as goals
from alliance.web.interop import exports, research
from alliance.web.portal import services as portal_services

# Roles that change something (the therapist, the admin) come after those whose access
# they could affect; the derived roles are only refused, so they come first.
WRITTEN_ROLES = ("anonymous", "therapist", "other_therapist", "supervisor", "admin",
                 "other_admin", "portal_client", "other_portal_client")
DERIVED_ROLES = ("deactivated", "other_clinic_therapist", "other_supervisor", "pending_2fa")
ROLES = (WRITTEN_ROLES[0], *DERIVED_ROLES, *WRITTEN_ROLES[1:])
CLIENT_ROLES = ("portal_client", "other_portal_client")
LOGIN = "login"  # a redirect to the login page
PORTAL_LOGIN = "portal_login"  # a redirect to the client portal's sign-in page
TWO_FACTOR = "two_factor"  # a redirect to setting up or entering the second factor
# What staff who passed the password but not the second factor may still open.
BEFORE_SECOND_FACTOR = {"accounts:two_factor_setup", "accounts:two_factor_verify",
                        "accounts:reauth", "logout"}


# The derived columns: role -> rule over the row's own expectations and the URL's name
# (see the docstring).
EXPECTED_BY_RULE: dict[str, Callable[[dict, str], int | str]] = {
    "deactivated": lambda expect, name: expectation(expect, "anonymous"),
    "other_clinic_therapist": lambda expect, name: expectation(expect, "other_therapist"),
    "other_supervisor": lambda expect, name: (
        404 if expectation(expect, "other_therapist") == 404
        else expectation(expect, "supervisor")),
    "pending_2fa": lambda expect, name: (
        expectation(expect, "therapist") if name in BEFORE_SECOND_FACTOR else TWO_FACTOR),
}


def expectation(expect: dict, role: str, name: str = "") -> int | str:
    """The status (or LOGIN / PORTAL_LOGIN / TWO_FACTOR) the row of URL `name` expects for
    `role`."""
    if role in expect:
        return expect[role]
    if role in EXPECTED_BY_RULE:
        return EXPECTED_BY_RULE[role](expect, name)
    # Rows written for staff only: a client account gets the staff pages' 403.
    if role in CLIENT_ROLES:
        return 403
    raise KeyError(f"no expectation for {role}")


@dataclass(frozen=True)
class Row:
    url: Callable  # (world) -> path
    expect: dict[str, int | str]
    method: str = "get"
    data: dict = field(default_factory=dict)


def everyone(status):
    return dict.fromkeys(WRITTEN_ROLES, status)


def signed_in(status, anonymous=LOGIN):
    return {**dict.fromkeys(WRITTEN_ROLES, status), "anonymous": anonymous}


# Client records: the case's own therapist may act; the supervisor may read (403 on
# changes); everybody else gets 404, as if the record did not exist. A client account
# is not staff: the page is not for it (403).
def record(owner, supervisor, others=404):
    return {"anonymous": LOGIN, "therapist": owner, "supervisor": supervisor,
            "other_therapist": others, "admin": others, "other_admin": others,
            "portal_client": 403, "other_portal_client": 403}


# Client portal pages: clients only (staff get 403), anonymous visitors go to the portal's
# sign-in page. `mine`: the signed-in client's own record; `theirs`: another client's
# record shown to `other_portal_client` (404, as if it did not exist).
def portal(mine=200, theirs=None):
    return {**dict.fromkeys(WRITTEN_ROLES, 403), "anonymous": PORTAL_LOGIN, "portal_client": mine,
            "other_portal_client": mine if theirs is None else theirs}


# Pages for people who carry cases (not records: a wrong role gets a plain 403).
TREATING = {"anonymous": LOGIN, "therapist": 200, "other_therapist": 200, "supervisor": 200,
            "admin": 403, "other_admin": 403, "portal_client": 403, "other_portal_client": 403}
# Pages about the signed-in staff member themselves.
ANY_STAFF = {"anonymous": LOGIN, "therapist": 200, "other_therapist": 200, "supervisor": 200,
             "admin": 200, "other_admin": 200, "portal_client": 403, "other_portal_client": 403}
# Administration pages of one's own clinic.
ADMIN_PAGE = {"anonymous": LOGIN, "therapist": 403, "other_therapist": 403, "supervisor": 403,
              "admin": 200, "other_admin": 200, "portal_client": 403,
              "other_portal_client": 403}


# A staff record of clinic Riverside: its admin may act, another clinic's admin gets 404.
def staff_record(status):
    return {"anonymous": LOGIN, "therapist": 403, "other_therapist": 403, "supervisor": 403,
            "admin": status, "other_admin": 404, "portal_client": 403,
            "other_portal_client": 403}


def case_url(name, *extra):
    return lambda w: reverse(f"care:{name}", args=[w.case.pk, *extra])


def signal_url(name):
    """A signal of the therapist's case (created on first use, shared by every role)."""
    def build(w):
        from alliance.web.monitoring.models import Signal
        signal, _ = Signal.objects.get_or_create(
            case=w.case, type="client_feedback", subject="alliance-client:more_helpful",
            session=w.case.sessions.get(number=1),
            defaults={"rule": "open_answer", "explanation": "The client wrote something."})
        return reverse(f"monitoring:{name}", args=[w.case.pk, signal.pk])
    return build


def rupture_url(name):
    """A rupture signal of the therapist's case at session 1 (created on first use)."""
    def build(w):
        from alliance.web.monitoring.models import Signal
        signal, _ = Signal.objects.get_or_create(
            case=w.case, type="rupture", subject="total", session=w.case.sessions.get(number=1),
            defaults={"rule": "sd1", "repair_state": "pending",
                      "explanation": "Alliance dropped from 8.0 to 5.0 at session 1."})
        return reverse(f"monitoring:{name}", args=[w.case.pk, signal.pk])
    return build


def risk_alert_url(w):
    """A risk alert on the therapist's case at session 1 (created on first use; marked, so
    that nobody is told)."""
    from alliance.web.monitoring.models import Signal
    from alliance.web.safety.models import RiskAlert

    signal, _ = Signal.objects.get_or_create(
        case=w.case, type="risk", subject="safety-question",
        session=w.case.sessions.get(number=1),
        defaults={"rule": "risk_item", "explanation": "An answer at a risk threshold."})
    alert, _ = RiskAlert.objects.get_or_create(
        signal=signal, defaults={"clinic": w.case.client.clinic, "reason": "answer",
                                 "raised_at": timezone.now(), "notify": False})
    return reverse("safety:alert", args=[alert.pk])


def portal_url(name, record=None):
    """A portal URL, with the id of the world's `record` ("case", "goal", "task") if any."""
    return lambda w: reverse(f"portal:{name}",
                             args=[getattr(w, record).pk] if record else [])


def feedback_signal_url(w):
    signal_path = signal_url("acknowledge")(w)
    signal_pk = signal_path.rstrip("/").split("/")[-2]
    return reverse("portal:discussed", args=[w.case.pk, signal_pk])


def goal_url(name, task=False):
    """An agreed goal (or a task waiting for the client) of the therapist's case, created on
    first use and shared by every role."""
    def build(w):
        from alliance.web.goals import services as goal_services
        from alliance.web.goals.models import Goal

        goal = Goal.objects.filter(case=w.case).first()
        if goal is None:
            goal = goal_services.propose_goal(w.case, "Sleep through most nights",
                                              by=w.therapist)
            goal_services.confirm_goal(goal, by=w.case.client)
            goal_services.propose_task(goal, "Phone away at 10 pm", by=w.therapist)
        target = goal.tasks.first() if task else goal
        return reverse(f"goals:{name}", args=[w.case.pk, target.pk])
    return build


def focus_url(name):
    """The therapist's practice focus: none before each start (one may start per day), a
    fresh one before each end, so every role's request meets the same state."""
    def build(w):
        from alliance.web.practice.models import PracticeFocus

        PracticeFocus.objects.filter(therapist=w.therapist).delete()
        if name == "start_focus":
            return reverse("practice:start_focus", args=[w.therapist.pk])
        focus = PracticeFocus.objects.create(
            clinic_id=w.therapist.clinic_id, therapist=w.therapist, skill="inviting_feedback",
            started_on=timezone.localdate(), created_by=w.therapist)
        return reverse("practice:end_focus", args=[w.therapist.pk, focus.pk])
    return build


def api_token_url(w):
    """Revoking an API token of clinic Riverside (created on first use)."""
    from alliance.web.api import tokens
    from alliance.web.api.models import ApiToken

    token = ApiToken.objects.filter(clinic=w.therapist.clinic).first() or tokens.create_token(
        w.therapist.clinic, w.therapist, name="Reports", scope="read").api_token
    return reverse("api_tokens:revoke", args=[token.pk])


MATRIX: dict[str, Row] = {
    "home": Row(lambda w: reverse("home"), signed_in(302)),
    "login": Row(lambda w: reverse("login"), {**signed_in(302), "anonymous": 200}),
    "logout": Row(lambda w: reverse("logout"), everyone(302), method="post"),
    "password_set": Row(lambda w: reverse("password_set", args=["MQ", "not-a-token"]),
                        everyone(200)),
    "password_set_done": Row(lambda w: reverse("password_set_done"), everyone(200)),
    "password_change": Row(lambda w: reverse("password_change"), signed_in(200)),
    # Signing in (alliance.web.accounts). The two-factor pages are for staff; a client
    # account is not asked for a second factor (403). Link pages answer for a made-up link.
    "accounts:two_factor_setup": Row(lambda w: reverse("accounts:two_factor_setup"),
                                     {**signed_in(200), "portal_client": 403,
                                      "other_portal_client": 403}),
    "accounts:two_factor_verify": Row(lambda w: reverse("accounts:two_factor_verify"),
                                      {**signed_in(302), "portal_client": 403,
                                       "other_portal_client": 403}),
    "accounts:reauth": Row(lambda w: reverse("accounts:reauth"),
                           {**signed_in(200), "portal_client": 200,
                            "other_portal_client": 200}),
    "accounts:password_forgot": Row(lambda w: reverse("accounts:password_forgot"),
                                    everyone(200)),
    "accounts:password_forgot_sent": Row(lambda w: reverse("accounts:password_forgot_sent"),
                                         everyone(200)),
    "accounts:password_reset": Row(lambda w: reverse("accounts:password_reset",
                                                     args=["MQ", "not-a-token"]),
                                   everyone(200)),
    # An administrator resets a colleague's second factor (another clinic's admin: 404).
    "accounts:staff_two_factor_reset": Row(
        lambda w: reverse("accounts:staff_two_factor_reset", args=[w.therapist.pk]),
        staff_record(302), method="post"),
    "password_change_done": Row(lambda w: reverse("password_change_done"), signed_in(200)),
    "care:caseload": Row(lambda w: reverse("care:caseload"), TREATING),
    "care:client_new": Row(lambda w: reverse("care:client_new"), TREATING),
    "care:case": Row(case_url("case"), record(200, 200)),
    "care:case_end": Row(case_url("case_end"), record(302, 403), method="post"),
    "care:ended": Row(lambda w: reverse("care:ended"), TREATING),
    "care:how_it_works": Row(lambda w: reverse("care:how_it_works"), TREATING),
    # The case is active: reopening it changes nothing and comes back to the case page.
    "care:case_reopen": Row(case_url("case_reopen"), record(302, 403), method="post"),
    "care:client_name": Row(case_url("client_name"), record(302, 403), method="post",
                            data={"name": "Sam"}),
    "care:alliance_chart": Row(case_url("alliance_chart"), record(200, 200)),
    "care:wellbeing_chart": Row(case_url("wellbeing_chart"), record(200, 200)),
    "care:session_new": Row(case_url("session_new"), record(200, 403)),
    "care:session": Row(case_url("session", 1), record(200, 200)),
    "care:checkin_link": Row(case_url("checkin_link", 1), record(200, 403), method="post",
                             data={"instrument": "alliance-client"}),
    "care:checkin_in_room": Row(case_url("checkin_in_room", 1), record(302, 403), method="post",
                                data={"instrument": "alliance-client"}),
    "care:therapist_form": Row(case_url("therapist_form", 1), record(200, 403)),
    # Public: a check-in link is a capability, not a login.
    "checkins:form": Row(lambda w: w.issued.path, everyone(200)),
    "checkins:thanks": Row(lambda w: reverse("checkins:thanks"), everyone(200)),
    # The client pages' language switcher: anyone may choose a language (a cookie).
    "set_language": Row(lambda w: reverse("set_language"), everyone(302), method="post",
                        data={"language": "es", "next": "/portal/"}),
    # Signals: the case's therapist acts on them; the supervisor reads them (403 on changes).
    "monitoring:acknowledge": Row(signal_url("acknowledge"), record(302, 403), method="post"),
    "monitoring:dismiss": Row(signal_url("dismiss"), record(302, 403), method="post",
                              data={"reason": "Talked it through in the session."}),
    "monitoring:reopen": Row(signal_url("reopen"), record(302, 403), method="post"),
    # Repair: the case's therapist records what they did; the supervisor reads it (403).
    "monitoring:repair": Row(rupture_url("repair"), record(302, 403), method="post",
                             data={"kind": "explored", "showed_as": "not_sure"}),
    # The clinic's signal report: aggregates for administrators and supervisors.
    "monitoring:report": Row(lambda w: reverse("monitoring:report"),
                             {"anonymous": LOGIN, "therapist": 403, "other_therapist": 403,
                              "supervisor": 200, "admin": 200, "other_admin": 200,
                              "portal_client": 403, "other_portal_client": 403}),
    # PDF reports: the case report is scoped like the case page; the clinic report is
    # aggregates for administrators and supervisors, like the signal report.
    "reports:case": Row(lambda w: reverse("reports:case", args=[w.case.pk]), record(200, 200)),
    "reports:case_for_client": Row(lambda w: reverse("reports:case_for_client",
                                                     args=[w.case.pk]), record(200, 200)),
    "reports:clinic": Row(lambda w: reverse("reports:clinic"),
                          {"anonymous": LOGIN, "therapist": 403, "other_therapist": 403,
                           "supervisor": 200, "admin": 200, "other_admin": 200,
                           "portal_client": 403, "other_portal_client": 403}),
    # A therapist's practice: their own page (any treating staff), another's only for their
    # supervisor (404 otherwise, admins included: they see the clinic's aggregates only).
    "practice:mine": Row(lambda w: reverse("practice:mine"), TREATING),
    "practice:clinic": Row(lambda w: reverse("practice:clinic"), ADMIN_PAGE),
    "practice:therapist": Row(lambda w: reverse("practice:therapist", args=[w.therapist.pk]),
                              record(200, 200)),
    "practice:start_focus": Row(focus_url("start_focus"), record(302, 302), method="post",
                                data={"skill": "inviting_feedback",
                                      "started_on": timezone.localdate().isoformat(), "note": ""}),
    "practice:end_focus": Row(focus_url("end_focus"), record(302, 302), method="post"),
    # Exchange: the case's FHIR Bundle is scoped like the case page; importing history is an
    # administrator's task; the pseudonymised research export is for administrators (the
    # clinic) and supervisors (their supervisees), like the clinic report.
    "interop:case_fhir": Row(lambda w: reverse("interop:case_fhir", args=[w.case.pk]),
                             record(200, 200)),
    "interop:import_history": Row(lambda w: reverse("interop:import_history"), ADMIN_PAGE),
    "interop:import_help": Row(lambda w: reverse("interop:import_help"), ADMIN_PAGE),
    "interop:research_export": Row(lambda w: reverse("interop:research_export"),
                                   {"anonymous": LOGIN, "therapist": 403,
                                    "other_therapist": 403, "supervisor": 200, "admin": 200,
                                    "other_admin": 200, "portal_client": 403,
                                    "other_portal_client": 403}),
    # A research export the worker prepared: only the administrator who asked for it sees
    # its page and downloads it (another supervisor or administrator: 404).
    "interop:export_job": Row(lambda w: reverse("interop:export_job", args=[w.export_job.pk]),
                              {"anonymous": LOGIN, "therapist": 403, "other_therapist": 403,
                               "supervisor": 404, "admin": 200, "other_admin": 404,
                               "portal_client": 403, "other_portal_client": 403}),
    "interop:export_download": Row(lambda w: reverse("interop:export_download",
                                                     args=[w.export_job.pk]),
                                   {"anonymous": LOGIN, "therapist": 403,
                                    "other_therapist": 403, "supervisor": 404, "admin": 200,
                                    "other_admin": 404, "portal_client": 403,
                                    "other_portal_client": 403}),
    "monitoring:supervision": Row(lambda w: reverse("monitoring:supervision"),
                                  {"anonymous": LOGIN, "therapist": 403,
                                   "other_therapist": 403, "supervisor": 200, "admin": 403,
                                   "other_admin": 403, "portal_client": 403,
                                   "other_portal_client": 403}),
    # Goals and tasks: the case's therapist changes them; the supervisor reads (403).
    "goals:propose": Row(lambda w: reverse("goals:propose", args=[w.case.pk]),
                         record(302, 403), method="post",
        data={"text": "Walk to work twice a week", "proposed_by": "client"}),
    "goals:request_review": Row(lambda w: goal_url("confirm")(w) and reverse(
        "goals:request_review", args=[w.case.pk]), record(302, 403), method="post"),
    "goals:confirm": Row(goal_url("confirm"), record(302, 403), method="post"),
    "goals:revise": Row(goal_url("revise"), record(302, 403), method="post",
                        data={"text": "Sleep well on most nights"}),
    "goals:status": Row(goal_url("status"), record(302, 403), method="post",
                        data={"status": "dropped"}),
    "goals:rating": Row(goal_url("rating"), record(302, 403), method="post",
                        data={"rating": "6"}),
    "goals:task_propose": Row(goal_url("task_propose"), record(302, 403), method="post",
                              data={"what": "A short walk", "how_often": "", "until": ""}),
    "goals:task_confirm": Row(goal_url("task_confirm", task=True), record(302, 403),
                              method="post"),
    "goals:task_status": Row(goal_url("task_status", task=True), record(302, 403),
                             method="post", data={"status": "stopped"}),
    "clinics:staff": Row(lambda w: reverse("clinics:staff"), ADMIN_PAGE),
    "clinics:staff_create": Row(lambda w: reverse("clinics:staff_create"), ADMIN_PAGE),
    "clinics:settings": Row(lambda w: reverse("clinics:settings"), ADMIN_PAGE),
    "audit:list": Row(lambda w: reverse("audit:list"), ADMIN_PAGE),
    # What goes out by itself: the clinic's plan (admins), a case's contact and plan (its
    # therapist changes, the supervisor reads), anyone's own worklist and notices.
    "outreach:plan": Row(lambda w: reverse("outreach:plan"), ADMIN_PAGE),
    "outreach:case": Row(lambda w: reverse("outreach:case", args=[w.case.pk]),
                         record(200, 200)),
    "outreach:worklist": Row(lambda w: reverse("outreach:worklist"), ANY_STAFF),
    "outreach:notices": Row(lambda w: reverse("outreach:notices"), ANY_STAFF),
    # Safety: the clinic's crisis text and on-call contacts (admins); a risk alert and its
    # response (the case's therapist and their supervisor; the clinic's on-call staff).
    "safety:clinic": Row(lambda w: reverse("safety:clinic"), ADMIN_PAGE),
    "safety:alert": Row(risk_alert_url, record(200, 200)),
    "audit:export": Row(lambda w: reverse("audit:export"), ADMIN_PAGE),
    "clinics:staff_edit": Row(lambda w: reverse("clinics:staff_edit", args=[w.therapist.pk]),
                              staff_record(200)),
    "clinics:staff_invite": Row(lambda w: reverse("clinics:staff_invite",
                                                  args=[w.therapist.pk]),
                                staff_record(200), method="post"),
    "clinics:staff_deactivate": Row(lambda w: reverse("clinics:staff_deactivate",
                                                      args=[w.therapist.pk]),
                                    staff_record(302), method="post"),
    "clinics:staff_reactivate": Row(lambda w: reverse("clinics:staff_reactivate",
                                                      args=[w.therapist.pk]),
                                    staff_record(302), method="post"),
    # API tokens of the clinic (the API itself: tests/web/test_api_access.py).
    # Everyone on staff lists their tokens (an administrator the clinic's); a therapist or
    # supervisor revokes their own, an administrator any of the clinic's.
    "api_tokens:list": Row(lambda w: reverse("api_tokens:list"), {
        **TREATING, "admin": 200, "other_admin": 200}),
    "api_tokens:revoke": Row(api_token_url, {
        **staff_record(302), "therapist": 302, "other_therapist": 404, "supervisor": 404},
        method="post"),
    # The client portal. Signing in is open to everyone; a sign-in link is a capability
    # (opening it changes nothing); a signed-in client is sent on from the sign-in page.
    "portal:sign_in": Row(portal_url("sign_in"),
                          {**everyone(200), "portal_client": 302, "other_portal_client": 302}),
    "portal:sign_in_sent": Row(portal_url("sign_in_sent"), everyone(200)),
    "portal:sign_in_link": Row(lambda w: reverse("portal:sign_in_link", args=[w.sign_in_token]),
                               everyone(200)),
    "portal:set_password": Row(lambda w: reverse("portal:set_password",
                                                 args=["MQ", "not-a-token"]), everyone(200)),
    "portal:sign_out": Row(portal_url("sign_out"), everyone(302), method="post"),
    "portal:home": Row(portal_url("home"), portal()),
    "portal:password": Row(portal_url("password"), portal()),
    "portal:goals": Row(portal_url("goals"), portal()),
    "portal:goal_new": Row(portal_url("goal_new"), portal()),
    "portal:feedback": Row(portal_url("feedback"), portal()),
    "portal:intake": Row(portal_url("intake"), portal()),
    "portal:progress": Row(portal_url("progress"), portal()),
    # One client trying another client's goal, task and charts: 404.
    "portal:goal_confirm": Row(portal_url("goal_confirm", "goal"), portal(302, 404),
                               method="post"),
    "portal:task_confirm": Row(portal_url("task_confirm", "task"), portal(302, 404),
                               method="post"),
    "portal:task_report": Row(portal_url("task_report", "running_task"), portal(200, 404)),
    "portal:wellbeing_chart": Row(portal_url("wellbeing_chart", "case"), portal(200, 404)),
    "portal:alliance_chart": Row(portal_url("alliance_chart", "case"), portal(200, 404)),
    # The therapist's side of the portal, from the case page.
    "portal:invite": Row(lambda w: reverse("portal:invite", args=[w.case.pk]), record(302, 403),
                         method="post"),
    # Of a second case, so that removing access leaves the world's own client signed in.
    "portal:remove": Row(lambda w: reverse("portal:remove", args=[w.removable.pk]),
                         record(302, 403), method="post"),
    "portal:discussed": Row(feedback_signal_url, record(302, 403), method="post"),
    # A client's data (export, erasure): only the client's therapist; the supervisor, who
    # reads the case, may not act for the client (403); administrators see no records (404).
    "privacy:client": Row(lambda w: reverse("privacy:client", args=[w.case.client_id]),
                          record(200, 403)),
    "privacy:export": Row(lambda w: reverse("privacy:export", args=[w.case.client_id]),
                          record(200, 403)),
    # A wrong code: the form again, nothing erased (the world's client is shared by roles).
    "privacy:erase": Row(lambda w: reverse("privacy:erase", args=[w.case.client_id]),
                         record(200, 403), method="post", data={"code": "not-the-code"}),
}


def url_names(resolver=None, namespace=""):
    """Every named URL pattern, as 'namespace:name'; unnamed patterns as '<unnamed: route>'."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from url_names(entry, inner)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}" if entry.name else f"<unnamed: {entry.pattern}>"


def test_every_url_has_a_row_in_the_matrix():
    # The API answers in JSON to tokens, not to signed-in users: every API URL × role is
    # covered by tests/web/test_api_access.py instead.
    names = {name for name in url_names() if not name.startswith("api:")}
    missing = sorted(names - MATRIX.keys())
    assert not missing, f"URLs without an access expectation: {missing}"
    stale = sorted(MATRIX.keys() - names)
    assert not stale, f"matrix rows for URLs that no longer exist: {stale}"


def test_every_cell_of_the_matrix_has_an_expectation():
    cells = {(name, role): expectation(row.expect, role, name)
             for name, row in MATRIX.items() for role in ROLES}
    assert len(cells) == len(MATRIX) * len(ROLES)
    assert all(value in (LOGIN, PORTAL_LOGIN, TWO_FACTOR) or 200 <= value < 600
               for value in cells.values())
    print(f"access matrix: {len(MATRIX)} URLs x {len(ROLES)} roles = {len(cells)} cells")


@dataclass
class World:
    case: object
    therapist: object
    issued: object
    goal: object = None          # proposed by the therapist, waiting for the client
    task: object = None          # proposed by the therapist, waiting for the client
    running_task: object = None  # agreed by both: the client reports on it
    sign_in_token: str = ""
    removable: object = None     # another case whose client has portal access
    export_job: object = None    # a research export the admin asked for, ready


@pytest.fixture
def portal_client(clinic, case, therapist):
    """The client of the therapist's case, with a portal account (the portal is on)."""
    clinic.client_portal_enabled = True
    clinic.clients_see_alliance_scores = True
    clinic.save()
    return portal_services.invite(case, by=therapist)


@pytest.fixture
def other_portal_client(portal_client, therapist, open_case):
    other = open_case(therapist, "C-PORTAL2", email="other.client@example.org")
    return portal_services.invite(other, by=therapist)


@pytest.fixture
def deactivated(clinic, therapist, admin):
    """A supervisor of the therapist who has left: deactivated by the clinic's admin."""
    member = clinic_services.add_staff(clinic, email="former.supervisor@riverside.example",
                                       display_name="Former Supervisor", role="supervisor")
    member.supervisees.add(therapist)
    clinic_services.deactivate(member, by=admin)
    return member


@pytest.fixture
def pending_2fa(therapist):
    """The therapist, signed in with the password only (the test turns STAFF_2FA on)."""
    return therapist


@pytest.fixture
def other_supervisor(clinic, other_therapist):
    member = clinic_services.add_staff(clinic, email="other.supervisor@riverside.example",
                                       display_name="Other Supervisor", role="supervisor")
    member.supervisees.add(other_therapist)
    return member


@pytest.fixture
def world(request, therapist, other_therapist, supervisor, admin, other_admin, case, issued,
          portal_client, other_portal_client, open_case, deactivated, other_clinic_therapist,
          other_supervisor):
    agreed = goals.propose_goal(case, "Feel calmer at work", by=therapist)
    goals.confirm_goal(agreed, by=case.client)
    running = goals.propose_task(agreed, "A ten-minute walk at lunch", by=therapist)
    goals.confirm_task(running, by=case.client)
    removable = open_case(therapist, "C-REMOVE", email="remove@example.org")
    portal_services.invite(removable, by=therapist)
    portal_services.request_sign_in_link(case.client.contact_email)
    token = mail.outbox[-1].body.split("/portal/sign-in/")[1].split("/")[0]
    job = exports.new_job(admin, research.Selection(), key="research", fmt="csv",
                          include_text=False, description="")
    exports.run(job.pk)
    return World(case=case, therapist=therapist, issued=issued, export_job=job,
                 goal=goals.propose_goal(case, "Sleep through the night", by=therapist),
                 task=goals.propose_task(agreed, "Note one good moment each day", by=therapist),
                 running_task=running, sign_in_token=token, removable=removable)


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_access(name, world, client, request):
    # All roles in one test (one set of fixtures): roles that change something (the admin
    # deactivating, the therapist ending the case) come after those whose access they could
    # affect, in the order of ROLES.
    row = MATRIX[name]
    wrong = []
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(request.getfixturevalue(role).user)
        path = row.url(world)
        with override_settings(STAFF_2FA=role == "pending_2fa"):
            response = getattr(client, row.method)(path, row.data)
        expected = expectation(row.expect, role, name)
        if expected == LOGIN:
            ok = (response.status_code == 302
                  and response["Location"].startswith(reverse("login")))
        elif expected == PORTAL_LOGIN:
            ok = (response.status_code == 302
                  and response["Location"].startswith(reverse("portal:sign_in")))
        elif expected == TWO_FACTOR:
            ok = (response.status_code == 302
                  and response["Location"].startswith((reverse("accounts:two_factor_setup"),
                                                       reverse("accounts:two_factor_verify"))))
        else:
            ok = response.status_code == expected
        if not ok:
            wrong.append(f"{role}: expected {expected}, got {response.status_code} "
                         f"{response.get('Location', '')}".rstrip())
    assert not wrong, (f"{row.method.upper()} {name}: {len(wrong)} of {len(ROLES)} cells "
                       "wrong: " + "; ".join(wrong))

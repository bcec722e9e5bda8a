"""Id swapping: every URL that takes an object id, given ids that are not the user's.

A therapist of clinic Riverside, Riverside's administrator and a client signed in to the
portal each try every URL of their area with every combination of ids in which at least
one id is not theirs: a record of another client of another therapist in the same clinic,
a record of clinic Hillside, or an id that does not exist (an administrator: a staff member
or API token of Hillside; erasure: with the right code of the client the id names). Each request, GET and POST (with
the data that succeeds on the user's own record), must answer 404 (or 403 for a wrong role),
and the database must be exactly as before. A control then sends the same request with the
user's own ids and gets the matrix's success status, so the ids really reach the view.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from test_access_matrix import MATRIX, expectation

from alliance.web.api import tokens
from alliance.web.goals import services as goals
from alliance.web.interop import exports, research
from alliance.web.monitoring.models import Signal
from alliance.web.portal import services as portal_services
from alliance.web.practice.models import PracticeFocus
from alliance.web.safety.models import RiskAlert

MISSING = 987654321
# Tables that change by design whatever the request does are not compared: sessions, the
# audit trail, failed sign-ins counted for the lock-out (axes), and the second factor's
# devices (a pending device is made when its page is shown; failed codes are throttled).
UNCOMPARED_APPS = {"sessions", "admin", "audit", "contenttypes", "axes", "otp_totp",
                   "otp_static"}


def id_patterns(resolver=None, namespace=""):
    """(name, [int kwargs]) of every named URL pattern with at least one int converter."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from id_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            converters = getattr(entry.pattern, "converters", {})
            ids = [k for k, c in converters.items() if type(c).__name__ == "IntConverter"]
            if ids:
                yield f"{namespace}{entry.name}", ids


def database_checksum() -> str:
    digest = hashlib.sha256()
    for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
        if model._meta.app_label in UNCOMPARED_APPS:
            continue
        rows = list(model.objects.order_by("pk").values())
        for row in rows:
            row.pop("last_login", None)  # signing each actor in sets it
        digest.update(model._meta.label.encode())
        digest.update(json.dumps(rows, default=str, sort_keys=True).encode())
    return digest.hexdigest()


def records_of(case, therapist):
    """A rupture and a feedback signal, an agreed goal with a task waiting for the client, and a running task."""
    signal = Signal.objects.create(
        case=case, type="rupture", subject="total", session=case.sessions.get(number=1),
        rule="sd1", repair_state="pending", explanation="Alliance dropped at session 1.")
    agreed = goals.propose_goal(case, "Feel calmer at work", by=therapist)
    goals.confirm_goal(agreed, by=case.client)
    running = goals.propose_task(agreed, "A walk at lunch", by=therapist)
    goals.confirm_task(running, by=case.client)
    feedback = Signal.objects.create(
        case=case, type="client_feedback", subject="alliance-client:more_helpful",
        session=case.sessions.get(number=1), rule="open_answer",
        explanation="The client wrote something.")
    risk = Signal.objects.create(
        case=case, type="risk", subject="safety-question", session=case.sessions.get(number=1),
        rule="risk_item", explanation="An answer at a risk threshold.")
    alert = RiskAlert.objects.create(signal=risk, clinic=case.client.clinic, reason="answer",
                                     raised_at=timezone.now(), notify=False)
    return {"case": case, "signal": signal, "feedback": feedback, "goal": agreed,
            "risk_alert": alert,
            "waiting_goal": goals.propose_goal(case, "Sleep through the night", by=therapist),
            "task": goals.propose_task(agreed, "Note one good moment", by=therapist),
            "running_task": running}


def export_job(staff):
    """A research export `staff` asked for, written by the worker's function."""
    job = exports.new_job(staff, research.Selection(), key="research", fmt="csv",
                          include_text=False, description="")
    exports.run(job.pk)
    return job


@pytest.fixture
def records(clinic, other_clinic, therapist, other_therapist, other_clinic_therapist, admin,
            open_case, supervisor, other_admin):
    for each in (clinic, other_clinic):
        each.client_portal_enabled = True
        each.clients_see_alliance_scores = True
        each.save()
    mine = records_of(open_case(therapist, "C-MINE1", email="mine@example.org"), therapist)
    # Another client of the same therapist: the portal client's neighbour.
    neighbour = records_of(open_case(therapist, "C-NEXT1", email="next@example.org"),
                           therapist)
    colleague = records_of(open_case(other_therapist, "C-COLL1", email="coll@example.org"),
                           other_therapist)
    elsewhere = records_of(open_case(other_clinic_therapist, "C-ELSE1",
                                     email="else@example.org"), other_clinic_therapist)
    for owner, records in ((therapist, mine), (therapist, neighbour),
                           (other_therapist, colleague), (other_clinic_therapist, elsewhere)):
        records["account"] = portal_services.invite(records["case"], by=owner)
    mine["token"] = tokens.create_token(clinic, therapist, name="Reports",
                                        scope="read").api_token
    elsewhere["token"] = tokens.create_token(other_clinic, other_clinic_therapist,
                                             name="Reports", scope="read").api_token
    for each in (mine, neighbour, colleague, elsewhere):
        each["client"] = each["case"].client
    # Each therapist's practice focus, begun ten days ago (the therapist's own can be
    # ended, and a new one started today); the neighbour's is an earlier, ended one.
    today = timezone.localdate()
    for owner, each, ended in ((therapist, mine, False), (therapist, neighbour, True),
                               (other_therapist, colleague, False),
                               (other_clinic_therapist, elsewhere, False)):
        each["staff"] = owner
        each["focus"] = PracticeFocus.objects.create(
            clinic=owner.clinic, therapist=owner, skill="inviting_feedback",
            started_on=today - dt.timedelta(days=40 if ended else 10),
            ended_on=today - dt.timedelta(days=20) if ended else None, created_by=owner)
    # Research exports prepared in the background: only the one who asked may open one.
    exports_of = {"mine": export_job(admin), "colleague": export_job(supervisor),
                  "elsewhere": export_job(other_admin)}
    return {"mine": mine, "neighbour": neighbour, "colleague": colleague,
            "elsewhere": elsewhere, "therapist": therapist, "admin": admin,
            "other_clinic_therapist": other_clinic_therapist, "exports": exports_of}


# For each URL: who tries it, and what record each id names ("case", "signal", ...).
PORTAL_STAFF_SIDE = {"portal:invite", "portal:remove", "portal:discussed"}
ID_RECORD = {"pk": "case", "signal_pk": "signal", "goal_pk": "goal", "task_pk": "task",
             "number": "number", "focus_pk": "focus"}
# A therapist (a staff member, not a case) named by `pk`: their practice page and focus.
PRACTICE_PK = {"practice:therapist", "practice:start_focus", "practice:end_focus"}
PORTAL_PK = {"portal:goal_confirm": "waiting_goal", "portal:task_confirm": "task",
             "portal:task_report": "running_task", "portal:wellbeing_chart": "case",
             "portal:alliance_chart": "case"}


# Staff records and API tokens of the clinic: its administrator acts on them.
ADMIN_RECORDS = {"clinics:staff_edit": "staff", "clinics:staff_invite": "staff",
                 "clinics:staff_deactivate": "staff", "clinics:staff_reactivate": "staff",
                 "accounts:staff_two_factor_reset": "staff", "api_tokens:revoke": "token",
                 "interop:export_job": "export", "interop:export_download": "export"}
# A client (not a case) named by `pk`.
CLIENT_PK = {"privacy:client", "privacy:export", "privacy:erase"}


def actor_of(name):
    if name in ADMIN_RECORDS:
        return "admin"
    if name.startswith("portal:") and name not in PORTAL_STAFF_SIDE:
        return "portal_client"
    return "therapist"


def candidates(name, kwarg, r):
    """(own value, [values that are not the actor's]) for one id of one URL."""
    if ADMIN_RECORDS.get(name) == "staff":
        return r["therapist"].pk, [r["other_clinic_therapist"].pk, MISSING]
    if ADMIN_RECORDS.get(name) == "token":
        return r["mine"]["token"].pk, [r["elsewhere"]["token"].pk, MISSING]
    if ADMIN_RECORDS.get(name) == "export":  # a supervisor's of the clinic, another clinic's
        jobs = r["exports"]
        return jobs["mine"].pk, [jobs["colleague"].pk, jobs["elsewhere"].pk, MISSING]
    if kwarg == "number":
        return 1, [2, MISSING]  # every case here has only session 1
    record = PORTAL_PK.get(name) if actor_of(name) == "portal_client" else ID_RECORD[kwarg]
    if name in CLIENT_PK:
        record = "client"
    if name in PRACTICE_PK and kwarg == "pk":
        record = "staff"
    if name == "safety:alert":
        record = "risk_alert"  # a risk alert and its response, named by the alert's id
    if name == "portal:discussed" and kwarg == "signal_pk":
        record = "feedback"  # only a client's written answer is marked discussed
    own = r["mine"][record].pk
    theirs = [r[other][record].pk for other in ("neighbour", "colleague", "elsewhere")]
    if actor_of(name) == "therapist":
        theirs = theirs[1:]  # the neighbour's records are the therapist's own too
    return own, [*theirs, MISSING]


def sign_in(client, actor, r):
    user = r["mine"]["account"].user if actor == "portal_client" else r[actor].user
    client.force_login(user)


ID_URLS = sorted(id_patterns())


def test_the_id_urls_are_found_and_each_has_a_matrix_row():
    names = [name for name, _ in ID_URLS]
    assert "care:case" in names and "clinics:staff_edit" in names
    assert "portal:goal_confirm" in names and "monitoring:repair" in names
    assert set(names) <= MATRIX.keys()


@pytest.mark.parametrize("name,kwargs", ID_URLS, ids=[name for name, _ in ID_URLS])
def test_ids_that_are_not_the_users_answer_404_and_change_nothing(name, kwargs, records,
                                                                   client):
    actor = actor_of(name)
    sign_in(client, actor, records)
    options = {k: candidates(name, k, records) for k in kwargs}
    row = MATRIX[name]
    success = expectation(row.expect, actor)
    assert success < 400, (f"{name}: {actor} may not use it; say in test_id_swap.py who owns "
                           "the records its ids name")
    codes = {each["client"].pk: each["client"].code for each in records.values()
             if isinstance(each, dict) and "client" in each}
    before = database_checksum()
    wrong, tried = [], 0
    for values in itertools.product(*[[own, *theirs] for own, theirs in options.values()]):
        if all(v == options[k][0] for k, v in zip(kwargs, values)):
            continue  # all the actor's own: the control below
        path = reverse(name, kwargs=dict(zip(kwargs, values)))
        for method in ("get", "post"):
            tried += 1
            data = row.data if method == "post" else {}
            if name == "privacy:erase":  # the right code for the client the id names
                data = {"code": codes.get(dict(zip(kwargs, values))["pk"], "C-NONE")}
            response = getattr(client, method)(path, data)
            if response.status_code not in (404, 403, 405):
                wrong.append(f"{method.upper()} {path}: {response.status_code}")
    assert tried and not wrong, f"{actor} reached records not theirs: {wrong}"
    assert database_checksum() == before, f"{actor} changed the database through {name}"

    # Control: the same request with the actor's own ids succeeds.
    own_path = reverse(name, kwargs={k: own for k, (own, _) in options.items()})
    response = getattr(client, row.method)(own_path, row.data)
    assert response.status_code == success, own_path

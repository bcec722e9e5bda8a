"""Role × URL access matrix of the API: every URL of the `api` namespace, for every kind of
token (tests/web/test_access_matrix.py leaves the namespace to this file).

Roles: no token; the case's therapist (read-write); the same therapist with a read-only
token; their supervisor (read-write: reads the case, may not change it); another therapist
of the clinic; a therapist of another clinic. Records out of scope answer 404, as on the web.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable

import pytest
from api_helpers import CLIENT_ANSWERS, bearer, make_token
from django.urls import reverse
from test_access_matrix import url_names

from alliance.web.care import services as care
from alliance.web.goals import services as goals
from alliance.web.monitoring.models import Signal

ROLES = ("anonymous", "therapist", "read_only", "supervisor", "other_therapist",
         "other_clinic_therapist")


@dataclass(frozen=True)
class Row:
    url: Callable  # (case) -> path; may create the record it names
    expect: dict[str, int]
    method: str = "get"
    data: Callable = field(default=lambda case: {})


def public(status=200):
    return dict.fromkeys(ROLES, status)


def read(owner=200, others=404):
    return {"anonymous": 401, "therapist": owner, "read_only": owner, "supervisor": owner,
            "other_therapist": others, "other_clinic_therapist": others}


def change(owner, others=404):
    """Only the case's therapist with a read-write token; the supervisor reads (403)."""
    return {"anonymous": 401, "therapist": owner, "read_only": 403, "supervisor": 403,
            "other_therapist": others, "other_clinic_therapist": others}


def listed(name):
    return lambda case: reverse(f"api:{name}-list")


def detail(name, make):
    return lambda case: reverse(f"api:{name}-detail", args=[make(case).pk])


def action(name, make):
    return lambda case: reverse(f"api:{name}", args=[make(case).pk])


def a_signal(case):
    return Signal.objects.create(case=case, type="client_feedback",
                                 subject=f"question-{Signal.objects.count()}",
                                 session=case.sessions.get(number=1), rule="open_answer",
                                 explanation="The client wrote something.")


def an_acknowledged_signal(case):
    signal = a_signal(case)
    signal.state = Signal.State.ACKNOWLEDGED
    signal.save(update_fields=["state"])
    return signal


def a_goal(case):
    return goals.propose_goal(case, "Sleep through the night", by=case.client)


def a_task(case):
    goal = goals.propose_goal(case, "Walk more", by=case.client)
    goals.confirm_goal(goal, by=case.therapist)
    return goals.propose_task(goal, "A walk at lunch", by=case.client)


def a_new_session(case):
    return care.record_session(case, date=case.start_date, status="attended")


MATRIX: dict[str, Row] = {
    "api:schema": Row(lambda case: reverse("api:schema"), public()),
    "api:docs": Row(lambda case: reverse("api:docs"), public()),
    # Any other address under /api/: a JSON 404 for everyone.
    "api:not_found": Row(lambda case: "/api/nothing-here/", public(404)),
    # Lists answer 200 to every token: out-of-scope records are simply not in them.
    "api:client-list": Row(listed("client"), read(others=200)),
    "api:client-detail": Row(lambda case: reverse("api:client-detail", args=[case.client_id]),
                             read()),
    "api:case-list": Row(listed("case"), read(others=200)),
    "api:case-detail": Row(detail("case", lambda case: case), read()),
    "api:session-list": Row(listed("session"), read(others=200)),
    "api:session-detail": Row(detail("session", lambda case: case.sessions.first()), read()),
    "api:administration-list": Row(listed("administration"), read(others=200)),
    "api:administration-detail": Row(
        detail("administration", lambda case: case.sessions.first().administrations.first()),
        read()),
    "api:signal-list": Row(listed("signal"), read(others=200)),
    "api:signal-detail": Row(detail("signal", a_signal), read()),
    "api:signal-acknowledge": Row(action("signal-acknowledge", a_signal), change(200),
                                  method="post"),
    "api:signal-dismiss": Row(action("signal-dismiss", a_signal), change(200), method="post",
                              data=lambda case: {"reason": "Talked it through."}),
    "api:signal-reopen": Row(action("signal-reopen", an_acknowledged_signal), change(200),
                             method="post"),
    "api:goal-list": Row(listed("goal"), read(others=200)),
    "api:goal-detail": Row(detail("goal", a_goal), read()),
    "api:goal-agree": Row(action("goal-agree", a_goal), change(200), method="post"),
    "api:task-list": Row(listed("task"), read(others=200)),
    "api:task-detail": Row(detail("task", a_task), read()),
    "api:task-agree": Row(action("task-agree", a_task), change(200), method="post"),
}

# Creating: the same URLs as the lists, with a body naming a record of the case.
CREATE: dict[str, Row] = {
    "administration": Row(listed("administration"), change(201), method="post",
                          data=lambda case: {"session": a_new_session(case).pk,
                                             "instrument": "alliance-client",
                                             "responses": CLIENT_ANSWERS}),
    "session": Row(listed("session"), change(201), method="post",
                   data=lambda case: {"case": case.pk, "date": str(case.start_date)}),
    "goal": Row(listed("goal"), change(201), method="post",
                data=lambda case: {"case": case.pk, "text": "Sleep well"}),
    "task": Row(listed("task"), change(201), method="post",
                data=lambda case: {"goal": a_goal(case).pk, "what": "A short walk"}),
}


def test_every_api_url_has_a_row():
    names = {name for name in url_names() if name.startswith("api:")}
    assert names == set(MATRIX), (sorted(names - set(MATRIX)), sorted(set(MATRIX) - names))


@pytest.fixture
def tokens(therapist, supervisor, other_therapist, other_clinic_therapist):
    return {"anonymous": None, "therapist": make_token(therapist),
            "read_only": make_token(therapist, scope="read"),
            "supervisor": make_token(supervisor), "other_therapist": make_token(other_therapist),
            "other_clinic_therapist": make_token(other_clinic_therapist)}


@pytest.fixture
def answered_case(case, therapist):
    from alliance.web.checkins import services as checkins

    issued = checkins.issue_link(case.sessions.get(number=1), "alliance-client", by=therapist)
    checkins.submit_link(issued.token, CLIENT_ANSWERS, {})
    return case


def check(row: Row, case, client, tokens) -> list[str]:
    wrong = []
    for role in ROLES:
        headers = bearer(tokens[role]) if tokens[role] else {}
        path = row.url(case)
        if row.method == "post":
            response = client.post(path, row.data(case), content_type="application/json",
                                   **headers)
        else:
            response = client.get(path, **headers)
        if response.status_code != row.expect[role]:
            wrong.append(f"{role}: expected {row.expect[role]}, got {response.status_code}")
        elif response.status_code >= 400:
            assert response["Content-Type"] == "application/json"
    return wrong


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_api_access(name, answered_case, client, tokens):
    wrong = check(MATRIX[name], answered_case, client, tokens)
    assert not wrong, f"{name}: " + "; ".join(wrong)


@pytest.mark.parametrize("name", sorted(CREATE))
def test_api_create_access(name, answered_case, client, tokens):
    wrong = check(CREATE[name], answered_case, client, tokens)
    assert not wrong, f"create {name}: " + "; ".join(wrong)

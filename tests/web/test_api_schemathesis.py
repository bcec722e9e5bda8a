"""Property-based testing of the API from its own OpenAPI document (schemathesis).

Every operation of /api/schema/ gets generated requests, valid ones and ones that break the
schema, sent in-process through the WSGI application with a read-write token of a therapist
who has a case with sessions, forms, signals, goals and tasks. Each response must pass:
not a server error, a documented status code, a documented content type, and a body that
matches the documented schema. The test reports how many operations and cases ran.
"""

from __future__ import annotations

import datetime as dt

import hypothesis
import pytest
import schemathesis
from api_helpers import CLIENT_ANSWERS, make_token
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alliance.web.care import services as care
from alliance.web.checkins import services as checkins
from alliance.web.goals import services as goals
from alliance.web.monitoring.models import Signal

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
EXAMPLES = {schemathesis.GenerationMode.POSITIVE: 20, schemathesis.GenerationMode.NEGATIVE: 10}


@pytest.fixture
def token(therapist, case):
    """A read-write token of `therapist`, whose case has records of every kind."""
    session = case.sessions.get(number=1)
    issued = checkins.issue_link(session, "alliance-client", by=therapist)
    checkins.submit_link(issued.token, CLIENT_ANSWERS, {"more_helpful": "Slower, please."})
    care.record_session(case, date=dt.date(2026, 1, 12), status="attended")
    Signal.objects.create(case=case, type="client_feedback", subject="more_helpful",
                          session=session, rule="open_answer", explanation="Client feedback.")
    goal = goals.propose_goal(case, "Sleep through the night", by=case.client)
    goals.propose_task(goal, "Phone away at 10 pm", by=therapist)
    return make_token(therapist)


@pytest.mark.slow
def test_every_operation_passes_the_schema_checks_with_generated_requests(token, capsys):
    app = get_wsgi_application()
    # As Django's test client does: keep the test's database connection (and transaction)
    # open across requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        _run(app, token, capsys)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _run(app, token, capsys):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", app)
    headers = {"Authorization": f"Bearer {token}"}
    operations, cases, failures = 0, 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode, examples in EXAMPLES.items():
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            @hypothesis.settings(max_examples=examples, deadline=None, database=None,
                                 derandomize=True, phases=[hypothesis.Phase.generate],
                                 suppress_health_check=list(hypothesis.HealthCheck))
            def run(case):
                nonlocal cases
                cases += 1
                response = case.call(headers=headers)
                try:
                    case.validate_response(response, checks=CHECKS)
                except (Failure, FailureGroup) as exc:
                    # run() is called at once, inside the loop: these are current.
                    failures.append(f"{operation.label} [{mode.value}]: {exc}")  # noqa: B023

            run()
    with capsys.disabled():
        print(f"\nschemathesis: {operations} operations, {cases} cases, "
              f"{len(failures)} failures")
    assert operations == 23  # every documented operation ran
    assert not failures, "\n\n".join(failures[:10])

"""The load benchmark's own tooling (benchmarks/web_load.py, benchmarks/load_client.py).

Nothing here is timed: these tests check that the client counts requests and errors
correctly, that its percentiles are numpy's, and that it can still fill in and submit
the real check-in and login forms, so that the benchmark cannot silently rot.
"""

from __future__ import annotations

import importlib
import random
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def tools():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("load_client"), importlib.import_module("web_load")
    finally:
        sys.path.remove(str(BENCHMARKS))


# --------------------------------------------------------------------------- a tiny server

FORM_PAGE = """<!doctype html><html><body>
<form method="get" action="/search/"><input name="q"></form>
<form method="post">
  <input type="hidden" name="csrfmiddlewaretoken" value="{token}">
  <input type="range" name="bond1" min="0" max="10" step="1" value="5">
  <input type="range" name="half" min="0" max="2" step="0.5" value="1">
  <label><input type="radio" name="mood" value="1"> 1</label>
  <label><input type="radio" name="mood" value="2" checked> 2</label>
  <textarea name="open1" rows="3"></textarea>
  <textarea name="must" required></textarea>
  <button type="submit">Send</button>
</form></body></html>"""


class Handler(BaseHTTPRequestHandler):
    """GET /c/<token>/ shows a form and sets a CSRF cookie; POST checks it like Django."""

    submitted: ClassVar[list[dict]] = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/ok/":
            self._send(200, b"fine")
        elif self.path == "/broken/":
            self._send(500, b"server error")
        elif self.path == "/away/":
            self._send(302, headers=[("Location", "/login/?next=/away/")])
        elif self.path.startswith("/c/"):
            token = "csrf-" + self.path.strip("/").split("/")[-1]
            self._send(200, FORM_PAGE.format(token=token).encode(),
                       [("Set-Cookie", f"csrftoken={token}; Path=/; SameSite=Lax"),
                        ("Content-Type", "text/html; charset=utf-8")])
        else:
            self._send(404, b"not found")

    def do_POST(self):
        data = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode(),
                        keep_blank_values=True)
        cookie = self.headers.get("Cookie", "")
        token = data.get("csrfmiddlewaretoken", [""])[0]
        valid = (f"csrftoken={token}" in cookie and token
                 and self.headers.get("Origin") == f"http://127.0.0.1:{self.server.server_port}"
                 and data["bond1"][0] in {str(i) for i in range(11)}
                 and data["half"][0] in {"0", "0.5", "1", "1.5", "2"}
                 and data["mood"][0] in {"1", "2"} and data["must"][0] and "open1" in data)
        if not valid:
            self._send(403, b"CSRF or answers wrong")
            return
        Handler.submitted.append({k: v[0] for k, v in data.items()})
        self._send(302, headers=[("Location", "/c/thanks/")])


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Handler.submitted = []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield httpd.server_port
    finally:
        httpd.shutdown()
        httpd.server_close()


# --------------------------------------------------------------------------- percentiles

def test_percentiles_are_numpys_linear_percentiles(tools):
    client, _ = tools
    rng = np.random.default_rng(3)
    for size in (1, 2, 7, 100, 1001):
        values = rng.lognormal(3, 1, size).tolist()
        for q in (0, 50, 95, 99, 100):
            # numpy's default method ("linear"); agreement to floating-point rounding
            assert client.percentile(values, q) == pytest.approx(np.percentile(values, q),
                                                                 rel=1e-12)
    assert client.percentile([1, 2, 3, 4], 50) == 2.5
    assert np.isnan(client.percentile([], 95))
    with pytest.raises(ValueError):
        client.percentile([1.0], 101)


def test_a_summary_counts_requests_errors_and_throughput(tools):
    client, _ = tools
    samples = [client.Sample("page", i, latency, 200, None)
               for i, latency in enumerate([10.0, 20.0, 30.0, 40.0])]
    samples.append(client.Sample("page", 5, 50.0, 500, "HTTP 500"))
    samples.append(client.Sample("submit", 6, 60.0, None, "ConnectionRefusedError"))
    summary = client.summarise(samples, seconds=2.0)
    assert (summary.requests, summary.errors) == (6, 2)
    assert summary.throughput == 3.0
    assert summary.p50_ms == 35.0 and summary.max_ms == 60.0
    assert summary.error_kinds == {"HTTP 500": 1, "ConnectionRefusedError": 1}
    by_kind = client.summarise_by_kind(samples, seconds=2.0)
    assert by_kind["page"].requests == 5 and by_kind["submit"].errors == 1


def test_errors_are_exceptions_statuses_outside_2xx_3xx_and_unexpected_statuses(tools):
    client, _ = tools
    assert client.classify(200) is None and client.classify(302) is None
    assert client.classify(404) == "HTTP 404" and client.classify(500) == "HTTP 500"
    assert client.classify(302, expect := 200) == f"HTTP 302, expected {expect}"
    assert client.classify(None, 200, TimeoutError()) == "TimeoutError"
    assert client.classify(302, (200, 302)) is None


# --------------------------------------------------------------------------- the client

def test_the_client_counts_successes_and_each_kind_of_error(tools, server):
    client, _ = tools
    user = client.VirtualUser("127.0.0.1", server, name="one")
    assert user.get("ok", "/ok/").error is None
    assert user.get("broken", "/broken/").error == "HTTP 500"
    assert user.get("missing", "/nowhere/").error == "HTTP 404"
    # a login page instead of the caseload: a redirect, but not what was asked for
    assert user.get("away", "/away/").error == "HTTP 302, expected 200"
    refused = client.VirtualUser("127.0.0.1", _closed_port(), name="two")
    assert refused.get("refused", "/ok/").error == "ConnectionRefusedError"
    summary = client.summarise(user.samples + refused.samples, seconds=1.0)
    assert (summary.requests, summary.errors) == (5, 4)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_form_parser_reads_the_post_form_and_fills_every_field(tools):
    client, _ = tools
    form = client.parse_form(FORM_PAGE.format(token="abc"))
    assert set(form.fields) == {"csrfmiddlewaretoken", "bond1", "half", "mood", "open1", "must"}
    assert form.hidden == {"csrfmiddlewaretoken": "abc"}
    assert form.fields["mood"].choices == ["1", "2"] and form.fields["must"].required
    for seed in range(20):
        data = client.fill_form(form, random.Random(seed))
        assert data["csrfmiddlewaretoken"] == "abc"
        assert data["bond1"] in {str(i) for i in range(11)}
        assert data["half"] in {"0", "0.5", "1", "1.5", "2"}
        assert data["must"] and "open1" in data
    with pytest.raises(ValueError):
        client.parse_form("<p>no form here</p>")


def test_users_on_threads_submit_forms_with_the_csrf_cookie_within_the_budget(tools, server):
    client, web_load = tools
    tokens = [f"t{i}" for i in range(100)]
    step = web_load.make_checkin_step(tokens, random.Random(1))
    users = [(client.VirtualUser("127.0.0.1", server, name=f"u{i}"), step, 2) for i in range(4)]
    run = client.run_users(users, seconds=30, max_requests=20)
    assert run.failures == []
    assert len(run.samples) == 20                    # the budget, exactly: 10 check-ins
    assert len(Handler.submitted) == 10 and len(tokens) == 90
    assert sum(s.failed for s in run.samples) == 0
    assert {s.kind for s in run.samples} == {"check-in form", "check-in submit"}


def test_a_run_stops_when_the_links_run_out_and_counts_refused_submissions(tools, server):
    client, web_load = tools
    tokens = ["a", "b", "c"]
    step = web_load.make_checkin_step(tokens, random.Random(1))
    broken = lambda user: (user.post("check-in submit", "/c/x/", {"no": "token"},
                                     redirect_to="/c/thanks/"), True)[1]
    users = [(client.VirtualUser("127.0.0.1", server, name="client"), step, 2),
             (client.VirtualUser("127.0.0.1", server, name="forger"), broken, 1)]
    run = client.run_users(users, seconds=0.2, max_requests=10_000)
    forged = [s for s in run.samples if s.kind == "check-in submit" and s.status == 403]
    assert tokens == [] and len(Handler.submitted) == 3
    assert forged and all(s.error == "HTTP 403" for s in forged)
    assert sum(s.failed for s in run.samples) == len(forged)


def _first_request_of_each_user(run) -> list[float]:
    first: dict[str, float] = {}
    for sample in run.samples:  # in order of start
        first.setdefault(sample.kind, sample.started)
    return sorted(first.values())


def test_users_who_pause_between_actions_also_start_at_random_moments(tools, server):
    client, _ = tools
    visit = lambda user: (user.get(user.name, "/ok/"), True)[1]  # the kind names the user
    users = [(client.VirtualUser("127.0.0.1", server, name=f"u{i}"), visit, 1)
             for i in range(10)]
    paused = _first_request_of_each_user(
        client.run_users(users, seconds=4, max_requests=10_000, think=0.3, seed=3))
    # Exponential pauses with a mean of 0.3 s before the first visit too (with this seed
    # from 0.005 to 1.04 s): no burst of ten.
    assert len(paused) == 10 and paused[-1] - paused[0] > 0.8
    closed = _first_request_of_each_user(client.run_users(users, seconds=0.5,
                                                          max_requests=10_000))
    assert len(closed) == 10 and closed[-1] - closed[0] < 0.5


def test_the_server_log_counts_locked_databases_and_tracebacks(tools):
    _, web_load = tools
    log = ("2026-01-01 ERROR alliance.web.monitoring.receivers: recomputing signals failed\n"
           "Traceback (most recent call last):\n"
           "django.db.utils.OperationalError: database is locked\n"
           "[2026-01-01] [CRITICAL] WORKER TIMEOUT (pid:12)\n")
    assert web_load.log_counts(log) == {"database_locked": 1, "tracebacks": 1,
                                        "error_lines": 2, "worker_timeouts": 1}


def test_the_quick_mode_is_small(tools):
    _, web_load = tools
    args = web_load.parse_args(["--quick"])
    assert (args.seconds, args.users, args.max_requests) == (3.0, 4, 300)
    # 3 s at 25 links a second for each of the two scenarios that submit, and the warm-up
    pools = web_load.share_links([str(i) for i in range(web_load.links_needed(args))], args)
    assert len(pools["check-in"]) == len(pools["mix"]) == 75
    assert len({t for pool in pools.values() for t in pool}) == web_load.links_needed(args)
    assert web_load.parse_args([]).users == 20


# --------------------------------------------------------------------------- the real forms

def test_the_benchmark_fills_in_and_submits_the_real_check_in_form(tools, issued, db):
    from django.test import Client

    client, _ = tools
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(issued.path)
    form = client.parse_form(page.content.decode())
    assert "csrfmiddlewaretoken" in form.hidden
    data = client.fill_form(form, random.Random(4))
    reply = browser.post(issued.path, data)
    assert reply.status_code == 302 and reply["Location"] == "/c/thanks/"
    issued.administration.refresh_from_db()
    assert issued.administration.is_submitted


def test_the_benchmark_logs_in_through_the_real_login_form(tools, therapist, db):
    from django.test import Client

    client, _ = tools
    therapist.user.set_password("a benchmark password")
    therapist.user.save()
    browser = Client(enforce_csrf_checks=True)
    form = client.parse_form(browser.get("/login/").content.decode())
    reply = browser.post("/login/", {**form.hidden, "username": therapist.user.username,
                                     "password": "a benchmark password"})
    assert reply.status_code == 302
    assert browser.get("/cases/").status_code == 200

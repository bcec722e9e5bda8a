"""Concurrent redemption of one check-in link through a real server (each database).

Fifty clients that all opened the same check-in link send their answers at the same moment
to a real server (a thread per request, each with its own database connection): exactly
one gets the thank-you, the other 49 the "already answered" page, and exactly one set of
answers is stored. The service-level race is in tests/web/test_checkin_links.py.
"""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

from alliance.web.checkins import services
from alliance.web.checkins.models import Administration, CheckinLink

from helpers import checkin_post

CONTENDERS = 50
ALREADY_ANSWERED = "Your answers are already in"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 302 to the thank-you page is the answer we count


def opener_with(cookies):
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies), NoRedirect)


class Server(ThreadedWSGIServer):
    # Room for every contender in the listen queue (Django's own live server keeps 10, and
    # the kernel resets the connections beyond it).
    request_queue_size = CONTENDERS + 14


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server_url():
    """The site served by a threaded WSGI server on a free port: a thread per request."""
    server = Server(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=30)


def fetch(opener, url, data=None):
    """(status, body) of a GET, or of a POST when `data` is given; never raises for 4xx."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with opener.open(url, body, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.mark.django_db(transaction=True)
def test_of_fifty_clients_sending_one_link_at_once_one_is_thanked_and_49_are_told_it_is_answered(
        server_url, therapist, open_case, client_answers):
    case = open_case(therapist, "C-RUSH1")
    issued = services.issue_link(case.sessions.get(), "alliance-client", by=therapist)
    url = server_url + issued.path

    # Everyone opens the form first (as fifty tabs would), with their own CSRF cookie.
    contenders = []
    for _ in range(CONTENDERS):
        cookies = http.cookiejar.CookieJar()
        opener = opener_with(cookies)
        status, page = fetch(opener, url)
        assert status == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        contenders.append((opener, token))

    start = threading.Barrier(CONTENDERS, timeout=60)
    outcomes: list[tuple[int, str]] = [None] * CONTENDERS

    def send(index, opener, token):
        answers = {**checkin_post({**client_answers, "bond1": index % 11},
                                  f"From tab {index}."),
                   "csrfmiddlewaretoken": token}
        start.wait()
        outcomes[index] = fetch(opener, url, answers)

    threads = [threading.Thread(target=send, args=(i, *contender))
               for i, contender in enumerate(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [302] + [410] * (CONTENDERS - 1), statuses
    refused = [body for status, body in outcomes if status == 410]
    assert all(ALREADY_ANSWERED in body for body in refused)
    stored = Administration.objects.filter(submitted_at__isnull=False,
                                           instrument_id="alliance-client")
    assert stored.count() == 1
    assert Administration.objects.filter(submitted_at__isnull=False).count() == 2  # + wellbeing
    winner = next(i for i, (status, _) in enumerate(outcomes) if status == 302)
    assert stored.get().answers == {"more_helpful": f"From tab {winner}."}
    assert CheckinLink.objects.filter(used_at__isnull=False).count() == 1

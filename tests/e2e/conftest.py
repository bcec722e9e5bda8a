"""Browser tests: headless Chromium, driven by Playwright, against a live server.

**Browser.** Debian's Chromium at /usr/bin/chromium (`make browser` installs it; `make test`
runs that first). Playwright never downloads a browser here. One browser per test process
(session fixture); each test gets fresh browser contexts (cookies, storage), so tests never
share a sign-in. Without /usr/bin/chromium every browser test fails with a message that says
how to install it; they never skip silently.

**Server.** pytest-django's `live_server`: Django's threaded WSGI server in this process on a
free port of 127.0.0.1, with the test settings (production settings over plain HTTP, the
Content Security Policy, WhiteNoise) and the test database, on SQLite or PostgreSQL alike.
We chose it over starting gunicorn through `alliance serve` because the data a test builds
with the services (committed: these tests use `transactional_db`, flushed after each test)
is what the server reads, with no second database, settings or process to coordinate, and
it starts in milliseconds. gunicorn itself is exercised by tests/web/test_server_commands.py
and the demo tests.

**Async safety.** Playwright's sync API keeps an asyncio event loop running in the main
thread while the browser is open, and Django refuses ORM calls from a thread with a running
loop (SynchronousOnlyOperation). The tests call the ORM only from plain synchronous code
between browser steps, so DJANGO_ALLOW_ASYNC_UNSAFE is set for this test process: the
session-wide browser would otherwise break database tests that run later in the same
process.

**Screenshots** of the main pages go to test-artifacts/screenshots/ (full-page PNGs, kept out
of git) for people to look at; `screenshot(page, name)` saves one.

Every page a test opens is watched: a console error (including a Content Security Policy
violation), an uncaught script error or a server error (5xx) fails the test.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from browser_steps import DESKTOP, PASSWORD, PHONE, Riverside

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]


# --- the browser ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"The browser tests need Debian's Chromium at {CHROMIUM}, which is missing. "
                    "Install it with `make browser` (apt-get install chromium).", pytrace=False)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@dataclass
class PageProblems:
    """What went wrong in the pages of one context: console errors, script errors, 5xx."""

    items: list[str]

    def watch(self, page) -> None:
        page.on("console", lambda m: m.type == "error" and self.items.append(
            f"console error on {page.url}: {m.text}"))
        page.on("pageerror", lambda e: self.items.append(f"script error on {page.url}: {e}"))
        page.on("response", lambda r: r.status >= 500 and self.items.append(
            f"{r.status} from {r.url}"))


@pytest.fixture
def open_context(browser, live_server):
    """open_context(**options) -> a new page in a fresh context, on the live server."""
    contexts, problems = [], PageProblems([])

    def open_page(**options):
        context = browser.new_context(base_url=live_server.url, locale="en-GB", **options)
        context.set_default_timeout(10_000)
        context.on("page", problems.watch)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()
    # A 404 or 410 logged as a failed resource load is expected on the link pages that
    # answer with those statuses, and a 400 on a form sent back with its problems marked;
    # anything else is a problem.
    real = [p for p in problems.items
            if not re.search(r"status of 4(00|04|10) \(", p)]
    assert not real, "\n".join(real)


@pytest.fixture
def desktop(open_context):
    return open_context(**DESKTOP)


@pytest.fixture
def phone(open_context):
    return open_context(**PHONE)


@pytest.fixture(scope="session")
def screenshot_dir(request):
    folder = request.config.rootpath / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def screenshot(screenshot_dir):
    """screenshot(page, name): a full-page PNG in test-artifacts/screenshots/<name>.png.

    Given a locator instead of a page, the PNG shows that part of the page.
    """
    from playwright.sync_api import Page

    def take(target, name: str) -> Path:
        path = screenshot_dir / f"{name}.png"
        options = {"full_page": True} if isinstance(target, Page) else {}
        target.screenshot(path=str(path), animations="disabled", **options)
        return path
    return take


# --- data, built through the services staff and clients use ----------------------------------

@pytest.fixture
def riverside(transactional_db):
    """A clinic that chose the six-question client check-in and the sensitive rule sd1
    (window 3; other settings default) with an admin, a supervisor who supervises
    `therapist`, and the therapist. The browser stories draw one-point drops by hand, which
    sd1 catches; new clinics start with sd2 and the short check-in."""
    from django.contrib.auth import get_user_model

    from alliance.web.clinics.models import Clinic, StaffMember

    clinic = Clinic.objects.create(name="Riverside Counselling", rupture_rule="sd1",
                                   instruments_in_use=["alliance-client", "alliance-therapist",
                                                       "wellbeing"])

    def staff(email, role, name):
        user = get_user_model().objects.create_user(username=email, email=email,
                                                    password=PASSWORD)
        return StaffMember.objects.create(user=user, clinic=clinic, role=role,
                                          display_name=name)

    therapist = staff("therapist@riverside.example", StaffMember.Role.THERAPIST, "Alex Moreno")
    supervisor = staff("supervisor@riverside.example", StaffMember.Role.SUPERVISOR,
                       "Dr Helen Okafor")
    supervisor.supervisees.add(therapist)
    admin = staff("admin@riverside.example", StaffMember.Role.ADMIN, "Chris Patel")
    return Riverside(clinic=clinic, admin=admin, supervisor=supervisor, therapist=therapist)


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free loopback port, with Django sending to it: the
    list of parsed e-mails it received. The server answers "250 OK" only after the message
    is in the list, so a sent e-mail is there when Django's send returns (no waiting)."""
    import email
    import email.policy
    import socket

    from aiosmtpd.controller import Controller
    from django.test import override_settings

    received: list = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(email.message_from_bytes(envelope.content,
                                                     policy=email.policy.default))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                               EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_USE_TLS=False,
                               EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD=""):
            yield received
    finally:
        controller.stop()

"""The Content Security Policy in a real browser: the main pages run without a single
violation, and the policy really stops inline code (so a violation would be seen)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from browser_steps import DESKTOP, answer_check_in, sign_in

pytestmark = pytest.mark.e2e

# Runs before the page's own scripts in every document (injected by the browser's debugging
# protocol, so the policy does not apply to it): keeps every violation the page reports.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
                              + ` in ${event.documentURI}`);
});
"""


class Watched:
    """A page whose CSP violations and CSP console messages are collected."""

    def __init__(self, browser, base_url):
        self.context = browser.new_context(base_url=base_url, **DESKTOP)
        self.context.set_default_timeout(10_000)
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.page.on("console", lambda m: "Content Security Policy" in m.text
                     and self.console.append(m.text))

    def violations(self) -> list[str]:
        self.page.wait_for_load_state("load")
        return self.page.evaluate("() => window.__cspViolations") + self.console

    def visit(self, path: str) -> list[str]:
        response = self.page.goto(path)
        assert response.status < 500, path
        return self.violations()


@pytest.fixture
def watched(browser, live_server):
    opened = []

    def open_watched():
        opened.append(Watched(browser, live_server.url))
        return opened[-1]

    yield open_watched
    for one in opened:
        one.context.close()


def test_the_main_pages_run_without_a_content_security_policy_violation(riverside, watched):
    case, token = riverside.case("C-CSP01", [8, 6, 7], then_link=True)
    found = {}

    client = watched()
    found["login"] = client.visit("/login/")
    found["portal sign-in"] = client.visit(reverse("portal:sign_in"))
    found["check-in form"] = client.visit(f"/c/{token}/")
    answer_check_in(client.page, token, 6)  # ends on "Thank you"
    found["thank-you"] = client.violations()

    therapist = watched()
    sign_in(therapist.page, riverside.therapist)
    found["caseload"] = therapist.violations()
    found["case page with charts"] = therapist.visit(reverse("care:case", args=[case.pk]))
    found["session"] = therapist.visit(reverse("care:session", args=[case.pk, 1]))

    supervisor = watched()
    sign_in(supervisor.page, riverside.supervisor)
    found["supervision"] = supervisor.visit(reverse("monitoring:supervision"))

    admin = watched()
    sign_in(admin.page, riverside.admin)
    found["staff"] = admin.violations()
    found["clinic settings"] = admin.visit(reverse("clinics:settings"))

    assert {page: v for page, v in found.items() if v} == {}


def test_the_browser_refuses_inline_code_under_the_policy(watched, db):
    client = watched()
    assert client.visit("/login/") == []
    client.page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__inlineRan = true";
        document.head.appendChild(script);
        document.body.setAttribute("style", "background: red");
    }""")
    client.page.wait_for_function("() => window.__cspViolations.length >= 2")
    assert client.page.evaluate("() => window.__inlineRan") is None
    seen = " ".join(client.violations())
    assert "script-src-elem blocked inline" in seen
    assert "style-src-attr blocked inline" in seen

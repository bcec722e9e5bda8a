"""The API's documentation page in a real browser: Swagger UI from this site's own static
files renders every resource under the Content Security Policy (a violation is a console
error, which fails the test), and a request tried from the page with a token answers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_the_api_docs_page_renders_the_operations_and_tries_one_with_a_token(
        desktop, riverside, screenshot):
    from alliance.web.api import tokens

    token = tokens.create_token(riverside.clinic, riverside.therapist, name="Docs page",
                                scope="read").token
    page = desktop
    page.goto("/api/docs/")
    expect(page.get_by_text("Alliance API").first).to_be_visible()
    for path in ("/api/clients/", "/api/cases/", "/api/administrations/", "/api/signals/",
                 "/api/goals/{id}/agree/"):
        expect(page.locator(f".opblock-summary-path[data-path='{path}']").first).to_be_visible()
    screenshot(page, "api-docs")
    page.get_by_role("button", name="Authorize").click()
    page.locator(".modal-ux input[type='text']").fill(token)
    page.locator(".modal-ux button.authorize").click()
    page.locator(".modal-ux button.btn-done").click()
    cases = page.locator("#operations-cases-cases_list")
    cases.locator(".opblock-summary").click()
    cases.get_by_role("button", name="Try it out").click()
    cases.get_by_role("button", name="Execute").click()
    status = cases.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200")
    expect(cases.locator(".live-responses-table tbody .microlight").first).to_contain_text(
        '"count": 0')

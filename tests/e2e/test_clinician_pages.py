"""The pages a clinician and an administrator use day to day, on a laptop and on a phone:
the caseload's search, ended cases, the audit trail, the import page and its help, the
research export, the first-run checklist and "How Alliance works". Each page fits the
window (nothing to scroll sideways); screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from alliance.web.care import services
from alliance.web.care.models import Case

from browser_steps import PHONE, no_sideways_scroll, sign_in

pytestmark = pytest.mark.e2e

LAPTOP = {"viewport": {"width": 1366, "height": 768}}
SIZES = [(LAPTOP, "laptop"), (PHONE, "phone")]


@pytest.mark.parametrize("device,label", SIZES, ids=["laptop", "phone"])
def test_the_therapist_finds_a_client_by_name_and_reopens_an_ended_case(
        riverside, open_context, screenshot, device, label):
    case = riverside.case("C-FIND1", [8, 7])
    services.rename_client(case.client, "Samira Okonkwo")
    riverside.case("C-OTHER", [8])
    ended = riverside.case("C-DONE1", [6])
    services.end_case(ended, status=Case.Status.CLOSED, end_date=dt.date(2026, 2, 1))

    page = open_context(**device)
    sign_in(page, riverside.therapist)
    expect(page.get_by_text("Samira Okonkwo")).to_be_visible()
    page.get_by_label("Find a client").fill("okonk")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("link", name="C-FIND1")).to_be_visible()
    expect(page.get_by_role("link", name="C-OTHER")).to_have_count(0)
    assert no_sideways_scroll(page)
    screenshot(page, f"caseload-search-{label}")

    page.get_by_role("link", name="Ended cases").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ended cases")
    assert no_sideways_scroll(page)
    screenshot(page, f"ended-cases-{label}")
    page.get_by_role("link", name="C-DONE1").click()
    page.get_by_role("link", name="Documents").click()
    page.get_by_role("button", name="Reopen this case").click()
    expect(page.get_by_role("status")).to_contain_text("The case is open again.")
    ended.refresh_from_db()
    assert ended.is_active


@pytest.mark.parametrize("device,label", SIZES, ids=["laptop", "phone"])
def test_the_administrators_pages_fit_and_use_the_common_form_style(
        riverside, open_context, screenshot, device, label):
    riverside.case("C-AUD01", [8])
    page = open_context(**device)
    sign_in(page, riverside.admin)
    expect(page.get_by_role("heading", name="Getting your clinic ready")).to_be_visible()
    assert no_sideways_scroll(page)
    screenshot(page, f"staff-first-run-{label}")

    page.goto("/clinic/import/")
    file_input = page.locator("input[type=file]")
    # The file input is styled (a dashed frame), not the browser's bare control.
    assert file_input.evaluate("e => getComputedStyle(e).borderStyle") == "dashed"
    checkbox = page.get_by_label("Only check the file; import nothing")
    box, label_box = checkbox.bounding_box(), page.locator(
        "label[for=%s]" % checkbox.get_attribute("id")).bounding_box()
    # The checkbox sits before its label on the same line, as in every other form.
    assert box["x"] < label_box["x"]
    assert label_box["y"] - 4 <= box["y"] <= label_box["y"] + label_box["height"]
    assert no_sideways_scroll(page)
    screenshot(page, f"import-history-{label}")
    page.get_by_role("link", name="The file format in full, with an example file").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The history file")
    expect(page.locator("pre.example-file")).to_contain_text("K-104,therapist@riverside.example")
    screenshot(page, f"import-help-{label}")

    page.goto("/clinic/research-export/")
    assert no_sideways_scroll(page)
    screenshot(page, f"research-export-{label}")

    page.goto("/clinic/audit/")
    expect(page.get_by_role("link", name="Download as CSV")).to_have_attribute("download", "")
    expect(page.locator("td", has_text="Chris Patel (administrator)").first).to_be_visible()
    assert no_sideways_scroll(page)
    screenshot(page, f"audit-{label}")

    page.goto("/reports/signals/")
    expect(page.get_by_text("— means repair actions are not recorded")).to_be_visible()
    assert no_sideways_scroll(page)
    screenshot(page, f"signals-report-{label}")


@pytest.mark.parametrize("device,label", SIZES, ids=["laptop", "phone"])
def test_how_alliance_works_reads_well(riverside, open_context, screenshot, device, label):
    page = open_context(**device)
    sign_in(page, riverside.therapist)
    page.locator("details.account > summary").click()
    page.locator("details.account").get_by_role("link", name="How Alliance works").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How Alliance works")
    assert no_sideways_scroll(page)
    screenshot(page, f"how-alliance-works-{label}")

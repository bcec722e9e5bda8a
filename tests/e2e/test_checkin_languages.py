"""A client answers the check-in in their own language on a phone: Arabic from right to
left, and Spanish, chosen from the language switcher. The screenshots go to
/tmp/alliance-screenshots/ (their paths are printed) for a person to look at."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from alliance.web import instruments
from alliance.web.checkins.models import Administration

from browser_steps import choose, no_sideways_scroll

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path("/tmp/alliance-screenshots")


def shoot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    print(f"screenshot: {path}")
    return path


def answer_every_question(page, language: str, value: int) -> None:
    for instrument_id in ("alliance-client", "wellbeing"):
        spec = instruments.form_spec(instruments.get_instrument(instrument_id), language)
        for item in spec.items:
            choose(page.get_by_role("group", name=item.text, exact=True), value, tap=True)


def submitted(case) -> dict[str, str]:
    return dict(Administration.objects.filter(session__case=case, session__number=2,
                                              submitted_at__isnull=False)
                .values_list("instrument_id", "language"))


def test_a_client_answers_the_check_in_in_arabic_right_to_left_on_a_phone(riverside, phone):
    case, token = riverside.case("C-AR001", [8], then_link=True)
    case.client.language = "ar"
    case.client.save(update_fields=["language"])

    phone.goto(f"/c/{token}/")
    html = phone.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(phone.get_by_role("heading", level=1)).to_have_text("استبيانك")
    # The first session's check-in: today's session, how life is going, and the intake.
    expect(phone.get_by_role("heading", level=2)).to_have_text(
        ["عن جلسة اليوم", "كيف تسير حياتك", "للبداية: عنك وعن علاجك"])
    # Right to left for real: the scale's 0 stands to the right of its 10.
    first = phone.locator("fieldset.scale-item").first
    zero = first.locator("label.scale-point").first.bounding_box()
    ten = first.locator("label.scale-point").last.bounding_box()
    assert zero["x"] > ten["x"]
    assert no_sideways_scroll(phone)
    shoot(phone, "checkin-arabic-phone")

    answer_every_question(phone, "ar", 8)
    phone.get_by_role("button", name="أرسل إجاباتي").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("شكرًا لك")
    expect(phone.locator("html")).to_have_attribute("dir", "rtl")
    assert no_sideways_scroll(phone)
    shoot(phone, "checkin-arabic-thanks-phone")
    assert submitted(case) == {"alliance-client": "ar", "wellbeing": "ar"}


def test_a_client_switches_the_check_in_to_spanish_and_answers_it_on_a_phone(riverside,
                                                                           phone):
    case, token = riverside.case("C-ES001", [8], then_link=True)

    phone.goto(f"/c/{token}/")
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    phone.get_by_label("Language").select_option("es")
    phone.get_by_role("button", name="Change language").tap()

    expect(phone.locator("html")).to_have_attribute("lang", "es")
    expect(phone.locator("html")).to_have_attribute("dir", "ltr")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Su cuestionario")
    assert no_sideways_scroll(phone)
    shoot(phone, "checkin-spanish-phone")
    case.client.refresh_from_db()
    assert case.client.language == "es"  # the client's choice is kept for next time

    # Sent with a question left alone: the page asks for it, in Spanish.
    answer_every_question(phone, "es", 6)
    phone.locator("fieldset.scale-item").first.locator("input:checked").evaluate(
        "input => { input.checked = false; }")
    phone.get_by_role("button", name="Enviar mis respuestas").tap()
    expect(phone.get_by_text("Responda a esta pregunta, por favor.")).to_be_visible()
    shoot(phone, "checkin-spanish-missing-answer-phone")
    first = instruments.form_spec(instruments.get_instrument("alliance-client"), "es").items[0]
    choose(phone.get_by_role("group", name=first.text, exact=True), 6, tap=True)
    phone.get_by_role("button", name="Enviar mis respuestas").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Gracias")
    shoot(phone, "checkin-spanish-thanks-phone")
    assert submitted(case) == {"alliance-client": "es", "wellbeing": "es"}

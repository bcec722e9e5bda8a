"""The client's side in the client's language: the shipped catalogues are complete, the
check-in shows no English in another language, and the language is chosen as
docs/languages.md says (the client's, else the browser's, else English), with a switcher,
right-to-left Arabic, and forms that fall back whole to their instrument's own language."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from alliance.core.instruments import parse_definition
from alliance.web import catalogues, instruments, localtime
from alliance.web.checkins.models import Administration
from alliance.web.portal import services as portal_services

from helpers import checkin_post

LANGUAGES = catalogues.LANGUAGES
# The check-in's forms in the web tests' clinic (its session check-in).
FORMS = ("alliance-client", "wellbeing")


def set_language(client_record, language):
    client_record.language = language
    client_record.save(update_fields=["language"])


def english_texts_of_forms() -> set[str]:
    """Every English text a respondent reads in the check-in's forms."""
    texts = set()
    for instrument_id in FORMS:
        spec = instruments.form_spec(instruments.get_instrument(instrument_id), "en")
        texts.add(spec.heading)
        texts.update(item.text for item in spec.items)
        texts.update(anchor.label for item in spec.items for anchor in item.anchors)
        texts.update(question.text for question in spec.questions)
    return texts


def english_left(html: str, language: str) -> list[str]:
    """English text of the catalogue or of the forms still in `html` rendered in
    `language` (a message translated by the same words, such as "Date" in French, is
    not English left)."""
    translated = catalogues.translations(language)
    found = []
    for (_context, msgid), text in translated.items():
        if text == msgid:
            continue
        # The words between placeholders and markup, long enough to mean something.
        for fragment in re.split(r"%\(\w+\)s|<[^>]+>", msgid):
            fragment = fragment.strip(" .,:;()“”")
            if len(fragment) >= 12 and escape(fragment) in html:
                found.append(fragment)
    found.extend(text for text in english_texts_of_forms() if escape(text) in html)
    return found


# ------------------------------------------------------------------------ the catalogues

def test_every_shipped_language_has_every_client_facing_message_translated():
    # Missing, empty, fuzzy or no longer used messages, and a .mo that is not its .po.
    assert [str(problem) for problem in catalogues.check()] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_committed_mo_file_holds_what_its_po_file_compiles_to(language):
    compiled = catalogues.compiled(language)
    assert compiled == catalogues.translations(language)
    assert len(compiled) == len([m for m in catalogues.extract() if m.id])


def test_the_check_finds_a_message_without_translation(tmp_path, monkeypatch):
    # The check can fail: a catalogue missing one message is reported, by name.
    from babel.messages.pofile import write_po

    catalogue = catalogues.read("es")
    catalogue.delete("Send my answers")
    monkeypatch.setattr(catalogues, "LOCALE_DIR", tmp_path)
    path = catalogues.po_path("es")
    path.parent.mkdir(parents=True)
    with path.open("wb") as handle:
        write_po(handle, catalogue)
    catalogues.compile_all(["es"])
    assert [str(p) for p in catalogues.check(["es"])] == ["es: missing: 'Send my answers'"]


# ------------------------------------------------------------- no English on the page

@pytest.mark.parametrize("language", LANGUAGES)
def test_the_checkin_page_in_each_language_has_no_english_left(client, issued, language):
    set_language(issued.administration.session.case.client, language)
    html = client.get(issued.path).content.decode()
    assert f'<html lang="{language}"' in html
    assert english_left(html, language) == []
    # Sent incomplete, it asks again, in the same language.
    resent = client.post(issued.path, {"bond1": "5"})
    assert resent.status_code == 400
    assert english_left(resent.content.decode(), language) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_thank_you_page_follows_in_the_language_of_the_form(client, issued,
                                                                 client_answers, language):
    set_language(issued.administration.session.case.client, language)
    response = client.post(issued.path, checkin_post(client_answers))
    thanks = client.get(response["Location"]).content.decode()
    assert f'<html lang="{language}"' in thanks
    assert english_left(thanks, language) == []


def test_the_english_page_is_found_to_have_english(client, issued):
    # The check above can fail: the English page is full of English.
    html = client.get(issued.path).content.decode()
    assert len(english_left(html, "fr")) > 10


# ------------------------------------------------------------------- choosing a language

def test_the_checkin_is_in_the_clients_language_whatever_the_browser_says(client, issued):
    set_language(issued.administration.session.case.client, "es")
    html = client.get(issued.path, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="es" dir="ltr">' in html
    assert "Me sentí con la confianza suficiente" in html
    assert "Enviar mis respuestas" in html


def test_without_a_language_of_the_client_the_browsers_language_is_used(client, issued):
    html = client.get(issued.path, HTTP_ACCEPT_LANGUAGE="fr-CH,fr;q=0.9,en;q=0.5").content
    assert '<html lang="fr"' in html.decode()
    assert "Envoyer mes réponses" in html.decode()


def test_without_either_the_checkin_is_in_english(client, issued):
    html = client.get(issued.path, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<html lang="en" dir="ltr">' in html
    assert "Send my answers" in html


def test_an_unknown_link_and_the_portal_sign_in_follow_the_browser(client, db):
    unknown = client.get("/c/not-a-real-token/", HTTP_ACCEPT_LANGUAGE="de")
    assert unknown.status_code == 404
    assert "Wir konnten diese Rückmeldung nicht öffnen" in unknown.content.decode()
    sign_in = client.get(reverse("portal:sign_in"), HTTP_ACCEPT_LANGUAGE="pt-PT")
    assert '<html lang="pt"' in sign_in.content.decode()
    assert "Entrar na sua página" in sign_in.content.decode()
    assert "Accept-Language" in sign_in["Vary"]


def test_staff_pages_stay_in_english_whatever_the_browser_says(client, db):
    html = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="en" dir="ltr">' in html


def test_an_expired_link_speaks_the_clients_language(client, issued):
    set_language(issued.administration.session.case.client, "fr")
    issued.link.expires_at = issued.link.created_at
    issued.link.save(update_fields=["expires_at"])
    response = client.get(issued.path)
    assert response.status_code == 410
    assert "Ce lien a expiré" in response.content.decode()


def test_arabic_pages_are_right_to_left(client, issued):
    set_language(issued.administration.session.case.client, "ar")
    html = client.get(issued.path).content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "أرسل إجاباتي" in html


def test_the_switcher_saves_the_language_of_the_client_answering_a_link(client, issued):
    response = client.post(reverse("set_language"), {"language": "ar", "next": issued.path},
                           HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == issued.path
    record = issued.administration.session.case.client
    record.refresh_from_db()
    assert record.language == "ar"
    assert response.cookies["alliance_language"].value == "ar"
    assert 'dir="rtl"' in client.get(issued.path).content.decode()
    # The link still works: choosing a language changed nothing else.
    issued.link.refresh_from_db()
    assert issued.link.used_at is None


def test_the_switcher_on_a_page_without_a_client_only_remembers_the_browsers_choice(
        client, issued):
    response = client.post(reverse("set_language"),
                           {"language": "de", "next": reverse("portal:sign_in")})
    assert response["Location"] == reverse("portal:sign_in")
    assert "Bei Ihrer Seite anmelden" in client.get(reverse("portal:sign_in")).content.decode()
    record = issued.administration.session.case.client
    record.refresh_from_db()
    assert record.language == ""


def test_the_switcher_refuses_an_unknown_language_and_a_foreign_address(client, db):
    assert client.post(reverse("set_language"), {"language": "xx"}).status_code == 400
    response = client.post(reverse("set_language"),
                           {"language": "es", "next": "https://elsewhere.example/"})
    assert response["Location"] == reverse("portal:home")
    # Not a path: a bare word (once taken for a view's name, an error) goes home too.
    for target in ("0", "portal:home", "//elsewhere.example/"):
        response = client.post(reverse("set_language"), {"language": "es", "next": target})
        assert response.status_code == 302 and response["Location"] == reverse("portal:home")


def test_the_portal_is_in_the_signed_in_clients_language_and_the_switcher_saves_it(
        client, case, therapist, clinic):
    clinic.client_portal_enabled = True
    clinic.save(update_fields=["client_portal_enabled"])
    account = portal_services.invite(case, by=therapist)
    set_language(case.client, "pt")
    client.force_login(account.user)
    assert "O seu progresso" in client.get(reverse("portal:home")).content.decode()
    client.post(reverse("set_language"), {"language": "fr", "next": reverse("portal:home")})
    case.client.refresh_from_db()
    assert case.client.language == "fr"
    assert "Vos progrès" in client.get(reverse("portal:home")).content.decode()


def test_the_therapist_sets_the_clients_language_on_the_case_page(login, therapist, case):
    from alliance.web.outreach.forms import ContactForm

    form = ContactForm({"contact_email": "client@example.org", "phone": "",
                        "preferred_contact": "", "time_zone": "", "language": "de"},
                       instance=case.client)
    assert form.is_valid(), form.errors
    form.save()
    case.client.refresh_from_db()
    assert case.client.language == "de"


# ------------------------------------------------------------- forms and their language

def test_the_administration_stores_the_language_the_form_was_shown_in(client, issued,
                                                                      client_answers):
    set_language(issued.administration.session.case.client, "ar")
    client.post(issued.path, checkin_post(client_answers))
    stored = dict(Administration.objects.filter(respondent="client")
                  .values_list("instrument_id", "language"))
    assert stored == {"alliance-client": "ar", "wellbeing": "ar"}


def english_only(instrument):
    """The instrument as a definition in English only (as a clinic's own form may be)."""
    data = instrument.model_dump(mode="python", exclude_none=True)
    data["languages"] = ["en"]

    def keep_english(value):
        if isinstance(value, dict):
            if value and set(value) <= set(LANGUAGES) | {"en"}:
                return {k: v for k, v in value.items() if k == "en"}
            return {k: keep_english(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [keep_english(v) for v in value]
        return value

    return parse_definition(keep_english(data))


def test_a_form_missing_the_clients_language_is_shown_whole_in_its_own_language(
        client, issued, client_answers, monkeypatch):
    real = instruments.get_instrument
    wellbeing = english_only(real("wellbeing"))
    monkeypatch.setattr(instruments, "get_instrument",
                        lambda i: wellbeing if i == "wellbeing" else real(i))
    set_language(issued.administration.session.case.client, "es")
    html = client.get(issued.path).content.decode()
    # The alliance part in Spanish; the wellbeing part wholly in English, and said so.
    assert "Me sentí con la confianza suficiente" in html
    assert escape("Over the past week, how have you been feeling in yourself?") in html
    assert "Really difficult" in html and "Muy difícil" not in html
    assert "How life has been going" in html
    assert "se muestran en su idioma original (English)" in html
    assert '<section class="checkin-part" aria-labelledby="part-2" lang="en"' in html
    client.post(issued.path, checkin_post(client_answers))
    stored = dict(Administration.objects.filter(respondent="client")
                  .values_list("instrument_id", "language"))
    assert stored == {"alliance-client": "es", "wellbeing": "en"}


# --------------------------------------------------------------- e-mails, dates, numbers

def test_the_checkin_email_is_in_the_clients_language(issued):
    from alliance.web.outreach import services as outreach
    from alliance.web.outreach.models import Channel

    set_language(issued.administration.session.case.client, "de")
    outreach.send_link(issued, Channel.EMAIL)
    message = mail.outbox[-1]
    assert "eine kurze Rückmeldung zu Ihrer Sitzung" in message.subject
    assert "Der Link funktioniert einmal" in message.body
    assert "Januar 2026" in message.body  # the session of 5 January 2026, in German
    html = message.alternatives[0][0]
    assert '<html lang="de" dir="ltr">' in html


def test_the_portal_invitation_is_in_the_clients_language(case, therapist, clinic):
    clinic.client_portal_enabled = True
    clinic.save(update_fields=["client_portal_enabled"])
    set_language(case.client, "es")
    portal_services.invite(case, by=therapist)
    assert mail.outbox[-1].subject == "Su página privada para sus sesiones"


def test_dates_follow_the_language_and_english_keeps_the_house_style():
    day = dt.date(2026, 12, 7)
    moment = dt.datetime(2026, 12, 7, 14, 5, tzinfo=dt.UTC)
    with translation.override("en"):
        assert localtime.format_date(day) == "7 Dec 2026"
    with translation.override("fr"):
        assert localtime.format_date(day) == "7 décembre 2026"
        assert localtime.format_datetime(moment, tz="UTC") == "7 décembre 2026 14:05"
    with translation.override("de"):
        assert localtime.format_date(day) == "7. Dezember 2026"
    with translation.override("es"):
        assert localtime.format_date(day, style="short") == "7 de diciembre"


def test_scores_take_the_decimal_separator_of_the_language():
    from alliance.web.dashboards import text

    with translation.override("en"):
        assert text.score(7.5) == "7.5"
    with translation.override("de"):
        assert text.score(7.5) == "7,5"


def test_a_refused_form_speaks_the_browsers_language(issued):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="es")
    refused = browser.post(issued.path, {"bond1": "5"})
    assert refused.status_code == 403
    assert "Inténtelo de nuevo" in refused.content.decode()


def test_a_page_missing_from_the_portal_speaks_the_clients_language(client, case, therapist,
                                                                    clinic):
    clinic.client_portal_enabled = True
    clinic.save(update_fields=["client_portal_enabled"])
    account = portal_services.invite(case, by=therapist)
    set_language(case.client, "fr")
    client.force_login(account.user)
    missing = client.get(reverse("portal:wellbeing_chart", args=[999_999]))
    assert missing.status_code == 404
    assert "Nous n’avons pas trouvé cette page" in missing.content.decode()

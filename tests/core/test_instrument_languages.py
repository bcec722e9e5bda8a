"""Instruments in several languages: one language for a whole form, a clear fallback to
the source language, translations marked as not validated, and FHIR in any language."""

from __future__ import annotations

import pytest

from alliance.core import fhir
from alliance.core.errors import DefinitionError
from alliance.core.instruments import bundled_instruments, load_bundled, parse_definition

SHIPPED = ["en", "es", "fr", "de", "pt", "ar"]
OWN = ["alliance-brief", "alliance-client", "alliance-therapist", "safety-question",
       "wellbeing"]


@pytest.mark.parametrize("instrument_id", OWN)
def test_the_projects_own_instruments_are_complete_in_every_shipped_language(instrument_id):
    instrument = load_bundled(instrument_id)
    assert list(instrument.languages) == SHIPPED
    assert instrument.administrable_languages() == SHIPPED
    assert instrument.source_language == "en"
    assert instrument.unvalidated_languages == SHIPPED[1:]
    assert "not yet validated" in instrument.wording_notice
    # A translation is a translation: no text is the English one copied.
    for item in instrument.items:
        assert len(set(item.text.values())) == len(SHIPPED), item.id


def test_published_instruments_without_text_have_no_form_language():
    for instrument in bundled_instruments():
        if not instrument.own_wording:
            assert instrument.form_language("es") is None


@pytest.mark.parametrize(("wanted", "shown"), [
    ("es", "es"), ("ar", "ar"), ("pt-BR", "pt"), ("FR", "fr"), ("ja", "en"), (None, "en"),
    ("", "en")])
def test_a_form_is_shown_in_the_wanted_language_or_else_the_source_language(wanted, shown):
    assert load_bundled("wellbeing").form_language(wanted) == shown


def english_and_german(**changes):
    data = load_bundled("wellbeing").model_dump(mode="python", exclude_none=True)
    data["languages"] = ["en", "de"]

    def only(value):
        if isinstance(value, dict):
            if value and set(value) <= set(SHIPPED):
                return {k: v for k, v in value.items() if k in ("en", "de")}
            return {k: only(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [only(v) for v in value]
        return value

    data = only(data)
    data.update(changes)
    return data


def test_a_language_missing_one_label_is_not_offered_so_a_form_never_mixes_languages():
    data = english_and_german(own_wording=False)
    data["scales"]["slider"]["high_label"] = {"en": "Really well"}  # no German label
    instrument = parse_definition(data)
    assert instrument.administrable_languages() == ["en"]
    assert instrument.form_language("de") == "en"


def test_the_projects_own_wording_must_give_every_heading_and_label_in_every_language():
    data = english_and_german()
    data["heading"] = {"en": "How life has been going"}
    with pytest.raises(DefinitionError, match="'de' wording is incomplete"):
        parse_definition(data)


def test_validated_translations_are_not_marked():
    instrument = parse_definition(english_and_german(translations_validated=True))
    assert instrument.unvalidated_languages == []


def test_a_fhir_questionnaire_in_arabic_goes_out_and_comes_back_in_arabic():
    questionnaire = fhir.questionnaire(load_bundled("alliance-brief"), language="ar")
    assert questionnaire["language"] == "ar"
    assert questionnaire["item"][0]["text"] == load_bundled("alliance-brief").items[0].text["ar"]
    back = fhir.instrument_from_questionnaire(questionnaire).instrument
    assert back.form_language("ar") == "ar"
    assert back.items[0].text["ar"] == load_bundled("alliance-brief").items[0].text["ar"]

"""FHIR R4 Questionnaires and QuestionnaireResponses: export, import and round trips."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from alliance.core import fhir
from alliance.core.errors import DefinitionError, InputError
from alliance.core.instruments import bundled_instruments, load_bundled
from alliance.core.scoring import score_administration

# Stand-in wording: the project does not copy a published scale's text.
LICENSED = [f"Licensed wording of item {k}" for k in range(1, 13)]


def wai_from_another_system(*, low: int = 1) -> dict:
    """A WAI-SR as another system would publish it: its own linkIds and answer codes."""
    options = [{"valueCoding": {"system": "http://example.org/answers", "code": f"LA{k}",
                                "display": f"Label {k}"},
                "extension": [{"url": fhir.ORDINAL, "valueDecimal": low + k}]}
               for k in range(5)]
    return {"resourceType": "Questionnaire", "status": "active", "name": "WAI_SR",
            "title": "Working Alliance Inventory – Short Revised", "language": "en",
            "item": [{"linkId": "intro", "type": "display", "text": "Please answer."},
                     {"linkId": "g", "type": "group", "item": [
                         {"linkId": str(k + 1), "type": "choice", "text": LICENSED[k],
                          "answerOption": options} for k in range(12)]}]}


@pytest.mark.parametrize("instrument", bundled_instruments(), ids=lambda i: i.id)
def test_every_bundled_instrument_exports_as_a_valid_questionnaire_and_comes_back_the_same(
        instrument):
    resource = fhir.questionnaire(instrument)
    Questionnaire.model_validate(resource)
    assert resource["url"] == f"urn:alliance:questionnaire:{instrument.id}"
    back = fhir.instrument_from_questionnaire(resource)
    assert back.known == instrument.id
    assert back.instrument == instrument


def in_one_language(scales, language):
    """The scales with their labels in `language` only."""
    def only(label):
        return {k: v for k, v in label.items() if k == language}

    kept = {}
    for name, scale in scales.items():
        if scale.kind == "slider":
            kept[name] = scale.model_copy(update={"low_label": only(scale.low_label),
                                                  "high_label": only(scale.high_label)})
        else:
            kept[name] = scale.model_copy(update={"anchors": tuple(
                a.model_copy(update={"label": only(a.label)}) for a in scale.anchors)})
    return kept


@pytest.mark.parametrize("instrument", bundled_instruments(), ids=lambda i: i.id)
def test_an_unrecognised_questionnaire_keeps_items_scales_and_scoring_through_the_extensions(
        instrument):
    resource = fhir.questionnaire(instrument)
    for key in ("url", "id"):
        resource.pop(key, None)
    resource.update(identifier=[{"value": f"clinic-{instrument.id}"}], name="Own",
                    title="A clinic's own form")
    found = fhir.instrument_from_questionnaire(resource).instrument
    assert found.id == f"clinic-{instrument.id}"
    # A Questionnaire is in one language (English here): the labels come back in it.
    assert found.scales == in_one_language(instrument.scales, "en")
    assert [(i.id, i.subscale, i.reverse) for i in found.items] == \
        [(i.id, i.subscale, i.reverse) for i in instrument.items]
    assert found.score_ids == instrument.score_ids
    assert found.higher_is_better == instrument.higher_is_better
    responses = {item.id: instrument.scale_of(item.id).max for item in instrument.items}
    responses[instrument.items[0].id] = instrument.scale_of(instrument.items[0].id).min
    assert score_administration(found, responses).scores == \
        score_administration(instrument, responses).scores


def test_a_licensed_wai_sr_from_another_system_gets_our_scoring_and_its_text():
    found = fhir.instrument_from_questionnaire(wai_from_another_system(), source="wai.json")
    wai = found.instrument
    assert found.known == "wai-sr"
    assert wai.can_administer
    assert wai.item("wai3").text == {"en": LICENSED[2]}
    assert wai.score_items("bond") == load_bundled("wai-sr").score_items("bond")
    assert wai.scales["five_point"].anchors[0].label == {"en": "Label 0"}
    assert any("in order" in note for note in found.notes)
    # A response in the other system's codes scores like the same answers given directly.
    codes = [4, 4, 5, 3, 4, 5, 4, 3, 5, 2, 3, 4]
    response = {"resourceType": "QuestionnaireResponse", "status": "completed",
                "item": [{"linkId": str(k + 1), "answer": [{"valueCoding": {
                    "code": f"LA{value - 1}"}}]} for k, value in enumerate(codes)]}
    responses, _ = fhir.responses_from_questionnaire_response(response, found)
    direct = {f"wai{k + 1}": value for k, value in enumerate(codes)}
    assert responses == {key: float(value) for key, value in direct.items()}
    result = score_administration(wai, responses)
    assert result["bond"] == pytest.approx((5 + 4 + 4 + 5) / 4)  # items 3, 5, 7, 9
    assert result.scores == score_administration(load_bundled("wai-sr"), direct).scores


def test_a_wai_sr_scored_zero_to_four_is_refused_rather_than_scored_a_point_low():
    with pytest.raises(DefinitionError, match="answer scores run 0–4, but WAI-SR scores 1–5"):
        fhir.instrument_from_questionnaire(wai_from_another_system(low=0))


def test_answers_in_a_contained_value_set_are_scored_by_their_ordinal_values():
    concepts = [{"code": c, "display": d, "extension": [{"url": fhir.ORDINAL,
                                                         "valueDecimal": v}]}
                for c, d, v in (("a", "Not at all", 0), ("b", "Several days", 1),
                                ("c", "More than half the days", 2),
                                ("d", "Nearly every day", 3))]
    resource = {"resourceType": "Questionnaire", "status": "active", "name": "PHQ-9",
                "contained": [{"resourceType": "ValueSet", "id": "freq", "status": "active",
                               "compose": {"include": [{"system": "http://example.org",
                                                        "concept": concepts}]}}],
                "item": [{"linkId": f"q{k}", "type": "choice", "text": f"Licensed {k}",
                          "answerValueSet": "#freq"} for k in range(1, 10)]}
    found = fhir.instrument_from_questionnaire(resource)
    assert found.known == "phq-9"
    responses, _ = fhir.responses_from_questionnaire_response(
        {"resourceType": "QuestionnaireResponse", "status": "completed",
         "item": [{"linkId": f"q{k}", "answer": [{"valueCoding": {"code": "c"}}]}
                  for k in range(1, 10)]}, found)
    assert score_administration(found.instrument, responses).total == 18


def test_a_questionnaire_without_alliance_scoring_is_summed_and_says_so():
    resource = {"resourceType": "Questionnaire", "status": "active", "title": "Mood today",
                "item": [{"linkId": "1.a", "type": "integer", "text": "How is your mood?",
                          "extension": [{"url": fhir.MIN_VALUE, "valueInteger": 0},
                                        {"url": fhir.MAX_VALUE, "valueInteger": 10}]},
                         {"linkId": "2", "type": "integer", "text": "How is your sleep?",
                          "extension": [{"url": fhir.MIN_VALUE, "valueInteger": 0},
                                        {"url": fhir.MAX_VALUE, "valueInteger": 10}]},
                         {"linkId": "note", "type": "text", "text": "Anything else?"}]}
    found = fhir.instrument_from_questionnaire(resource)
    assert found.known is None
    assert found.instrument.id == "mood-today"
    assert found.instrument.item_ids == ["1-a", "2"]
    assert [q.id for q in found.instrument.open_questions] == ["note"]
    assert score_administration(found.instrument, {"1-a": 3, "2": 4}).total == 7
    assert any("sum" in note for note in found.notes)


def test_an_integer_item_without_a_range_is_refused_with_its_link_id():
    resource = {"resourceType": "Questionnaire", "status": "active", "title": "X",
                "item": [{"linkId": "mood", "type": "integer"}]}
    with pytest.raises(DefinitionError, match="minValue and maxValue") as caught:
        fhir.instrument_from_questionnaire(resource, source="x.json")
    assert caught.value.field == "item[linkId=mood]"
    assert caught.value.file == "x.json"


def test_something_that_is_not_a_questionnaire_is_refused():
    with pytest.raises(DefinitionError, match="not a Questionnaire"):
        fhir.instrument_from_questionnaire({"resourceType": "Patient"})
    with pytest.raises(DefinitionError, match="not a valid FHIR R4 Questionnaire"):
        fhir.instrument_from_questionnaire({"resourceType": "Questionnaire",
                                            "item": [{"linkId": "a", "type": 5, "x": 1}]})


def test_a_questionnaire_response_carries_answers_text_and_scores_and_reads_back():
    instrument = load_bundled("alliance-client")
    answers = {"bond1": 8, "bond2": 9, "goals1": 6, "goals2": 7, "tasks1": 5, "tasks2": None}
    scores = score_administration(instrument, answers).to_dict()
    resource = fhir.questionnaire_response(instrument, answers, {"more_helpful": "Slower."},
                                           scores=scores, subject="urn:uuid:1",
                                           authored="2026-03-02T18:00:00+00:00")
    QuestionnaireResponse.model_validate(resource)
    assert resource["questionnaire"] == "urn:alliance:questionnaire:alliance-client|1.0"
    total = next(e for e in resource["extension"]
                 if {"url": "id", "valueCode": "total"} in e["extension"])
    assert {"url": "value", "valueDecimal": 7} in total["extension"]
    responses, text = fhir.responses_from_questionnaire_response(resource, instrument=instrument)
    assert responses == {k: (None if v is None else float(v)) for k, v in answers.items()}
    assert text == {"more_helpful": "Slower."}
    # repr: the unscorable subscale is NaN on both sides, and NaN != NaN.
    assert repr(score_administration(instrument, responses).to_dict()) == repr(scores)


def test_a_bundle_is_validated_as_a_whole():
    instrument = load_bundled("wellbeing")
    response = fhir.questionnaire_response(instrument, {"self": 5})
    bundle = fhir.bundle([("urn:uuid:a", fhir.questionnaire(instrument)),
                          ("urn:uuid:b", response)], kind="searchset")
    assert bundle["total"] == 1
    assert [e["search"]["mode"] for e in bundle["entry"]] == ["include", "match"]
    with pytest.raises(InputError, match="not a valid FHIR R4 Bundle"):
        fhir.bundle([("urn:uuid:a", {"resourceType": "Patient", "gender": 3})])


@pytest.mark.parametrize("instrument", bundled_instruments(), ids=lambda i: i.id)
def test_any_answers_score_the_same_after_the_round_trip_through_fhir(instrument):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    imported = fhir.instrument_from_questionnaire(fhir.questionnaire(instrument))
    points = {item.id: st.one_of(st.none(), st.sampled_from(
        fhir._points(instrument.scale_of(item.id)))) for item in instrument.items}

    @settings(max_examples=25, deadline=None, database=None)
    @given(st.fixed_dictionaries(points))
    def check(answers):
        resource = fhir.questionnaire_response(instrument, answers)
        responses, _ = fhir.responses_from_questionnaire_response(resource, imported)
        assert repr(score_administration(imported.instrument, responses).to_dict()) == \
            repr(score_administration(instrument, answers).to_dict())

    check()

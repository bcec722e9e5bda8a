"""Risk items: an answer at or above an item's `risk_at` must reach a person at once.

A fact of the instrument (docs/instruments.md, docs/safety.md): PHQ-9 item 9 from 1 (any
answer above "not at all"), and the project's own safety question from 1 ("once or twice").
"""

from __future__ import annotations

import pytest

from alliance.core import fhir
from alliance.core.errors import DefinitionError
from alliance.core.instruments import load_bundled, parse_definition


def _definition(**item):
    return {"id": "x", "version": "1", "title": "X", "languages": ["en"],
            "respondent": "client", "higher_is_better": False, "own_wording": False,
            "wording_notice": "n", "licence": "l",
            "scales": {"f": {"kind": "likert", "min": 0, "max": 3}},
            "items": [{"id": "q1", "scale": "f", **item}, {"id": "q2", "scale": "f"}],
            "total": {"method": "sum"}, "missing_data": {"max_missing": 0}}


def test_phq9_item_9_is_a_risk_item_from_1_and_no_other_item_is():
    phq = load_bundled("phq-9")
    assert phq.risk_items == {"phq9": 1.0}
    assert not phq.can_administer  # scoring facts only: no wording bundled
    assert phq.risk_answers({f"phq{i}": 3 for i in range(1, 9)} | {"phq9": 0}) == []
    assert phq.risk_answers({"phq9": 1}) == ["phq9"]
    assert phq.risk_answers({"phq9": 3.0}) == ["phq9"]
    assert phq.risk_answers({"phq9": None}) == []


def test_the_safety_question_is_the_projects_own_wording_and_apart_from_wellbeing():
    question = load_bundled("safety-question")
    assert question.own_wording and question.can_administer
    assert question.risk_items == {"thoughts": 1.0}
    assert [a.value for a in question.scales["often"].anchors] == [0, 1, 2, 3]
    # Wellbeing's total stays the mean of its own four items.
    assert load_bundled("wellbeing").risk_items == {}


def test_a_risk_threshold_off_the_scale_is_a_clear_definition_error():
    with pytest.raises(DefinitionError) as info:
        parse_definition(_definition(risk_at=5))
    assert "items[0].risk_at" in str(info.value) and "0–3" in str(info.value)
    with pytest.raises(DefinitionError):
        parse_definition(_definition(risk_at=1.5))
    assert parse_definition(_definition(risk_at=2)).risk_answers({"q1": 2, "q2": 3}) == ["q1"]


def test_the_risk_facts_travel_in_fhir_and_come_back():
    question = load_bundled("safety-question")
    back = fhir.instrument_from_questionnaire(fhir.questionnaire(question)).instrument
    assert back.risk_items == {"thoughts": 1.0}
    response = fhir.questionnaire_response(question, {"thoughts": 2})
    assert {"url": fhir.EXT + "risk-answer", "valueCode": "thoughts"} in response["extension"]
    calm = fhir.questionnaire_response(question, {"thoughts": 0})
    assert all(e["url"] != fhir.EXT + "risk-answer" for e in calm.get("extension", []))

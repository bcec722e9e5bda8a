"""The scoring engine: known answers worked out by hand, and precise errors.

Every expected value below is computed by hand from the answers given (the
arithmetic is in the comments); floating-point tolerance 1e-12 unless stated.
"""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.core.errors import InputError, ScoringError
from alliance.core.instruments import load_bundled, parse_definition
from alliance.core.scoring import score_administration, score_frame


def demo(total_method="sum", max_missing=1, reverse=True):
    """Four items on 1–5: a and b (b reverse keyed) form 'first' (mean), c and d 'second' (sum)."""
    return parse_definition({
        "id": "demo", "version": "1", "title": "Demo", "languages": ["en"],
        "respondent": "client", "higher_is_better": True, "own_wording": False,
        "wording_notice": "test", "licence": "test",
        "scales": {"five": {"kind": "likert", "min": 1, "max": 5}},
        "items": [
            {"id": "a", "scale": "five", "subscale": "first"},
            {"id": "b", "scale": "five", "subscale": "first", "reverse": reverse},
            {"id": "c", "scale": "five", "subscale": "second"},
            {"id": "d", "scale": "five", "subscale": "second"},
        ],
        "open_questions": [{"id": "note"}],
        "subscales": [{"id": "first", "method": "mean"}, {"id": "second", "method": "sum"}],
        "total": {"method": total_method},
        "missing_data": {"max_missing": max_missing},
    })


def close(a, b):
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)


# ------------------------------------------------------------ known answers


def test_reverse_keyed_items_are_scored_min_plus_max_minus_the_answer():
    result = score_administration(demo(), {"a": 4, "b": 2, "c": 3, "d": 5})
    # b reversed: 1 + 5 − 2 = 4, so first = mean(4, 4) = 4
    assert result.subscales["first"] == 4.0
    # second = sum(3, 5) = 8; total = sum(4, 4, 3, 5) = 16
    assert result.subscales["second"] == 8.0
    assert result.total == 16.0
    assert result.scorable and result.reasons == {}
    assert (result.n_answered, result.n_items) == (4, 4)


def test_a_mean_total_is_the_mean_of_the_items_after_reverse_keying():
    result = score_administration(demo(total_method="mean"), {"a": 4, "b": 2, "c": 3, "d": 5})
    assert result.total == 4.0  # (4 + 4 + 3 + 5) / 4


def test_pomp_uses_the_lowest_and_highest_possible_score():
    result = score_administration(demo(), {"a": 4, "b": 2, "c": 3, "d": 5})
    # first: mean on 1–5 → (4 − 1) / 4 × 100 = 75; second: sum on 2–10 → (8 − 2) / 8 × 100 = 75
    # total: sum on 4–20 → (16 − 4) / 16 × 100 = 75
    assert result.pomp == {"first": 75.0, "second": 75.0, "total": 75.0}


def test_a_sum_is_prorated_when_few_enough_items_are_missing():
    result = score_administration(demo(), {"a": 4, "b": 2, "c": 3, "d": None})
    # total: answered 4 + 4 + 3 = 11 over 3 of 4 items → 11 × 4 / 3
    assert close(result.total, 11 * 4 / 3)
    # second: one item, c = 3, of 2 answered; but one missing of a 2-item subscale
    # is allowed by max_missing = 1 → 3 × 2 / 1 = 6
    assert result.subscales["second"] == 6.0
    assert result.n_answered == 3


def test_the_prorating_rule_boundary_at_max_missing_and_one_beyond():
    at_limit = score_administration(demo(max_missing=2), {"a": 4, "b": 2})
    # total: 2 of 4 missing, 2 allowed → (4 + 4) × 4 / 2 = 16
    assert at_limit.total == 16.0
    beyond = score_administration(demo(max_missing=1), {"a": 4, "b": 2})
    assert math.isnan(beyond.total)
    assert math.isnan(beyond.pomp["total"])
    assert not beyond.scorable
    assert beyond.reasons["total"] == "2 of 4 items unanswered (at most 1 may be missing)"
    assert beyond.reasons["second"] == "2 of 2 items unanswered (at most 1 may be missing)"
    assert beyond.subscales["first"] == 4.0  # still complete


def test_a_mean_with_a_missing_item_is_the_mean_of_the_answered_items():
    result = score_administration(demo(total_method="mean"), {"a": 5, "c": 2, "d": 3})
    assert result.subscales["first"] == 5.0
    assert close(result.total, (5 + 2 + 3) / 3)


def test_wai_sr_subscales_and_total_by_hand():
    wai = load_bundled("wai-sr")
    answers = {f"wai{i}": 4 for i in range(1, 13)}
    answers.update({"wai3": 5, "wai5": 5, "wai7": 5, "wai9": 5, "wai12": 2})
    result = score_administration(wai, answers)
    assert result.subscales == {"task": (4 + 4 + 4 + 2) / 4, "bond": 5.0, "goal": 4.0}
    assert close(result.total, (7 * 4 + 4 * 5 + 2) / 12)  # 50 / 12
    assert result.pomp["bond"] == 100.0
    assert close(result.pomp["total"], (50 / 12 - 1) / 4 * 100)


def test_wai_sr_subscale_with_two_missing_items_is_not_scorable():
    answers = {f"wai{i}": 3 for i in range(1, 13) if i not in (3, 5)}
    result = score_administration(load_bundled("wai-sr"), answers)
    assert math.isnan(result.subscales["bond"])
    assert result.reasons["bond"] == "2 of 4 items unanswered (at most 1 may be missing)"
    assert result.subscales["task"] == 3.0


def test_srs_total_of_36_reaches_the_alliance_concern_cutoff_and_36_1_does_not():
    srs = load_bundled("srs")
    at = score_administration(srs, {"srs1": 9, "srs2": 9, "srs3": 9, "srs4": 9})
    assert at.total == 36.0
    assert [c.value for c in at.cutoffs] == [36]
    assert "alliance concern" in at.cutoffs[0].meaning
    above = score_administration(srs, {"srs1": 9, "srs2": 9, "srs3": 9, "srs4": 9.1})
    assert math.isclose(above.total, 36.1, abs_tol=1e-9)
    assert above.cutoffs == ()


def test_phq9_prorates_one_missing_item_and_reports_the_furthest_severity_cutoff():
    phq = load_bundled("phq-9")
    frame = pd.DataFrame([[2] * 8 + [np.nan], [1] * 9, [0] * 9])
    frame.columns = [f"phq{i}" for i in range(1, 10)]
    scores = score_frame(phq, frame)
    # row 1: 16 over 8 answered → 16 × 9 / 8 = 18, at or above 15 (moderately severe)
    assert list(scores["total"]) == [18.0, 9.0, 0.0]
    assert list(scores["cutoff_total"]) == ["moderately severe depressive symptoms (15–19)",
                                            "mild depressive symptoms (5–9)", ""]
    result = score_administration(phq, frame.iloc[0].to_dict())
    assert [c.value for c in result.cutoffs] == [5, 10, 15]


def test_client_check_in_subscales_and_total():
    client = load_bundled("alliance-client")
    result = score_administration(client, {"bond1": 8, "bond2": 7, "goals1": 6, "goals2": 6,
                                            "tasks1": 9, "tasks2": None,
                                            "more_helpful": "Shorter homework, please."})
    assert result.subscales["bond"] == 7.5
    assert result.subscales["goals"] == 6.0
    assert math.isnan(result.subscales["tasks"])  # 2-item subscales need both items
    assert result.total == (8 + 7 + 6 + 6 + 9) / 5  # one of six missing is allowed
    assert result.pomp["bond"] == 75.0


def test_numbers_given_as_text_are_accepted_and_blank_text_is_unanswered():
    result = score_administration(demo(), {"a": " 4 ", "b": "2", "c": "3", "d": ""})
    assert result.n_answered == 3
    assert result.subscales["first"] == 4.0


def test_the_result_converts_to_json_ready_keys():
    data = score_administration(load_bundled("srs"), {f"srs{i}": 8 for i in range(1, 5)}).to_dict()
    assert set(data) == {"instrument", "version", "subscales", "total", "pomp", "n_answered",
                         "n_items", "scorable", "reasons", "cutoffs"}
    assert data["total"] == 32.0 and data["cutoffs"][0]["value"] == 36


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("value, problem", [
    (6, "is outside the scale 1–5"),
    (0, "is outside the scale 1–5"),
    (2.5, "is not on a step of the scale 1–5"),
    ("high", "is not a number"),
    (True, "is not a number"),
    (float("inf"), "is not a finite number"),
])
def test_a_bad_answer_is_an_error_naming_the_item_and_the_value(value, problem):
    with pytest.raises(ScoringError) as info:
        score_administration(demo(), {"a": 3, "c": value})
    assert info.value.item == "c"
    assert info.value.value == value
    assert problem in str(info.value)
    assert str(info.value).startswith(f"item 'c' (value {value!r})")


def test_an_answer_between_the_steps_of_a_slider_is_an_error():
    with pytest.raises(ScoringError, match=r"srs1.*9\.95.*steps of 0\.1"):
        score_administration(load_bundled("srs"), {"srs1": 9.95})


def test_an_id_that_is_not_an_item_is_an_error():
    with pytest.raises(ScoringError) as info:
        score_administration(demo(), {"e": 3})
    assert info.value.item == "e"
    assert "not an item of Demo" in str(info.value)


def test_in_a_frame_a_text_cell_names_the_line_and_column():
    frame = pd.DataFrame({"a": ["1", "2", "often"], "b": [1, 2, 3], "c": [1, 2, 3],
                          "d": [1, 2, 3]})
    with pytest.raises(InputError) as info:
        score_frame(demo(), frame, file="answers.csv")
    assert (info.value.file, info.value.line, info.value.column) == ("answers.csv", 4, "a")
    assert "'often' is not a number" in str(info.value)


def test_in_a_frame_an_answer_off_the_scale_names_the_line_and_column():
    frame = pd.DataFrame({"a": [1, 2], "b": [1, 2], "c": [1, 7], "d": [1, 2]})
    with pytest.raises(InputError) as info:
        score_frame(demo(), frame, file="answers.csv")
    assert (info.value.line, info.value.column) == (3, "c")
    assert "7 is outside the scale 1–5 (item 'c')" in str(info.value)


def test_in_a_frame_a_missing_item_column_is_named():
    with pytest.raises(InputError, match="missing item column d for Demo"):
        score_frame(demo(), pd.DataFrame({"a": [1], "b": [1], "c": [1]}))


# --------------------------------------------------------- frame = one by one


def test_the_frame_has_scores_pomp_counts_and_reasons_per_row():
    frame = pd.DataFrame({"client_id": ["x", "y"], "a": [4, 4], "b": [2, 2], "c": [3, np.nan],
                          "d": [5, np.nan]})
    scores = score_frame(demo(max_missing=1), frame)
    assert list(scores.columns) == ["first", "second", "total", "pomp_first", "pomp_second",
                                    "pomp_total", "n_answered", "scorable", "reason"]
    assert list(scores["total"].fillna(-1)) == [16.0, -1]
    assert list(scores["scorable"]) == [True, False]
    assert scores["reason"].iloc[1] == ("second: 2 of 2 items unanswered (at most 1 may be "
                                        "missing); total: 2 of 4 items unanswered (at most 1 "
                                        "may be missing)")


answers = st.one_of(st.none(), st.integers(1, 5))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(answers, answers, answers, answers), min_size=1, max_size=8),
       st.sampled_from(["mean", "sum"]), st.integers(0, 3))
def test_scoring_a_frame_gives_the_same_numbers_as_scoring_each_row(rows, method, max_missing):
    instrument = demo(total_method=method, max_missing=max_missing)
    frame = pd.DataFrame([[np.nan if v is None else v for v in row] for row in rows],
                         columns=["a", "b", "c", "d"], dtype=float)
    scores = score_frame(instrument, frame)
    for i, row in enumerate(rows):
        one = score_administration(instrument, dict(zip("abcd", row)))
        for score_id, value in one.scores.items():
            np.testing.assert_allclose(scores[score_id].iloc[i], value, rtol=0, atol=1e-12)
            np.testing.assert_allclose(scores[f"pomp_{score_id}"].iloc[i], one.pomp[score_id],
                                       rtol=0, atol=1e-9)
        assert scores["n_answered"].iloc[i] == one.n_answered
        assert bool(scores["scorable"].iloc[i]) == one.scorable

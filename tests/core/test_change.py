"""Reliable change and clinically significant change (Jacobson & Truax, 1991).

Reference values: hand computations stated in each test, and
tests/reference/change/change_reference.json, written by change_reference.R
(base R, the formulas of Jacobson & Truax 1991 written out independently).
Tolerance 1e-9 against R (both compute the same closed forms in double precision).
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.core.change import (
    ClinicalCutoff,
    clinical_cutoff,
    clinically_significant,
    reliable_change,
    standard_error_of_difference,
)
from alliance.core.errors import AllianceError, InputError

R = json.loads((Path(__file__).parents[1] / "reference" / "change" / "change_reference.json")
               .read_text())
TOL = 1e-9


def test_worked_example_18_to_27_is_a_reliable_improvement():
    # By hand: S_diff = 7.5 · √2 · √(1 − 0.85) = 7.5 · 1.414214 · 0.387298 = 4.107919;
    # RC = (27 − 18) / 4.107919 = 2.190890 > 1.96, so reliable; 1.96 · S_diff = 8.0515 points.
    result = reliable_change(18, 27, sd=7.5, reliability=0.85)
    assert result.s_diff == pytest.approx(4.107919, abs=1e-6)
    assert result.rci == pytest.approx(2.190890, abs=1e-6)
    assert result.min_reliable_change == pytest.approx(8.0515, abs=1e-4)
    assert result.reliable is True
    assert result.direction == "improved"


@pytest.mark.parametrize("case", ["alliance", "symptom_rise", "small"])
def test_reliable_change_matches_the_r_calculation(case):
    ref = R["reliable_change"][case]
    result = reliable_change(ref["pre"], ref["post"], ref["sd"], ref["reliability"],
                             higher_is_better=ref["higher_is_better"])
    assert result.s_diff == pytest.approx(ref["s_diff"], abs=TOL)
    assert result.rci == pytest.approx(ref["rci"], abs=TOL)
    assert result.reliable == ref["reliable"]
    assert result.direction == ref["direction"]
    assert result.min_reliable_change == pytest.approx(ref["min_reliable_change"], abs=TOL)


def test_a_rise_on_a_symptom_scale_is_a_deterioration():
    result = reliable_change(18, 27, 7.5, 0.85, higher_is_better=False)
    assert result.direction == "deteriorated"


def test_standard_error_of_difference_by_hand_and_with_perfect_reliability():
    # 10 · √2 · √(1 − 0.5) = 10.
    assert standard_error_of_difference(10, 0.5) == pytest.approx(10.0, abs=1e-12)
    assert standard_error_of_difference(10, 1.0) == 0.0


def test_many_clients_at_once_give_arrays():
    result = reliable_change([18, 18, 18], [27, 25, 9], 7.5, 0.85)
    assert isinstance(result.rci, np.ndarray)
    assert list(result.direction) == ["improved", "no reliable change", "deteriorated"]
    assert result.to_dict()["reliable"] == [True, False, True]


@pytest.mark.parametrize("norms", ["wellbeing", "symptom"])
def test_cutoffs_a_b_c_match_the_r_calculation(norms):
    ref = R["cutoffs"][norms]
    both = clinical_cutoff(ref["m0"], ref["sd0"], ref["m1"], ref["sd1"],
                           higher_is_better=ref["higher_is_better"])
    assert (both.criterion, both.value) == ("c", pytest.approx(ref["c"], abs=TOL))
    assert both.a == pytest.approx(ref["a"], abs=TOL)
    assert both.b == pytest.approx(ref["b"], abs=TOL)

    only_dysfunctional = clinical_cutoff(m1=ref["m1"], sd1=ref["sd1"],
                                         higher_is_better=ref["higher_is_better"])
    assert only_dysfunctional.criterion == "a"
    assert only_dysfunctional.value == pytest.approx(ref["a"], abs=TOL)
    assert only_dysfunctional.c is None

    only_functional = clinical_cutoff(m0=ref["m0"], sd0=ref["sd0"],
                                      higher_is_better=ref["higher_is_better"])
    assert only_functional.criterion == "b"
    assert only_functional.value == pytest.approx(ref["b"], abs=TOL)


def test_cutoff_c_by_hand():
    # (SD0 · M1 + SD1 · M0) / (SD0 + SD1) = (6 · 18 + 7.5 · 30) / 13.5 = 333 / 13.5 = 24.6667;
    # a = 18 + 2 · 7.5 = 33; b = 30 − 2 · 6 = 18.
    cutoff = clinical_cutoff(m0=30, sd0=6, m1=18, sd1=7.5)
    assert cutoff.c == pytest.approx(24.666667, abs=1e-6)
    assert (cutoff.a, cutoff.b) == (33.0, 18.0)


def test_classification_of_six_clients_matches_the_r_calculation():
    ref = R["classification"]
    cutoff = clinical_cutoff(**{k: R["cutoffs"]["symptom"][k] for k in ("m0", "sd0", "m1", "sd1")},
                             higher_is_better=False)
    assert cutoff.value == pytest.approx(ref["cutoff"], abs=TOL)
    result = clinically_significant(ref["pre"], ref["post"], ref["sd"], ref["reliability"], cutoff)
    assert list(result.category) == ref["category"]
    assert list(result.change.rci) == pytest.approx(ref["rci"], abs=TOL)
    assert result.to_dict()["category"] == ref["category"]


def test_a_score_exactly_at_the_cutoff_has_not_crossed_it():
    result = clinically_significant(5, 20, sd=5, reliability=0.8, cutoff=20)
    assert result.change.direction == "improved"
    assert result.post_functional is False
    assert result.category == "improved"


def test_recovery_needs_reliable_change_not_only_crossing_the_cutoff():
    # Crosses c = 24.67 (23 → 26) but RC = 3 / 4.108 = 0.73: unchanged.
    cutoff = clinical_cutoff(m0=30, sd0=6, m1=18, sd1=7.5)
    result = clinically_significant(23, 26, 7.5, 0.85, cutoff)
    assert result.post_functional is True
    assert result.category == "unchanged"


def test_a_cutoff_object_brings_its_direction_and_a_conflict_is_an_error():
    cutoff = clinical_cutoff(m0=5, sd0=4, m1=15, sd1=5, higher_is_better=False)
    assert clinically_significant(20, 8, 5, 0.84, cutoff).category == "recovered"
    with pytest.raises(InputError, match="disagrees"):
        clinically_significant(20, 8, 5, 0.84, cutoff, higher_is_better=True)
    assert isinstance(cutoff, ClinicalCutoff)


@pytest.mark.parametrize("kwargs, message", [
    (dict(sd=0, reliability=0.8), "sd must be greater than 0"),
    (dict(sd=-2, reliability=0.8), "sd must be greater than 0"),
    (dict(sd=5, reliability=0), r"reliability must lie in \(0, 1\): above 0 and below 1, got 0"),
    (dict(sd=5, reliability=1.2), r"reliability must lie in \(0, 1\): above 0 and below 1"),
    (dict(sd=5, reliability=1.0), r"must lie in \(0, 1\).*got 1; a reliability of 1 means no "
                                  "measurement error"),
    (dict(sd=float("nan"), reliability=0.8), "sd must be a finite number"),
])
def test_invalid_sd_or_reliability_is_an_alliance_error_and_a_value_error(kwargs, message):
    with pytest.raises(InputError, match=message) as info:
        reliable_change(10, 12, **kwargs)
    assert isinstance(info.value, AllianceError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("kwargs, message", [
    (dict(), "needs the functional norm"),
    (dict(m0=30), "needs both m0 and sd0; sd0 is missing"),
    (dict(sd1=4), "needs both m1 and sd1; m1 is missing"),
    (dict(m0=30, sd0=0), "sd0 must be greater than 0"),
    (dict(m0=10, sd0=2, m1=20, sd1=3), "should lie above the dysfunctional mean"),
])
def test_incomplete_or_inconsistent_norms_are_clear_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        clinical_cutoff(**kwargs)


def test_a_reliability_near_1_is_computed_with_a_note_and_a_plausible_one_without():
    near = reliable_change(18, 27, sd=7.5, reliability=0.999999999999)
    assert near.rci == pytest.approx(9 / (7.5 * math.sqrt(2) * math.sqrt(1e-12)), rel=1e-3)
    assert len(near.notes) == 1 and "above 0.99" in near.notes[0]
    assert near.to_dict()["notes"] == list(near.notes)
    assert reliable_change(18, 27, sd=7.5, reliability=0.99).notes == ()
    assert reliable_change(18, 27, sd=7.5, reliability=0.85).notes == ()
    # One value in an array is enough for the note.
    assert reliable_change([18, 18], [27, 20], 7.5, [0.8, 0.995]).notes


def test_pre_and_post_of_different_lengths_are_an_error():
    with pytest.raises(InputError, match="different shapes"):
        reliable_change([1, 2], [1, 2, 3], 5, 0.8)


@settings(max_examples=60, deadline=None)
@given(pre=st.floats(-100, 100), post=st.floats(-100, 100), sd=st.floats(0.1, 50),
       reliability=st.floats(0.01, 0.99), higher=st.booleans())
def test_swapping_pre_and_post_mirrors_the_result(pre, post, sd, reliability, higher):
    forward = reliable_change(pre, post, sd, reliability, higher_is_better=higher)
    backward = reliable_change(post, pre, sd, reliability, higher_is_better=higher)
    assert backward.rci == pytest.approx(-forward.rci, abs=1e-12)
    assert backward.reliable == forward.reliable
    mirror = {"improved": "deteriorated", "deteriorated": "improved",
              "no reliable change": "no reliable change"}
    assert backward.direction == mirror[forward.direction]
    assert forward.reliable == (abs(post - pre) > 1.96 * forward.s_diff) or math.isclose(
        abs(post - pre), 1.96 * forward.s_diff)


def test_numbers_too_large_to_compute_with_are_an_error_not_a_missing_index():
    # 1e308 − (−1e308) overflows to inf; an SD near the smallest float makes S_diff ≈ 0.
    with pytest.raises(InputError, match="too large"):
        reliable_change(1e308, -1e308, 5, 0.8)
    with pytest.raises(InputError, match="too large"):
        reliable_change(1, 3, 1e-320, 0.8)
    with pytest.raises(InputError, match="too large"):
        clinical_cutoff(m0=1e308, sd0=1e308, m1=-1e308, sd1=1e308)

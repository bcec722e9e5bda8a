"""Instrument definitions: the bundled set, the format's checks, and attaching licensed text."""

from pathlib import Path

import pytest

from alliance.core.errors import DefinitionError, InputError
from alliance.core.instruments import (NotAdministrableError, UnknownInstrumentError,
                                       attach_text, bundled_ids, bundled_instruments,
                                       get_instrument, load_bundled, load_definition,
                                       parse_definition)

DEFINITIONS = Path(__file__).parents[2] / "src/alliance/core/instruments/definitions"

# A small valid definition; tests break one thing at a time.
VALID = """\
id = "demo"
version = "1.0"
title = "Demo check-in"
languages = ["en"]
respondent = "client"
higher_is_better = true
own_wording = true
wording_notice = "Written for the tests."
licence = "CC0"

[scales.five]
kind = "likert"
min = 1
max = 5
anchors = [{ value = 1, label.en = "Never" }, { value = 5, label.en = "Always" }]

[[items]]
id = "a"
scale = "five"
subscale = "first"
text.en = "Item a"

[[items]]
id = "b"
scale = "five"
subscale = "first"
reverse = true
text.en = "Item b"

[[items]]
id = "c"
scale = "five"
subscale = "second"
text.en = "Item c"

[[subscales]]
id = "first"
method = "mean"

[[subscales]]
id = "second"
method = "sum"

[total]
method = "sum"

[missing_data]
max_missing = 1
"""


def write(tmp_path, text, name="demo.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def broken(tmp_path, old, new):
    assert old in VALID, old
    return write(tmp_path, VALID.replace(old, new, 1))


def error_for(path) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        load_definition(path)
    return info.value


# ------------------------------------------------------------------ bundled


def test_every_bundled_definition_loads_and_is_named_after_its_file():
    assert set(bundled_ids()) == {"alliance-brief", "alliance-client", "alliance-therapist", "wellbeing",
                                  "wai-sr", "srs", "ors", "phq-9", "gad-7", "safety-question"}
    for path in DEFINITIONS.glob("*.toml"):
        assert load_definition(path).id == path.stem
    assert [i.id for i in bundled_instruments()] == bundled_ids()


def test_the_projects_own_instruments_say_so_and_can_be_administered():
    for instrument_id in ("alliance-client", "alliance-therapist", "wellbeing"):
        instrument = load_bundled(instrument_id)
        assert instrument.own_wording
        assert "not a validated scale" in instrument.wording_notice
        assert instrument.can_administer
        assert instrument.administration_problem is None
        instrument.ensure_administrable()


def test_the_client_check_in_has_two_slider_items_each_for_bond_goals_and_tasks():
    client = load_bundled("alliance-client")
    assert client.respondent == "client"
    assert client.score_ids == ["bond", "goals", "tasks", "total"]
    for subscale in ("bond", "goals", "tasks"):
        assert len(client.score_items(subscale)) == 2
        assert client.score_range(subscale) == (0.0, 10.0)
    assert client.total.method == "mean"
    assert {client.scale_of(i).kind for i in client.item_ids} == {"slider"}
    assert len(client.open_questions) == 1
    assert "more helpful" in client.open_questions[0].text["en"]


def test_the_therapist_form_parallels_the_client_form():
    client, therapist = load_bundled("alliance-client"), load_bundled("alliance-therapist")
    assert therapist.respondent == "therapist"
    assert therapist.item_ids == client.item_ids
    assert therapist.score_ids == client.score_ids
    for score_id in client.score_ids:
        assert therapist.score_items(score_id) == client.score_items(score_id)
    assert all(t.text != c.text for t, c in zip(therapist.items, client.items))


def test_the_wellbeing_check_in_is_a_mean_of_four_items_where_higher_is_better():
    wellbeing = load_bundled("wellbeing")
    assert len(wellbeing.items) == 4
    assert wellbeing.higher_is_better
    assert wellbeing.total.method == "mean"
    assert wellbeing.score_range("total") == (0.0, 10.0)


def test_published_instruments_ship_without_any_item_text():
    for instrument_id in ("wai-sr", "srs", "ors", "phq-9", "gad-7"):
        instrument = load_bundled(instrument_id)
        assert not instrument.own_wording
        assert all(not item.text for item in instrument.items)
        assert instrument.citation and instrument.licence and instrument.scoring_source
        assert not instrument.can_administer


def test_wai_sr_subscale_keys_are_as_published():
    # Hatcher & Gillaspy (2006): Task = 1, 2, 10, 12; Bond = 3, 5, 7, 9; Goal = 4, 6, 8, 11;
    # 12 items scored 1-5, none reverse keyed.
    wai = load_bundled("wai-sr")
    assert len(wai.items) == 12
    assert wai.score_items("task") == ["wai1", "wai2", "wai10", "wai12"]
    assert wai.score_items("bond") == ["wai3", "wai5", "wai7", "wai9"]
    assert wai.score_items("goal") == ["wai4", "wai6", "wai8", "wai11"]
    assert not any(item.reverse for item in wai.items)
    assert {(wai.scale_of(i).min, wai.scale_of(i).max) for i in wai.item_ids} == {(1, 5)}
    assert wai.higher_is_better


def test_srs_and_ors_are_four_items_scored_0_to_10_with_their_cutoffs():
    srs, ors = load_bundled("srs"), load_bundled("ors")
    for instrument in (srs, ors):
        assert len(instrument.items) == 4
        assert instrument.score_range("total") == (0.0, 40.0)
        assert instrument.total.method == "sum"
    (srs_cut,) = srs.cutoffs
    assert (srs_cut.value, srs_cut.when) == (36, "at_or_below")
    (ors_cut,) = ors.cutoffs
    assert (ors_cut.value, ors_cut.when) == (25, "below")


def test_phq9_and_gad7_are_sums_where_higher_is_worse_with_severity_cutoffs():
    phq, gad = load_bundled("phq-9"), load_bundled("gad-7")
    assert (len(phq.items), phq.score_range("total")) == (9, (0.0, 27.0))
    assert (len(gad.items), gad.score_range("total")) == (7, (0.0, 21.0))
    assert not phq.higher_is_better and not gad.higher_is_better
    assert [c.value for c in phq.cutoffs] == [5, 10, 15, 20]
    assert [c.value for c in gad.cutoffs] == [5, 10, 15]
    assert {c.when for c in phq.cutoffs + gad.cutoffs} == {"at_or_above"}


def test_get_instrument_takes_a_bundled_id_or_a_path(tmp_path):
    assert get_instrument("srs").id == "srs"
    assert get_instrument(write(tmp_path, VALID)).id == "demo"
    with pytest.raises(UnknownInstrumentError, match="unknown instrument 'nope'.*wai-sr"):
        get_instrument("nope")


# --------------------------------------------------------- broken definitions


def test_a_valid_definition_loads(tmp_path):
    demo = load_definition(write(tmp_path, VALID))
    assert demo.score_ids == ["first", "second", "total"]
    assert demo.score_items("first") == ["a", "b"]
    assert demo.score_range("second") == (1.0, 5.0)
    assert demo.score_range("total") == (3.0, 15.0)


def test_a_missing_field_is_named(tmp_path):
    error = error_for(broken(tmp_path, 'respondent = "client"\n', ""))
    assert error.file.endswith("demo.toml")
    assert error.field == "respondent"
    assert "required field is missing" in str(error)
    assert str(error).startswith(str(tmp_path / "demo.toml"))


def test_a_wrong_type_is_named_with_the_value_given(tmp_path):
    error = error_for(broken(tmp_path, "max = 5", 'max = "five"'))
    assert error.field == "scales.five.max"
    assert "valid number" in error.problem and "'five'" in error.problem


def test_a_subscale_listing_an_unknown_item_is_named(tmp_path):
    text = VALID.replace('[[subscales]]\nid = "second"\nmethod = "sum"',
                         '[[subscales]]\nid = "second"\nmethod = "sum"\nitems = ["c", "d"]')
    error = error_for(write(tmp_path, text))
    assert error.field == "subscales[1].items[1]"
    assert error.problem.startswith("no item 'd'")


def test_an_item_naming_an_unknown_subscale_is_named_with_the_item_id(tmp_path):
    error = error_for(broken(tmp_path, 'subscale = "second"', 'subscale = "third"'))
    assert error.field == "items[2].subscale"
    assert "no subscale 'third'" in error.problem and "(in item 'c')" in error.problem


def test_a_duplicate_item_id_is_named(tmp_path):
    error = error_for(broken(tmp_path, 'id = "c"', 'id = "a"'))
    assert error.field == "items[2].id"
    assert "duplicate item id 'a'" in error.problem


def test_bad_toml_syntax_names_the_file_and_line(tmp_path):
    error = error_for(broken(tmp_path, "[total]", "[total"))
    assert error.file.endswith("demo.toml")
    assert "not valid TOML" in error.problem and "line" in error.problem


def test_a_misspelt_field_is_an_error_not_ignored(tmp_path):
    error = error_for(broken(tmp_path, "reverse = true", "reversed = true"))
    assert error.field == "items[1].reversed"
    assert "unknown field" in error.problem


def test_a_reverse_keyed_item_needs_an_existing_scale(tmp_path):
    text = VALID.replace('scale = "five"\nsubscale = "first"\nreverse = true',
                         'scale = "seven"\nsubscale = "first"\nreverse = true')
    error = error_for(write(tmp_path, text))
    assert error.field == "items[1].scale"
    assert "no response scale 'seven'" in error.problem and "reverse" in error.problem


def test_the_total_must_name_existing_items(tmp_path):
    error = error_for(broken(tmp_path, '[total]\nmethod = "sum"',
                             '[total]\nmethod = "sum"\nitems = ["a", "z"]'))
    assert error.field == "total.items[1]"


def test_an_item_in_an_undeclared_language_is_named(tmp_path):
    error = error_for(broken(tmp_path, 'text.en = "Item c"', 'text.de = "Item c"'))
    assert error.field == "items[2].text.de"


def test_own_wording_requires_the_text_of_every_item(tmp_path):
    error = error_for(broken(tmp_path, 'text.en = "Item c"', 'text.en = ""'))
    assert error.field == "items[2].text.en"
    assert "own wording" in error.problem


def test_anchors_must_lie_on_the_scale(tmp_path):
    error = error_for(broken(tmp_path, "{ value = 5, label", "{ value = 6, label"))
    assert error.field == "scales.five.anchors[1].value"
    assert "not a point of the scale 1–5" in error.problem


def test_an_unknown_scale_kind_is_named(tmp_path):
    error = error_for(broken(tmp_path, 'kind = "likert"', 'kind = "vas"'))
    assert error.field == "scales.five.kind"


def test_cutoffs_must_refer_to_an_existing_score_and_lie_in_its_range(tmp_path):
    cutoff = '\n[[cutoffs]]\nscore = "{}"\nvalue = {}\nwhen = "below"\nmeaning = "m"\nsource = "s"\n'
    error = error_for(write(tmp_path, VALID + cutoff.format("third", 3)))
    assert error.field == "cutoffs[0].score"
    error = error_for(write(tmp_path, VALID + cutoff.format("total", 30)))
    assert error.field == "cutoffs[0].value"
    assert "outside the range 3–15" in error.problem


def test_a_subscale_cannot_allow_all_of_its_items_to_be_missing(tmp_path):
    error = error_for(broken(tmp_path, 'id = "first"\nmethod = "mean"',
                             'id = "first"\nmethod = "mean"\nmax_missing = 2'))
    assert error.field == "subscales[0].max_missing"


def test_the_score_is_never_computed_from_no_answers(tmp_path):
    # The instrument-wide rule allows 1 missing; subscale "second" has only one item.
    demo = load_definition(write(tmp_path, VALID))
    assert demo.max_missing("first") == 1
    assert demo.max_missing("second") == 0


def test_a_missing_file_is_a_definition_error(tmp_path):
    error = error_for(tmp_path / "nope.toml")
    assert "file not found" in str(error)


def test_parse_definition_reports_the_source_given():
    with pytest.raises(DefinitionError, match="^clinic settings, field 'id'"):
        parse_definition({"version": "1"}, source="clinic settings")


# --------------------------------------------------------------- licensed text


WAI_TEXT_TOML = "instrument = \"wai-sr\"\n" + "".join(
    f'[items.wai{i}]\nen = "licensed text {i}"\n' for i in range(1, 13))


def test_an_instrument_without_text_cannot_be_administered_and_says_why():
    wai = load_bundled("wai-sr")
    assert not wai.can_administer
    assert wai.administration_problem.startswith(
        "WAI-SR has no item text: attach the text your clinic is licensed to use with")
    with pytest.raises(NotAdministrableError, match="WAI-SR has no item text"):
        wai.ensure_administrable()


def test_attaching_licensed_text_from_toml_makes_it_administrable(tmp_path):
    wai = load_bundled("wai-sr")
    attached = attach_text(wai, write(tmp_path, WAI_TEXT_TOML, "wai.toml"))
    assert attached.can_administer
    attached.ensure_administrable()
    assert attached.item("wai7").text == {"en": "licensed text 7"}
    assert attached.text_source.endswith("wai.toml")
    assert not attached.own_wording
    # The bundled definition is a value: it is not changed.
    assert not wai.can_administer
    assert attached.score_items("bond") == wai.score_items("bond")


def test_attaching_licensed_text_from_csv_adds_its_languages(tmp_path):
    rows = "".join(f'srs{i},"text {i}","Text {i}"\n' for i in range(1, 5))
    path = write(tmp_path, "item,en,de\n" + rows, "srs.csv")
    srs = attach_text(load_bundled("srs"), path)
    assert srs.languages == ("en", "de")
    assert srs.administrable_languages() == ["en", "de"]
    assert srs.item("srs2").text == {"en": "text 2", "de": "Text 2"}


def test_attaching_text_requires_every_item(tmp_path):
    text = WAI_TEXT_TOML.replace('[items.wai5]\nen = "licensed text 5"\n', "")
    with pytest.raises(DefinitionError) as info:
        attach_text(load_bundled("wai-sr"), write(tmp_path, text, "wai.toml"))
    assert "no text for item wai5" in str(info.value)


def test_attaching_text_rejects_ids_that_are_not_items(tmp_path):
    text = WAI_TEXT_TOML + '[items.wai13]\nen = "extra"\n'
    with pytest.raises(DefinitionError) as info:
        attach_text(load_bundled("wai-sr"), write(tmp_path, text, "wai.toml"))
    assert info.value.field == "items.wai13"
    assert "no item 'wai13'" in info.value.problem


def test_attaching_text_meant_for_another_instrument_is_refused(tmp_path):
    with pytest.raises(DefinitionError, match="for 'wai-sr', not 'srs'"):
        attach_text(load_bundled("srs"), write(tmp_path, WAI_TEXT_TOML, "wai.toml"))


def test_a_csv_text_file_with_an_empty_cell_names_line_and_column(tmp_path):
    path = write(tmp_path, "item,en\nsrs1,a\nsrs2,\nsrs3,c\nsrs4,d\n", "srs.csv")
    with pytest.raises(InputError) as info:
        attach_text(load_bundled("srs"), path)
    assert (info.value.line, info.value.column) == (3, "en")
    assert "no text for item 'srs2'" in str(info.value)


def test_a_csv_text_file_with_an_unknown_item_names_its_line(tmp_path):
    path = write(tmp_path, "item,en\nsrs1,a\nsrs9,b\n", "srs.csv")
    with pytest.raises(InputError) as info:
        attach_text(load_bundled("srs"), path)
    assert (info.value.line, info.value.column) == (3, "item")
    assert "has no item 'srs9'" in str(info.value)


def test_a_definition_saved_with_a_byte_order_mark_and_windows_line_endings_loads(tmp_path):
    # Windows Notepad saves "UTF-8 with BOM" and \r\n line endings.
    path = tmp_path / "demo.toml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.replace("\n", "\r\n").encode())
    assert load_definition(path).id == load_definition(write(tmp_path, VALID, "plain.toml")).id
    text = tmp_path / "wai.toml"
    text.write_bytes(b"\xef\xbb\xbf" + WAI_TEXT_TOML.encode())
    assert attach_text(load_bundled("wai-sr"), text).can_administer

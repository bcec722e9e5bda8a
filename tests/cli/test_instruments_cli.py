"""`alliance instruments list | show | validate` and `alliance score`."""

import io
import json
from pathlib import Path

import pandas as pd

# The default name of the files write() makes (tests/cli/conftest.py).
CSV_NAME = "answers.csv"


DEFINITIONS = Path(__file__).parents[2] / "src/alliance/core/instruments/definitions"
CLIENT_HEADER = "client_id,session,bond1,bond2,goals1,goals2,tasks1,tasks2,more_helpful\n"


# ---------------------------------------------------------------- instruments


def test_list_shows_every_bundled_instrument_and_whether_it_can_be_administered(run):
    result = run("instruments", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "version", "title", "respondent", "items", "administrable"]
    wai = next(line for line in lines if line.startswith("wai-sr"))
    assert wai.split()[-2:] == ["12", "no"]
    client = next(line for line in lines if line.startswith("alliance-client"))
    assert client.split()[-2:] == ["6", "yes"]


def test_list_as_json(run):
    result = run("instruments", "list", "--json")
    rows = {row["id"]: row for row in json.loads(result.output)}
    assert len(rows) == 10
    assert rows["srs"] == {"id": "srs", "version": "1.0", "title": "Session Rating Scale",
                           "respondent": "client", "items": 4, "administrable": False,
                           "own_wording": False}


def test_show_describes_items_scores_cutoffs_and_licence(run):
    result = run("instruments", "show", "wai-sr")
    assert result.exit_code == 0, result.output
    assert "WAI-SR has no item text" in result.output
    assert "wai3, wai5, wai7, wai9" in result.output
    assert "Hatcher, R. L., & Gillaspy" in result.output
    assert "licence" in result.output
    srs = run("instruments", "show", "srs").output
    assert "total at or below 36" in srs


def test_show_an_own_instrument_includes_its_wording_and_open_question(run):
    result = run("instruments", "show", "alliance-client")
    assert "can be administered  yes" in result.output
    assert "What would make our work together more helpful for you?" in result.output
    assert "0 = Not really, 10 = Very much" in result.output


def test_show_as_json_gives_the_definition_and_administrability(run):
    data = json.loads(run("instruments", "show", "phq-9", "--json").output)
    assert data["id"] == "phq-9"
    assert data["can_administer"] is False
    assert data["score_ranges"] == {"total": [0.0, 27.0]}
    assert [c["value"] for c in data["cutoffs"]] == [5, 10, 15, 20]


def test_show_an_unknown_instrument_is_a_clean_error(run, assert_clean_error):
    assert_clean_error(run("instruments", "show", "wai"), "unknown instrument 'wai'")


def test_validate_accepts_a_good_file(run):
    result = run("instruments", "validate", DEFINITIONS / "alliance-client.toml")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: ")
    assert "'alliance-client' version 1.0 (6 items; scores: bond, goals, tasks, total)" in \
        result.output


def test_validate_names_file_field_and_problem_of_a_broken_file(run, write, assert_clean_error):
    text = (DEFINITIONS / "wellbeing.toml").read_text().replace('scale = "slider"',
                                                                'scale = "sliders"', 1)
    path = write(text, "mine.toml")
    assert_clean_error(run("instruments", "validate", path),
                         f"{path}, field 'items[0].scale': no response scale 'sliders'")


# ----------------------------------------------------------------------- score


def test_score_writes_scores_with_id_columns_to_stdout(run, write):
    path = write(CLIENT_HEADER + "007,1,8,7,6,6,9,8,more time\n"
                                          "007,2,8,,6,6,9,8,\n")
    result = run("score", path, "--instrument", "alliance-client")
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(io.StringIO(result.stdout), dtype={"client_id": str})
    assert list(scores.columns) == [
        "client_id", "session", "bond", "goals", "tasks", "total", "pomp_bond", "pomp_goals",
        "pomp_tasks", "pomp_total", "n_answered", "scorable", "reason"]
    assert list(scores["client_id"]) == ["007", "007"]
    first, second = scores.iloc[0], scores.iloc[1]
    assert (first["bond"], first["total"], first["scorable"]) == (7.5, 7.333333, 1)
    # (8 + 6 + 6 + 9 + 8) / 5 = 7.4 with one of six items missing; bond needs both items
    assert second["total"] == 7.4 and pd.isna(second["bond"]) and second["scorable"] == 0
    assert "bond: 1 of 2 items unanswered" in second["reason"]


def test_score_to_a_file_with_chosen_id_columns(tmp_path, run, write):
    path = write("client_id,session,srs1,srs2,srs3,srs4\nc1,1,9,9,9,9\nc1,2,10,10,10,9.5\n")
    out = tmp_path / "out" / "scores.csv"
    result = run("score", path, "--instrument", "srs", "--id-columns", "client_id",
                 "--out", out)
    assert result.exit_code == 0, result.output
    assert "Scored 2 administrations with SRS" in result.output
    scores = pd.read_csv(out, keep_default_na=False)
    assert list(scores.columns[:3]) == ["client_id", "total", "pomp_total"]
    assert list(scores["total"]) == [36.0, 39.5]
    assert list(scores["cutoff_total"]) == [
        "possible alliance concern: a chance to ask what could work better", ""]


def test_score_with_a_definition_file(run, write):
    path = write("self,close,everyday,overall\n5,6,7,8\n")
    result = run("score", path, "--instrument", DEFINITIONS / "wellbeing.toml")
    assert result.exit_code == 0, result.output
    assert pd.read_csv(io.StringIO(result.stdout))["total"].iloc[0] == 6.5


def test_score_with_an_unknown_instrument_is_a_clean_error(run, write, assert_clean_error):
    path = write(CLIENT_HEADER + "007,1,8,7,6,6,9,8,\n")
    assert_clean_error(run("score", path, "--instrument", "alliance"),
                         "unknown instrument 'alliance'")


def test_score_with_a_missing_item_column_is_a_clean_error(run, write, assert_clean_error):
    path = write("client_id,srs1,srs2,srs3\nc1,9,9,9\n")
    assert_clean_error(run("score", path, "--instrument", "srs"),
                         f"{path}, line 1: missing column 'srs4'")


def test_score_with_text_in_a_cell_names_line_and_column(run, write, assert_clean_error):
    path = write(CLIENT_HEADER + "007,1,8,7,6,6,9,8,\n007,2,8,high,6,6,9,8,\n")
    assert_clean_error(run("score", path, "--instrument", "alliance-client"),
                         f"{path}, line 3, column 'bond2': 'high' is not a number")


def test_score_with_an_answer_off_the_scale_names_line_and_column(run, write, assert_clean_error):
    path = write("srs1,srs2,srs3,srs4\n9,9,9,11\n")
    assert_clean_error(run("score", path, "--instrument", "srs"),
                         f"{path}, line 2, column 'srs4': 11 is outside the scale 0–10")


def test_score_with_a_missing_file_is_a_clean_error(tmp_path, run, assert_clean_error):
    assert_clean_error(run("score", tmp_path / "nope.csv", "--instrument", "srs"),
                         "file not found")


def test_score_names_the_right_line_after_an_open_answer_over_two_lines(run, write,
                                                                        assert_clean_error):
    path = write(CLIENT_HEADER + '007,1,7,8,6,6,8,9,"More structure,\nplease"\n'
                 "007,2,7,8,6,6,8,12,\n")
    assert_clean_error(run("score", path, "--instrument", "alliance-client"),
                         "answers.csv, line 4, column 'tasks2': 12 is outside the scale")


def test_score_keeps_identifiers_of_a_file_with_a_byte_order_mark_and_r_row_names(tmp_path, run):
    path = tmp_path / "answers.csv"
    path.write_bytes(b'\xef\xbb\xbf"",' + CLIENT_HEADER.encode()
                     + b'"1",007,1,7,8,6,6,8,9,NA\r\n')
    result = run("score", path, "--instrument", "alliance-client")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].startswith("007,1,7.5,6.0,8.5,")

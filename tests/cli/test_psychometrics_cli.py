"""`alliance psychometrics`, `alliance rci` and `alliance cutoff` on the command line.

Numbers are checked against the stored R output (tests/reference/psychometrics/
psych_reference.json from psych 2.2.9, tests/reference/change/change_reference.json)
to 1e-6, which JSON output carries in full precision.
"""

import json
import shutil
from pathlib import Path

import pytest

# The default name of the files write() makes (tests/cli/conftest.py).
CSV_NAME = "items.csv"


REFERENCE = Path(__file__).parents[1] / "reference"
PSYCH = json.loads((REFERENCE / "psychometrics" / "psych_reference.json").read_text())
CHANGE = json.loads((REFERENCE / "change" / "change_reference.json").read_text())


@pytest.fixture
def waisr(tmp_path):
    return shutil.copy(REFERENCE / "psychometrics" / "waisr12.csv", tmp_path / "waisr.csv")


def test_psychometrics_json_has_the_documented_keys_and_matches_psych(waisr, run):
    ref = PSYCH["waisr12"]
    result = run("psychometrics", waisr, "--items", ",".join(ref["items"]),
                 "--reverse", "wai07", "--min", 1, "--max", 5, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"n", "alpha", "alpha_ci", "omega_total", "items", "n_dropped", "k"} <= set(data)
    assert data["n"] == ref["n"] and data["k"] == 12
    assert data["alpha"] == pytest.approx(ref["alpha"], abs=1e-6)
    assert data["alpha_ci"] == pytest.approx(ref["alpha_ci"], abs=1e-6)
    assert data["omega_total"] == pytest.approx(ref["omega_total"], abs=1e-5)
    assert [item["item"] for item in data["items"]] == ref["items"]
    assert [item["r_drop"] for item in data["items"]] == pytest.approx(ref["r_drop"], abs=1e-6)
    assert [item["alpha_if_deleted"] for item in data["items"]] == pytest.approx(
        ref["alpha_if_deleted"], abs=1e-6)


def test_psychometrics_table_shows_alpha_omega_and_one_row_per_item(run):
    ref = PSYCH["messy"]
    path = REFERENCE / "psychometrics" / "messy.csv"
    result = run("psychometrics", path, "--items", "q1, q2, q3, q4, q5",
                 "--reverse", "q3", "--min", 1, "--max", 7)
    assert result.exit_code == 0, result.output
    assert f"{ref['alpha']:.3f}" in result.output
    assert f"[{ref['alpha_ci'][0]:.3f}, {ref['alpha_ci'][1]:.3f}]" in result.output
    assert f"{ref['omega_total']:.3f}" in result.output
    assert "rows dropped (missing answers)  6" in result.output
    assert "q3 (reversed)" in result.output
    for r_drop in ref["r_drop"]:
        assert f"{r_drop:.3f}" in result.output


def test_a_missing_item_column_names_the_file_and_the_column(waisr, run, assert_clean_error):
    result = run("psychometrics", waisr, "--items", "wai01,wai02,wai99")
    assert_clean_error(result, "waisr.csv, line 1", "missing column 'wai99'")


def test_text_in_an_item_column_names_file_line_and_column(run, write, assert_clean_error):
    path = write("id,a,b,c\n1,1,2,3\n2,2,3,3\n3,3,often,4\n4,4,4,5\n")
    result = run("psychometrics", path, "--items", "a,b,c")
    assert_clean_error(result, "items.csv, line 4, column 'b': 'often' is not a number")


def test_too_few_items_is_a_clean_error(waisr, run, assert_clean_error):
    assert_clean_error(run("psychometrics", waisr, "--items", "wai01"),
                         "at least 2 items, got 1")


def test_too_few_complete_rows_is_a_clean_error(run, write, assert_clean_error):
    path = write("a,b,c\n1,2,3\n2,,3\n3,4,\n4,4,5\n")
    assert_clean_error(run("psychometrics", path, "--items", "a,b,c"),
                         "items.csv: reliability needs at least 3 complete rows; 2 of 4 rows")


def test_reverse_without_min_and_max_is_refused(waisr, run, assert_clean_error):
    result = run("psychometrics", waisr, "--items", "wai01,wai02,wai07", "--reverse", "wai07")
    assert_clean_error(result, "--reverse needs --min and --max", code=2)


def test_an_answer_outside_min_max_points_at_the_cell(run, write, assert_clean_error):
    path = write("a,b,c\n1,2,3\n2,3,3\n3,9,4\n4,4,5\n")
    result = run("psychometrics", path, "--items", "a,b,c", "--min", 1, "--max", 5)
    assert_clean_error(result, "items.csv, line 4, column 'b': 9 is outside the scale range 1–5")


def test_an_item_without_variance_is_a_clean_error(run, write, assert_clean_error):
    path = write("a,b,c\n1,2,3\n2,2,3\n3,2,4\n4,2,5\n")
    assert_clean_error(run("psychometrics", path, "--items", "a,b,c"),
                         "items.csv, column 'b': item 'b' has the same answer (2)")


@pytest.mark.parametrize("missing", ["pairwise", "listwise"])
def test_psychometrics_missing_answers_pairwise_or_listwise_match_psych_and_say_which(missing,
                                                                                      run):
    ref = json.loads((REFERENCE / "psychometrics" / "psych_pairwise.json").read_text())
    file = REFERENCE / "psychometrics" / ref["file"]
    args = [file, "--items", ",".join(ref["items"]), "--reverse", "wai07", "--min", 1,
            "--max", 5, "--missing", missing]
    data = json.loads(run("psychometrics", *args, "--json").output)
    assert data["missing"] == missing
    assert data["n"] == ref[missing]["n"]
    assert data["alpha"] == pytest.approx(ref[missing]["alpha"], abs=1e-6)
    assert data["alpha_ci"] == pytest.approx(ref[missing]["alpha_ci"], abs=1e-6)
    line = run("psychometrics", *args).output.splitlines()[1]
    assert line.startswith("missing answers") and line.split()[2] == missing


def test_psychometrics_default_is_listwise_and_help_says_how_missing_answers_are_handled(waisr,
                                                                                         run):
    data = json.loads(run("psychometrics", waisr, "--items", "wai01,wai02,wai03", "--json").output)
    assert data["missing"] == "listwise"
    help_text = " ".join(run("psychometrics", "-h").output.split())
    assert "--missing [listwise|pairwise]" in help_text
    assert "psych::alpha and psych::omega with their defaults" in help_text


def test_rci_json_matches_the_worked_example(run):
    ref = CHANGE["reliable_change"]["alliance"]
    result = run("rci", "--pre", 18, "--post", 27, "--sd", 7.5, "--reliability", 0.85, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rci"] == pytest.approx(ref["rci"], abs=1e-9)
    assert data["s_diff"] == pytest.approx(ref["s_diff"], abs=1e-9)
    assert data["reliable"] is True
    assert data["direction"] == "improved"


def test_rci_table_on_a_symptom_scale_reports_deterioration(run):
    result = run("rci", "--pre", 18, "--post", 27, "--sd", 7.5, "--reliability", 0.85,
                 "--lower-is-better")
    assert result.exit_code == 0, result.output
    assert "deteriorated" in result.output
    assert "2.191" in result.output and "4.108" in result.output


def test_rci_with_a_cutoff_classifies_the_client(run):
    result = run("rci", "--pre", 20, "--post", 8, "--sd", 5, "--reliability", 0.84,
                 "--lower-is-better", "--cutoff", 9.44, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["category"] == "recovered"


def test_rci_rejects_a_reliability_of_one_or_more_cleanly(run, assert_clean_error):
    assert_clean_error(run("rci", "--pre", 1, "--post", 2, "--sd", 3, "--reliability", 1.5),
                         "reliability must lie in (0, 1): above 0 and below 1, got 1.5")
    assert_clean_error(run("rci", "--pre", 1, "--post", 2, "--sd", 3, "--reliability", 1),
                         "reliability must lie in (0, 1): above 0 and below 1, got 1;")
    assert_clean_error(run("rci", "--pre", 1, "--post", 2, "--sd", 0, "--reliability", 0.8),
                         "sd must be greater than 0")


def test_rci_with_a_reliability_near_1_computes_and_warns_in_the_table_and_the_json(run):
    args = ["rci", "--pre", 18, "--post", 27, "--sd", 7.5, "--reliability", "0.999999999999"]
    table = run(*args)
    assert table.exit_code == 0, table.output
    assert "note: reliability 0.999999999999 is above 0.99" in table.output
    data = json.loads(run(*args, "--json").output)
    assert data["rci"] > 8e5 and "above 0.99" in data["notes"][0]
    assert json.loads(run(*args[:-1], 0.85, "--json").output)["notes"] == []


def test_cutoff_json_gives_c_with_both_norms(run):
    ref = CHANGE["cutoffs"]["wellbeing"]
    result = run("cutoff", "--m0", 30, "--sd0", 6, "--m1", 18, "--sd1", 7.5, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["c"] == pytest.approx(ref["c"], abs=1e-9)
    assert data["criterion"] == "c"
    assert (data["a"], data["b"]) == (ref["a"], ref["b"])


def test_cutoff_with_one_norm_reports_a_or_b(run):
    ref = CHANGE["cutoffs"]["symptom"]
    only_clinical = json.loads(run("cutoff", "--m1", 15, "--sd1", 5, "--lower-is-better",
                                   "--json").output)
    assert (only_clinical["criterion"], only_clinical["cutoff"]) == ("a", ref["a"])
    assert only_clinical["c"] is None
    only_functional = run("cutoff", "--m0", 5, "--sd0", 4, "--lower-is-better")
    assert only_functional.exit_code == 0
    assert "13.000 (criterion b" in only_functional.output


def test_cutoff_with_half_a_norm_is_a_clean_error(run, assert_clean_error):
    assert_clean_error(run("cutoff", "--m0", 30), "needs both m0 and sd0")


def _waisr_with_language(path: Path) -> Path:
    lines = path.read_text().splitlines()
    languages = ["fr", "fr"] + ["en" if i % 2 else "de" for i in range(2, len(lines) - 1)]
    rows = [lines[0] + ",language"] + [f"{line},{lang}" for line, lang in zip(lines[1:], languages)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_psychometrics_by_group_reports_each_group_as_its_own_computation(waisr, run):
    path = _waisr_with_language(Path(waisr))
    items = (",".join(PSYCH["waisr12"]["items"]), "--reverse", "wai07", "--min", 1, "--max", 5)
    grouped = run("psychometrics", path, "--items", *items, "--group", "language", "--json")
    assert grouped.exit_code == 0, grouped.output
    data = json.loads(grouped.output)
    assert data["group_column"] == "language"
    assert data["overall"]["alpha"] == pytest.approx(PSYCH["waisr12"]["alpha"], abs=1e-6)
    by_name = {g["group"]: g for g in data["groups"]}
    assert set(by_name) == {"de", "en", "fr"}
    assert by_name["fr"]["result"] is None and "at least 3" in by_name["fr"]["note"]
    lines = path.read_text().splitlines()
    for language in ("de", "en"):
        subset = path.with_name(f"{language}.csv")
        subset.write_text("\n".join([lines[0]] + [l for l in lines[1:]
                                                   if l.endswith("," + language)]) + "\n")
        alone = json.loads(run("psychometrics", subset, "--items", *items, "--json").output)
        assert by_name[language]["rows"] == alone["n"]
        assert by_name[language]["result"] == alone

    table = run("psychometrics", path, "--items", *items, "--group", "language")
    assert table.exit_code == 0, table.output
    assert "By language" in table.output
    assert f"{by_name['de']['result']['alpha']:.3f}" in table.output
    assert "note: language fr: too little data in this group" in table.output


def test_an_unknown_group_column_is_a_one_line_error(waisr, run, assert_clean_error):
    result = run("psychometrics", waisr, "--items", "wai01,wai02,wai03", "--group", "language")
    assert_clean_error(result, "waisr.csv, line 1", "missing column 'language'")
    assert len(result.output.strip().splitlines()) == 1


def test_a_quoted_file_read_by_pandas_gives_the_same_output_as_the_plain_one(run, write):
    rows = ["a,b,c", "1,2,2", "2,2,3", "3,4,3", "4,4,5", "5,4,4", "2,1,2"]
    plain = write("\n".join(rows) + "\n", "plain.csv")
    quoted = write("\n".join(",".join(f'"{v}"' for v in row.split(",")) for row in rows) + "\n",
                   "quoted.csv")
    first, second = (run("psychometrics", path, "--items", "a,b,c", "--json")
                     for path in (plain, quoted))
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert first.output.replace("plain.csv", "") == second.output.replace("quoted.csv", "")
    outside = write("a,b,c\n1,2,2\n2,9,3\n3,4,3\n", "outside.csv")
    result = run("psychometrics", outside, "--items", "a,b,c", "--min", "1", "--max", "5")
    assert result.exit_code == 1
    assert "outside.csv, line 3, column 'b': 9 is outside the scale range 1–5" in result.output


def test_a_plain_file_is_analysed_without_importing_scipy_or_pandas(waisr):
    # Importing them would take longer than the whole command (docs/benchmarks.md,
    # "Command-line start-up and reading CSV"); the JSON must still match psych.
    import subprocess
    import sys

    code = ("import sys; from alliance.cli.main import cli\n"
            "try:\n    cli(sys.argv[1:], prog_name='alliance')\n"
            "except SystemExit as stop:\n    assert not stop.code, stop.code\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'pandas', 'pyarrow'}))")
    ref = PSYCH["waisr12"]
    done = subprocess.run([sys.executable, "-c", code, "psychometrics", str(waisr), "--items",
                           ",".join(ref["items"]), "--reverse", "wai07", "--min", "1",
                           "--max", "5", "--json"], capture_output=True, text=True, check=True)
    output, loaded = done.stdout.rstrip().rsplit("\n", 1)
    assert loaded == "[]"
    data = json.loads(output)
    assert data["omega_total"] == pytest.approx(ref["omega_total"], abs=1e-5)
    assert data["alpha_ci"] == pytest.approx(ref["alpha_ci"], abs=1e-6)

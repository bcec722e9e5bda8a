"""`alliance analyze within-between` and `alliance analyze expected` on CSV files.

Reference values: tests/reference/multilevel/lme4_reference.json and
tests/reference/expected/lme4_reference.json (lme4 1.1.31); compared to 3
significant digits (relative difference below 5 × 10⁻⁴).
"""

import json
from pathlib import Path

import pytest

# The default name of the files write() makes (tests/cli/conftest.py).
CSV_NAME = "sessions.csv"


REFERENCE = Path(__file__).parents[1] / "reference"
MULTILEVEL = REFERENCE / "multilevel" / "data.csv"
EXPECTED = REFERENCE / "expected" / "data.csv"
THREE_DIGITS = 5e-4
WB = ["analyze", "within-between"]
COLUMNS = ["--outcome", "wellbeing", "--predictor", "alliance", "--client", "client_id"]


def lme4(topic):
    return json.loads((REFERENCE / topic / "lme4_reference.json").read_text())


def test_within_between_json_matches_lme4(run):
    result = run(*WB, MULTILEVEL, *COLUMNS, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    reference = lme4("multilevel")["basic"]
    assert list(data["fixed_effects"]) == ["intercept", "within", "between"]
    for term, expected in reference["fixed_effects"].items():
        assert data["fixed_effects"][term]["estimate"] == pytest.approx(expected["estimate"],
                                                                        rel=THREE_DIGITS)
        assert data["fixed_effects"][term]["se"] == pytest.approx(expected["se"], rel=THREE_DIGITS)
    assert data["n_obs"] == reference["n_obs"] == 486
    assert data["n_clients"] == 60
    assert data["method"] == "REML"


def test_within_between_with_therapist_session_and_lag_matches_lme4(run):
    result = run(*WB, MULTILEVEL, *COLUMNS, "--therapist", "therapist_id", "--session", "session",
                 "--lag", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    reference = lme4("multilevel")["lag_therapist_session"]
    assert set(data["fixed_effects"]) == {"intercept", "within", "between", "outcome_lag",
                                          "session"}
    for term, expected in reference["fixed_effects"].items():
        assert data["fixed_effects"][term]["estimate"] == pytest.approx(expected["estimate"],
                                                                        rel=THREE_DIGITS)
        assert data["fixed_effects"][term]["se"] == pytest.approx(expected["se"], rel=THREE_DIGITS)
    assert data["n_obs"] == 426 and data["n_therapists"] == 6


def test_within_between_prints_readable_tables_by_default(run):
    result = run(*WB, MULTILEVEL, *COLUMNS, "--session", "session")
    assert result.exit_code == 0, result.output
    for text in ("Fixed effects", "Variance components", "within", "between", "session",
                 "Observations", "486", "REML", "Within clients:", "Between clients:"):
        assert text in result.output


def test_a_missing_column_is_a_clean_error_naming_file_and_column(run, write, assert_clean_error):
    path = write("client_id,session,alliance\nc1,1,5\n")
    result = run(*WB, path, *COLUMNS)
    assert_clean_error(result, "sessions.csv", "line 1", "wellbeing")


def test_text_in_a_numeric_column_is_a_clean_error_naming_line_and_column(run, write,
                                                                          assert_clean_error):
    path = write("client_id,session,alliance,wellbeing\nc1,1,5,6\nc1,2,good,6\n")
    result = run(*WB, path, *COLUMNS)
    assert_clean_error(result, "sessions.csv, line 3, column 'alliance'", "'good' is not a number")


def test_too_few_clients_is_a_clean_error(run, write, assert_clean_error):
    rows = "".join(f"c{i},{s},{5 + s % 3 + i / 10},{4 + s / 2}\n" for i in range(3)
                   for s in range(1, 5))
    path = write("client_id,session,alliance,wellbeing\n" + rows)
    result = run(*WB, path, *COLUMNS)
    assert_clean_error(result, "at least 10 clients", "the data have 3")


def test_an_empty_file_is_a_clean_error(run, write, assert_clean_error):
    result = run(*WB, write(""), *COLUMNS)
    assert_clean_error(result, "empty")


def test_expected_json_gives_the_model_and_a_band_per_intake_and_session(run):
    result = run("analyze", "expected", EXPECTED, "--client", "client_id", "--session", "session",
                 "--outcome", "wellbeing", "--intake", "3,5", "--sessions", "2,4,8", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    reference = lme4("expected")
    assert data["model"]["n_cases"] == reference["n_cases"] == 80
    assert data["model"]["coefficients"]["intake"] == pytest.approx(
        reference["fixed_effects"]["intake"]["estimate"], rel=THREE_DIGITS)
    rows = data["band"]["rows"]
    assert [(r["intake"], r["session"]) for r in rows] == [(3, 2), (3, 4), (3, 8), (5, 2), (5, 4),
                                                           (5, 8)]
    assert all(r["lower"] < r["expected"] < r["upper"] for r in rows)
    assert data["band"]["coverage"] == 0.8


def test_expected_prints_a_table_of_bands_by_default(run):
    result = run("analyze", "expected", EXPECTED, "--client", "client_id", "--session", "session",
                 "--outcome", "wellbeing")
    assert result.exit_code == 0, result.output
    for text in ("Expected wellbeing", "Completed cases", "80", "intake", "80% band",
                 "not on track"):
        assert text in result.output


def test_expected_refuses_too_few_cases_with_a_clean_error(run, write, assert_clean_error):
    rows = "".join(f"p{i},{s},{3 + s / 3 + i / 7:.2f}\n" for i in range(5) for s in range(1, 6))
    path = write("client_id,session,wellbeing\n" + rows)
    result = run("analyze", "expected", path, "--client", "client_id", "--session", "session",
                 "--outcome", "wellbeing")
    assert_clean_error(result, "at least 30 completed cases", "the data have 5")


def test_expected_rejects_an_intake_list_that_is_not_numbers(run):
    result = run("analyze", "expected", EXPECTED, "--client", "client_id", "--session", "session",
                 "--outcome", "wellbeing", "--intake", "low,high")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "numbers separated by commas" in result.output


EXPECTED_COLUMNS = ["--client", "client_id", "--session", "session", "--outcome", "wellbeing"]


def test_a_repeated_session_names_its_line_even_without_lag(run, write, assert_clean_error):
    # Without --lag the second row would silently count twice.
    path = write("client_id,session,alliance,wellbeing\nc1,1,5,6\nc1,2,6,6\nc1,2,6,6\n")
    assert_clean_error(run(*WB, path, *COLUMNS, "--session", "session"),
                       "sessions.csv, line 4, column 'session': client 'c1' has a second row "
                       "for session 2")
    assert_clean_error(run("analyze", "expected", path, *EXPECTED_COLUMNS),
                       "sessions.csv, line 4, column 'session'", "second row for session 2")


@pytest.mark.parametrize("session, command, problem", [
    ("-1", WB + ["--session", "session"], "session numbers cannot be negative"),
    ("0", ["analyze", "expected"], "session numbers start at 1"),
    ("2.5", WB + ["--session", "session"], "2.5 is not a whole number"),
    ("2.5", ["analyze", "expected"], "2.5 is not a whole number"),
])
def test_a_session_number_out_of_range_names_file_line_and_column(session, command, problem, run,
                                                                  write, assert_clean_error):
    path = write(f"client_id,session,alliance,wellbeing\nc1,1,5,6\nc2,{session},6,6\n")
    columns = COLUMNS if command[1] == "within-between" else EXPECTED_COLUMNS
    assert_clean_error(run(*command[:2], path, *columns, *command[2:]),
                       f"sessions.csv, line 3, column 'session': {problem}")


def test_a_problem_found_in_the_data_names_the_file(run, write, assert_clean_error):
    path = write("client_id,session,alliance,wellbeing\nc1,1,,6\nc1,2,NA,6\n")
    assert_clean_error(run(*WB, path, *COLUMNS), "sessions.csv: no row has values for all of")


@pytest.mark.parametrize("command", [
    WB + ["--outcome", "wellbeing", "--predictor", "alliance", "--client", "session",
          "--session", "session"],
    ["analyze", "expected", "--client", "client_id", "--session", "session", "--outcome",
     "client_id"],
])
def test_one_column_in_two_roles_is_a_usage_error(command, run):
    result = run(*command[:2], MULTILEVEL, *command[2:])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "must be different columns" in result.output


def lmertest(topic):
    return json.loads((REFERENCE / topic / "lmertest_reference.json").read_text())


def test_within_between_with_satterthwaite_df_matches_lmertest_and_says_so(run):
    result = run(*WB, MULTILEVEL, *COLUMNS, "--therapist", "therapist_id", "--session", "session",
                 "--lag", "--df", "satterthwaite", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["df_method"] == "satterthwaite"
    for term, expected in lmertest("multilevel")["lag_therapist_session"]["fixed_effects"].items():
        effect = data["fixed_effects"][term]
        assert effect["df"] == pytest.approx(expected["df"], rel=1e-5)
        assert effect["p"] == pytest.approx(expected["p"], rel=1e-4)
    table = run(*WB, MULTILEVEL, *COLUMNS, "--df", "satterthwaite").output
    assert "t on Satterthwaite degrees of freedom (as lmerTest)" in table
    header = next(line for line in table.splitlines() if line.startswith("term"))
    assert header.split() == ["term", "estimate", "se", "t", "df", "ci_low", "ci_high", "p"]


def test_within_between_with_kenward_roger_df_matches_pbkrtest_and_says_so(run):
    result = run(*WB, MULTILEVEL, *COLUMNS, "--therapist", "therapist_id", "--df",
                 "kenward-roger", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["df_method"] == "kenward-roger"
    reference = json.loads((REFERENCE / "multilevel" / "kenward_roger_reference.json")
                           .read_text())["therapist"]["fixed_effects"]
    for term, expected in reference.items():
        effect = data["fixed_effects"][term]
        assert effect["se"] == pytest.approx(expected["se"], rel=1e-6)
        assert effect["df"] == pytest.approx(expected["df"], rel=1e-6)
        assert effect["p"] == pytest.approx(expected["p"], rel=1e-5)
    table = run(*WB, MULTILEVEL, *COLUMNS, "--df", "kenward-roger").output
    assert "t on Kenward–Roger degrees of freedom, adjusted standard errors" in table
    refused = run("analyze", "expected", EXPECTED, "--client", "client_id", "--session",
                  "session", "--outcome", "wellbeing", "--df", "kenward-roger")
    assert refused.exit_code == 2 and "'kenward-roger' is not one of" in refused.output


def test_within_between_says_what_rows_were_left_out_and_why(run):
    data = json.loads(run(*WB, MULTILEVEL, *COLUMNS, "--session", "session", "--lag",
                          "--json").output)
    assert data["dropped"] == {"no value for 'wellbeing'": 50, "no value for 'alliance'": 56,
                               "a client's last usable session (no next session to predict)": 60}
    table = run(*WB, MULTILEVEL, *COLUMNS, "--session", "session", "--lag").output
    assert "Rows left out" in table and "no value for 'alliance'" in table
    assert "a client's last usable session (no next session to predict)  60" in table


def test_expected_with_satterthwaite_df_matches_lmertest_and_lists_what_was_left_out(run):
    result = run("analyze", "expected", EXPECTED, *EXPECTED_COLUMNS, "--df", "satterthwaite",
                 "--curve", "log", "--json")
    assert result.exit_code == 0, result.output
    model = json.loads(result.output)["model"]
    assert model["df_method"] == "satterthwaite"
    for term, expected in lmertest("expected")["all"]["fixed_effects"].items():
        assert model["tests"][term]["df"] == pytest.approx(expected["df"], rel=1e-5)
    assert model["dropped"] == {"no value for 'wellbeing'": 20}
    table = run("analyze", "expected", EXPECTED, *EXPECTED_COLUMNS, "--curve", "log").output
    assert "Coefficients" in table and "Wald z (normal distribution)" in table
    assert "no value for 'wellbeing'  20" in table


def test_expected_counts_cases_too_short_to_count_as_completed(run, write):
    rows = ["client_id,session,wellbeing"]
    for case in range(32):
        rows += [f"c{case},{s},{3 + 0.3 * s + (case % 5) * 0.4 + (s * case % 3) * 0.1}"
                 for s in range(1, 6)]
    rows += ["short,1,4", "short,2,5"]
    path = write("\n".join(rows) + "\n")
    data = json.loads(run("analyze", "expected", path, *EXPECTED_COLUMNS, "--curve", "log",
                          "--json").output)
    reason = "1 case with fewer than 3 rated sessions (not completed)"
    assert data["model"]["dropped"] == {reason: 2}


def test_expected_reports_held_out_coverage_of_each_curve_and_the_one_it_kept(run):
    result = run("analyze", "expected", EXPECTED, *EXPECTED_COLUMNS, "--json")
    assert result.exit_code == 0, result.output
    model = json.loads(result.output)["model"]
    assert model["curve"] in ("log", "spline") and set(model["held_out"]) == {"log", "spline"}
    for check in model["held_out"].values():
        assert check["n"] == model["n_obs"] == 472
        assert set(check["by_session"]) == {"2–4", "5–7", "8–12"}
        assert 0.7 < check["overall"] < 0.9
    table = run("analyze", "expected", EXPECTED, *EXPECTED_COLUMNS, "--curve", "spline").output
    assert "Curve                       natural spline of the session\n" in table
    assert "Held-out coverage of the 80% band" in table
    coverage_header = next(line for line in table.splitlines() if line.startswith("curve "))
    assert coverage_header.split() == ["curve", "all", "sessions", "sessions", "2–4", "sessions",
                                       "5–7", "sessions", "8–12"]

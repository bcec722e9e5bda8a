"""`alliance signals` on the command line.

The CSV below holds the hand-computed series of tests/core/test_signals_ruptures.py:
client A (p = 1, sd2) has a rupture at session 5 (reference 7, threshold 5, score 4)
repaired at session 6; client B falls 8 → 5 at session 2 (threshold 6) and never
returns within three sessions (unresolved); client C falls 7 → 4.5 at its last
session (pending).
"""

import json

import pytest

# The default name of the files write() makes (tests/cli/conftest.py).
CSV_NAME = "data.csv"


SESSIONS = """client_id,session,date,attended,alliance,therapist_alliance
A,1,2024-01-01,1,6,8
A,2,2024-01-08,1,8,8
A,3,2024-01-15,1,7,8
A,4,2024-01-22,0,,
A,5,2024-01-29,1,4,8
A,6,2024-02-05,1,7.5,8
A,7,2024-02-12,1,7,8
B,1,2024-01-03,1,8,9
B,2,2024-01-10,1,5,9
B,3,2024-01-17,1,6,9
B,4,2024-01-24,1,6,9
B,5,2024-03-30,1,6,9
C,1,2024-01-02,1,7,7
C,2,2024-01-09,1,4.5,7
"""


@pytest.fixture
def sessions(tmp_path):
    path = tmp_path / "sessions.csv"
    path.write_text(SESSIONS)
    return path


def test_json_lists_each_rupture_with_its_reference_threshold_and_repair_state(sessions, run):
    result = run("signals", sessions, "--score", "alliance", "--pooled-sd", "1", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["rule"] == "sd2"
    assert report["parameters"]["pooled_sd"] == 1.0
    assert report["parameters"]["pooled_sd_source"] == "given"
    ruptures = {(r["client_id"], r["session"]): r for r in report["ruptures"]}
    assert set(ruptures) == {("A", 5), ("B", 2), ("C", 2)}
    a = ruptures[("A", 5)]
    assert (a["reference"], a["score"], a["state"], a["repaired_session"]) == (7, 4, "repaired", 6)
    assert a["threshold"] == pytest.approx(5.0, abs=1e-9)
    assert ruptures[("B", 2)]["state"] == "unresolved"
    assert ruptures[("B", 2)]["repaired_session"] is None
    assert ruptures[("C", 2)]["state"] == "pending"
    assert report["counts"] == {"repaired": 1, "unresolved": 1, "pending": 1}
    assert "signals" not in report


def test_the_table_starts_with_a_one_line_summary(sessions, run):
    result = run("signals", sessions, "--score", "alliance", "--pooled-sd", "1")
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert "3 clients, 13 rated sessions of 'alliance', 3 ruptures (1 repaired, 1 unresolved, " \
           "1 pending)" in first
    assert "pooled SD 1.000 (given)" in first
    assert "repaired_session" in result.output


def test_the_pooled_sd_is_estimated_when_not_given(sessions, run):
    report = json.loads(run("signals", sessions, "--score", "alliance", "--json").output)
    assert report["parameters"]["pooled_sd_source"] == "estimated"
    assert report["parameters"]["pooled_sd"] > 0


def test_rci_rule_with_sd_and_reliability(sessions, run):
    # S_diff = 2·√2·√(1 − .75) = 1.4142136; 1.96·S_diff = 2.7718586: the drops of 3 (A at
    # session 5, B at session 2) fire, C's drop of 2.5 does not.
    result = run("signals", sessions, "--score", "alliance", "--rule", "rci", "--sd", "2",
                 "--reliability", "0.75", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["parameters"]["s_diff"] == pytest.approx(2 ** 0.5, abs=1e-9)
    assert {(r["client_id"], r["session"]) for r in report["ruptures"]} == {("A", 5), ("B", 2)}


def test_rci_without_sd_and_reliability_is_a_clean_error(sessions, run, assert_clean_error):
    result = run("signals", sessions, "--score", "alliance", "--rule", "rci")
    assert_clean_error(result, "--rule rci needs --sd and --reliability", code=2)


def test_mean3_reference_and_window_are_passed_through(sessions, run):
    report = json.loads(run("signals", sessions, "--score", "alliance", "--pooled-sd", "1",
                            "--reference", "mean3", "--window", "1", "--json").output)
    assert report["parameters"]["reference"] == "mean3"
    assert report["parameters"]["window"] == 1


def test_all_adds_the_other_signals_the_columns_allow(sessions, run):
    result = run("signals", sessions, "--score", "alliance", "--pooled-sd", "1", "--all",
                 "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    kinds = {(s["type"], s["rule"]) for s in report["signals"]}
    # C: therapist 7 vs client 4.5 → 25 POMP points; B: 66 days between sessions 4 and 5
    # against a usual 7.
    assert ("discrepancy", "pomp_difference") in kinds
    assert ("disengagement", "long_gap") in kinds
    assert all(s["explanation"] for s in report["signals"])
    assert report["signal_counts"]["discrepancy"] >= 1


def test_all_with_an_outcome_adds_not_on_track(tmp_path, run):
    pytest.importorskip("alliance.core.expected")
    simulator = pytest.importorskip("alliance.core.simulator")
    path = tmp_path / "sim.csv"
    clinic = simulator.simulate_clinic(150, 10, seed=4)
    clinic.sessions.assign(date=clinic.sessions["date"].dt.strftime("%Y-%m-%d")).to_csv(
        path, index=False)
    result = run("signals", path, "--score", "alliance", "--all", "--outcome", "wellbeing",
                 "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["signal_counts"].get("not_on_track", 0) > 0


def test_table_output_with_all_lists_explanations(sessions, run):
    result = run("signals", sessions, "--score", "alliance", "--pooled-sd", "1", "--all")
    assert result.exit_code == 0, result.output
    assert "Other signals:" in result.output
    assert "higher than the client did" in result.output


@pytest.mark.parametrize("args, fragments, code", [
    (["--score", "bond"], ["sessions.csv, line 1", "missing column 'bond'"], 1),
    (["--score", "alliance", "--client", "person"], ["missing column 'person'"], 1),
    (["--score", "alliance", "--sd", "2"], ["used only with --rule rci"], 2),
    (["--score", "alliance", "--rule", "rci", "--sd", "2", "--reliability", "0.8",
      "--pooled-sd", "1"], ["--pooled-sd is used only"], 2),
    (["--score", "alliance", "--low-cutoff", "5"], ["used only with --all"], 2),
    (["--score", "alliance", "--pooled-sd", "0"], ["pooled SD must be a positive number"], 1),
])
def test_bad_options_and_missing_columns_are_clean_errors(sessions, args, fragments, code, run,
                                                          assert_clean_error):
    assert_clean_error(run("signals", sessions, *args), *fragments, code=code)


def test_text_in_the_score_column_names_file_line_and_column(run, write, assert_clean_error):
    path = write("client_id,session,alliance\nA,1,7\nA,2,high\n")
    assert_clean_error(run("signals", path, "--score", "alliance"),
                         "data.csv, line 3, column 'alliance': 'high' is not a number")


def test_an_empty_file_and_a_missing_file_are_clean_errors(tmp_path, run, write,
                                                           assert_clean_error):
    assert_clean_error(run("signals", write(""), "--score", "alliance"),
                         "data.csv", "empty")
    assert_clean_error(run("signals", tmp_path / "nope.csv", "--score", "alliance"),
                         "nope.csv", "not found")


def test_a_repeated_session_and_an_empty_client_name_the_line(run, write, assert_clean_error):
    twice = write("client_id,session,alliance\nA,1,7\nA,2,6\nA,2,5\n")
    assert_clean_error(run("signals", twice, "--score", "alliance"),
                         "line 4, column 'session'", "second row for session 2")
    nobody = write("client_id,session,alliance\nA,1,7\n,2,6\n", "nobody.csv")
    assert_clean_error(run("signals", nobody, "--score", "alliance"),
                         "nobody.csv, line 3, column 'client_id'", "empty client identifier")
    fraction = write("client_id,session,alliance\nA,1.5,7\n", "fraction.csv")
    assert_clean_error(run("signals", fraction, "--score", "alliance"),
                         "line 2, column 'session'", "not a whole number")


def test_with_all_a_bad_date_or_attended_value_names_the_line(run, write, assert_clean_error):
    bad_date = write("client_id,session,date,alliance\nA,1,2024-01-01,7\n"
                     "A,2,01/08/2024,6\n")
    assert_clean_error(run("signals", bad_date, "--score", "alliance", "--all"),
                         "line 3, column 'date'", "not a date")
    bad_attended = write("client_id,session,attended,alliance\nA,1,1,7\nA,2,2,6\n",
                         "attended.csv")
    assert_clean_error(run("signals", bad_attended, "--score", "alliance", "--all"),
                         "line 3, column 'attended'", "1 or 0")


def test_a_byte_order_mark_does_not_hide_the_first_column(tmp_path, run):
    # Excel's "CSV UTF-8" starts with a byte order mark, here before therapist_alliance.
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + b"therapist_alliance,client_id,session,alliance\r\n"
                     b"9,007,1,7\r\n9,007,2,4\r\n")
    result = run("signals", path, "--score", "alliance", "--pooled-sd", "1", "--all", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ruptures"][0]["client_id"] == "007"
    # Session 2: therapist 9 vs client 4, 50 POMP points apart (session 1: 20, not above 20).
    assert report["signal_counts"].get("discrepancy", 0) == 1


def test_a_semicolon_file_gets_the_separator_hint_even_with_an_outcome(run, write,
                                                                       assert_clean_error):
    path = write("client_id;session;alliance;wellbeing\nA;1;7;5\n")
    assert_clean_error(run("signals", path, "--score", "alliance", "--all", "--outcome",
                             "wellbeing"),
                         "data.csv, line 1: the file seems to use ';' as separator")


def test_a_score_column_without_any_value_is_an_error(run, write, assert_clean_error):
    path = write("client_id,session,alliance,bond\nA,1,,7\nA,2,NA,6\n")
    assert_clean_error(run("signals", path, "--score", "alliance"),
                         "data.csv, column 'alliance': no rated sessions (every cell is empty)")


def test_a_negative_session_number_names_the_line(run, write, assert_clean_error):
    path = write("client_id,session,alliance\nA,1,7\nA,-2,6\n")
    assert_clean_error(run("signals", path, "--score", "alliance"),
                         "data.csv, line 3, column 'session': session numbers cannot be negative")


@pytest.mark.parametrize("roles", [["--score", "client_id"], ["--score", "session"],
                                   ["--score", "alliance", "--client", "session"],
                                   ["--score", "alliance", "--all", "--outcome", "client_id"]])
def test_one_column_in_two_roles_is_a_usage_error(sessions, roles, run):
    result = run("signals", sessions, *roles)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "must be different columns" in result.output


def test_lines_past_a_blank_line_are_named_as_an_editor_shows_them(run, write, assert_clean_error):
    path = write("client_id,session,alliance\nA,1,7\n\nA,2,6\n,3,5\n")
    assert_clean_error(run("signals", path, "--score", "alliance"),
                         "data.csv, line 5, column 'client_id': empty client identifier")

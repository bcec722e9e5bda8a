"""`alliance evaluate signals`: rule accuracy against a truth file, as a table or JSON."""

import json

import pytest
from click.testing import CliRunner

from alliance.cli.main import cli

SESSIONS = """client_id,session,alliance
a,1,7
a,2,7
a,3,7
a,4,4
a,5,7
a,6,7
a,7,7
a,8,4.5
a,9,7
b,1,6
b,2,6
b,3,5.5
b,4,3
b,5,3
b,6,3
b,7,3
c,1,8
c,2,8
c,3,8
c,4,7.5
"""
TRUTH = "client_id,session,repaired\na,4,1\nb,3,0\nc,4,1\n"


def run(*args):
    return CliRunner().invoke(cli, ["evaluate", "signals", *map(str, args)])


@pytest.fixture
def files(tmp_path):
    (tmp_path / "sessions.csv").write_text(SESSIONS)
    (tmp_path / "truth.csv").write_text(TRUTH)
    return tmp_path / "sessions.csv", tmp_path / "truth.csv"


def test_the_numbers_of_a_hand_made_case_as_json(files):
    sessions, truth = files
    result = run(sessions, "--truth", truth, "--rule", "sd1", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["within"] == 2 and report["window"] == 3
    [rule] = report["rules"]
    assert rule["name"] == "sd1"
    assert (rule["alerts"], rule["true_alerts"], rule["found"], rule["planted"]) == (3, 2, 2, 3)
    assert rule["precision"] == pytest.approx(2 / 3) and rule["recall"] == pytest.approx(2 / 3)
    assert rule["median_lag"] == 0.5
    assert rule["false_per_100"] == pytest.approx(5.0)
    assert rule["repair_agreement"] == 1.0
    # A detection at session 4 for b (onset 3) is no longer a match with --within 0.
    strict = json.loads(run(sessions, "--truth", truth, "--rule", "sd1", "--within", 0,
                            "--json").output)["rules"][0]
    assert (strict["true_alerts"], strict["found"]) == (1, 1)


def test_the_table_lists_every_sd_rule_by_default_and_states_the_matching(files):
    sessions, truth = files
    result = run(sessions, "--truth", truth)
    assert result.exit_code == 0, result.output
    for name in ("sd1", "sd1/mean3", "sd2", "sd2/mean3"):
        assert f"\n{name} " in result.output
    assert "rci" not in result.output
    assert "onset … onset + 2; 20 rated sessions" in result.output


def test_a_simulated_clinic_round_trips_through_the_files(tmp_path):
    runner = CliRunner()
    made = runner.invoke(cli, ["simulate", "--clients", "120", "--seed", "2", "--generator",
                               "drift", "--out", str(tmp_path)])
    assert made.exit_code == 0, made.output
    result = run(tmp_path / "sessions.csv", "--truth", tmp_path / "ruptures.csv", "--rule",
                 "sd2", "--rule", "rci/mean3", "--sd", 1.5, "--reliability", 0.9, "--json")
    assert result.exit_code == 0, result.output
    rules = json.loads(result.output)["rules"]
    assert [r["name"] for r in rules] == ["sd2", "rci/mean3"]
    assert rules[0]["recall"] > 0.7 and 0.5 < rules[0]["repair_agreement"] <= 1


@pytest.mark.parametrize("args, message", [
    (["--rule", "sd3"], "unknown rule 'sd3'"),
    (["--rule", "rci"], "rule rci needs --sd and --reliability"),
    (["--sd", "1.5"], "--sd and --reliability go together"),
])
def test_bad_options_are_one_clear_line(files, args, message):
    sessions, truth = files
    result = run(sessions, "--truth", truth, *args)
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output


def test_a_truth_file_without_onsets_or_with_bad_flags_is_refused(files, tmp_path):
    sessions, _ = files
    bad = tmp_path / "bad.csv"
    bad.write_text("client_id,repaired\na,1\n")
    result = run(sessions, "--truth", bad)
    assert result.exit_code == 1 and "missing column 'session'" in result.output
    bad.write_text("client_id,session,repaired\na,4,yes\n")
    result = run(sessions, "--truth", bad)
    assert result.exit_code == 1 and "repaired must be 1/0 or true/false" in result.output
    assert "line 2" in result.output

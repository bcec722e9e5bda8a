"""`alliance simulate` writes a reproducible synthetic clinic and summarises it."""

import json

import pandas as pd
from click.testing import CliRunner

from alliance.cli.main import cli
from alliance.core.simulator import RUPTURE_COLUMNS, SESSION_COLUMNS
from alliance.core.tables import read_csv


def run(*args):
    return CliRunner().invoke(cli, ["simulate", *map(str, args)])


def test_simulate_writes_sessions_ruptures_and_clients_and_prints_a_summary(tmp_path):
    out = tmp_path / "sim"
    result = run("--clients", 120, "--sessions", 12, "--seed", 3, "--out", out)
    assert result.exit_code == 0, result.output
    for label in ("rows (scheduled sessions)", "clients", "therapists", "clients with a rupture",
                  "alliance–outcome r", "wrote"):
        assert label in result.output
    sessions = read_csv(out / "sessions.csv", required=SESSION_COLUMNS,
                        numeric=["alliance", "bond", "goals", "tasks", "therapist_alliance",
                                 "wellbeing"], integer=["session", "attended"])
    assert sessions["client_id"].nunique() == 120
    assert sessions["session"].max() == 12
    ruptures = read_csv(out / "ruptures.csv", required=RUPTURE_COLUMNS)
    assert len(ruptures) > 0
    clients = pd.read_csv(out / "clients.csv")
    assert len(clients) == 120


def test_the_same_seed_writes_identical_files_and_another_seed_different_ones(tmp_path):
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        assert run("--clients", 40, "--sessions", 10, "--seed", seed,
                   "--out", tmp_path / name).exit_code == 0
    for file in ("sessions.csv", "ruptures.csv", "clients.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    assert (tmp_path / "a" / "sessions.csv").read_bytes() != (tmp_path / "c" / "sessions.csv").read_bytes()


def test_json_output_has_the_summary_and_the_file_paths(tmp_path):
    result = run("--clients", 60, "--sessions", 8, "--out", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["clients"] == 60
    assert data["therapists"] == 3
    assert data["seed"] == 1
    assert set(data["files"]) == {"sessions", "ruptures", "clients"}
    assert 0 <= data["rupture_share"] <= 1
    assert -1 <= data["alliance_outcome_r"] <= 1


def test_noise_zero_and_a_finer_resolution_are_passed_to_the_simulator(tmp_path):
    result = run("--clients", 30, "--sessions", 10, "--noise", 0, "--resolution", 0.1,
                 "--therapists", 2, "--start-date", "2025-03-03", "--out", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    sessions = pd.read_csv(tmp_path / "sessions.csv")
    assert sessions["therapist_id"].nunique() == 2
    assert sessions["date"].min() >= "2025-03-03"


def test_zero_clients_is_a_clean_error():
    result = run("--clients", 0, "--out", "unused")
    assert result.exit_code == 2
    assert "--clients" in result.output and "Traceback" not in result.output


def test_bad_arguments_are_clean_errors_without_a_traceback(tmp_path):
    file = tmp_path / "taken.csv"
    file.write_text("x\n")
    cases = [
        (["--sessions", "0", "--out", tmp_path], "--sessions"),
        (["--clients", "ten", "--out", tmp_path], "--clients"),
        (["--resolution", "0.3", "--out", tmp_path], "resolution"),
        (["--therapists", "500", "--clients", "10", "--out", tmp_path], "n_therapists"),
        (["--start-date", "01/02/2024", "--out", tmp_path], "--start-date"),
        (["--out", file], "is a file"),
        ([], "--out"),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code in (1, 2), args
        assert message in result.output, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_the_drift_generator_writes_the_same_files_with_one_alliance_question(tmp_path):
    result = run("--clients", 80, "--sessions", 12, "--seed", 3, "--generator", "drift",
                 "--out", tmp_path, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["generator"] == "drift" and summary["clients"] == 80
    sessions = read_csv(tmp_path / "sessions.csv", required=SESSION_COLUMNS,
                        numeric=["alliance", "bond"], integer=["session"])
    assert sessions["bond"].isna().all()
    assert ((sessions["alliance"].dropna() * 2) % 1 == 0).all()       # half points
    assert len(read_csv(tmp_path / "ruptures.csv", required=RUPTURE_COLUMNS)) > 0


def test_the_drift_generator_refuses_the_standard_generators_options(tmp_path):
    result = run("--generator", "drift", "--noise", 0, "--out", tmp_path)
    assert result.exit_code == 2
    assert "--noise and --resolution belong to the standard generator" in result.output

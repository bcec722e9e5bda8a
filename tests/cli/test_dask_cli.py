"""`alliance signals --dask` and `alliance score --dask` on a real Dask cluster of two worker
processes give the single-process results; an unusable cluster or bad data is a one-line
error with the documented exit status."""

import io
import json
import sys

import numpy as np
import pandas as pd
import pytest

from alliance.core import cluster
from alliance.core.simulator import simulate_clinic

distributed = pytest.importorskip("distributed")

ITEMS = ["bond1", "bond2", "goals1", "goals2", "tasks1", "tasks2"]


@pytest.fixture(scope="module")
def scheduler():
    """One cluster for the module: two worker processes, one thread each."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    """A simulated clinic as CSV, and as a folder of two Parquet files whose rows are in
    random order (a client's rows in both files, far apart)."""
    folder = tmp_path_factory.mktemp("clinic")
    sessions = simulate_clinic(n_clients=300, n_sessions=12, seed=3).sessions
    sessions.to_csv(folder / "sessions.csv", index=False)
    shuffled = sessions.sample(frac=1, random_state=4).reset_index(drop=True)
    (folder / "parts").mkdir()
    half = len(shuffled) // 2
    shuffled.iloc[:half].to_parquet(folder / "parts" / "a.parquet", row_group_size=400)
    shuffled.iloc[half:].to_parquet(folder / "parts" / "b.parquet", row_group_size=400)
    return folder


def by_client(frame):
    return frame.sort_values(["client_id", "session"]).reset_index(drop=True)


def test_ruptures_on_the_cluster_equal_the_single_process_engine(clinic, scheduler, run):
    whole = json.loads(run("signals", clinic / "sessions.csv", "--score", "alliance",
                           "--json").output)
    out = clinic / "ruptures.csv"
    result = run("signals", clinic / "parts", "--score", "alliance", "--dask", scheduler,
                 "--batch-rows", 1000, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["counts"] == whole["counts"]
    assert (summary["n_clients"], summary["n_rated_sessions"]) == \
        (whole["n_clients"], whole["n_rated_sessions"]) == (300, 2921)
    # The pooled SD's sum is added in another order: equal to the last bits of a float.
    assert summary["parameters"].pop("pooled_sd") == pytest.approx(
        whole["parameters"].pop("pooled_sd"), rel=1e-13)
    assert summary["parameters"].pop("pooled_sd_source") == "estimated from the input"
    whole["parameters"].pop("pooled_sd_source")
    assert summary["parameters"] == whole["parameters"]
    found = by_client(pd.read_csv(out, dtype={"client_id": str}))
    expected = by_client(pd.DataFrame(whole["ruptures"]))
    assert len(found) == len(expected) == 170
    for column in ("client_id", "session", "state", "reference", "score", "drop"):
        assert found[column].tolist() == expected[column].tolist(), column
    assert found["repaired_session"].fillna(-1).tolist() == \
        expected["repaired_session"].fillna(-1).tolist()
    for column in ("threshold", "s_t"):
        assert np.allclose(found[column], expected[column], rtol=0, atol=1e-12)


def test_a_given_pooled_sd_gives_identical_ruptures(clinic, scheduler, run):
    whole = json.loads(run("signals", clinic / "sessions.csv", "--score", "alliance",
                           "--pooled-sd", 0.75, "--json").output)
    result = run("signals", clinic / "parts", "--score", "alliance", "--pooled-sd", 0.75,
                 "--dask", scheduler, "--batch-rows", 1000)
    assert result.exit_code == 0, result.output
    found = by_client(pd.read_csv(io.StringIO(result.stdout), dtype={"client_id": str}))
    expected = by_client(pd.DataFrame(whole["ruptures"]))
    pd.testing.assert_frame_equal(found, expected, check_dtype=False, rtol=0, atol=0)


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    folder = tmp_path_factory.mktemp("answers")
    rng = np.random.default_rng(1)
    n = 1200
    frame = pd.DataFrame({"client_id": [f"c{i // 5:04d}" for i in range(n)],
                          "session": np.arange(n) % 5 + 1})
    for item in ITEMS:
        values = rng.integers(0, 11, n).astype(float)
        values[rng.random(n) < 0.05] = np.nan
        frame[item] = values
    frame.to_csv(folder / "answers.csv", index=False)
    frame.to_parquet(folder / "answers.parquet", row_group_size=250)
    return folder


@pytest.mark.parametrize("out", ["scores.csv", "scores.parquet"])
def test_scores_on_the_cluster_are_the_single_process_file_byte_for_byte(answers, scheduler,
                                                                         run, out):
    single = answers / f"single-{out}"
    assert run("score", answers / "answers.parquet", "--instrument", "alliance-client",
               "--batch-rows", 250, "--out", single).exit_code == 0
    on_cluster = answers / f"dask-{out}"
    result = run("score", answers / "answers.parquet", "--instrument", "alliance-client",
                 "--dask", scheduler, "--batch-rows", 250, "--out", on_cluster)
    assert result.exit_code == 0, result.output
    assert "Scored 1200 administrations" in result.output
    if out.endswith(".csv"):
        whole = run("score", answers / "answers.csv", "--instrument", "alliance-client")
        assert on_cluster.read_text() == whole.output
    assert on_cluster.read_bytes() == single.read_bytes()


def test_bad_data_on_a_worker_is_the_one_line_error_of_the_single_process(
        answers, scheduler, run, tmp_path, assert_clean_error):
    frame = pd.read_parquet(answers / "answers.parquet")
    frame.loc[1000, "tasks2"] = 12
    frame.to_parquet(tmp_path / "off.parquet", row_group_size=250)
    result = run("score", tmp_path / "off.parquet", "--instrument", "alliance-client",
                 "--dask", scheduler, "--batch-rows", 250, "--out", tmp_path / "s.csv")
    assert_clean_error(result, "off.parquet, column 'tasks2': 12 is", "(row 1001)")
    assert result.output.count("\n") == 1


def test_local_n_starts_its_own_cluster(answers, run):
    result = run("score", answers / "answers.parquet", "--instrument", "alliance-client",
                 "--dask", "local:1")
    whole = run("score", answers / "answers.csv", "--instrument", "alliance-client")
    assert result.exit_code == 0, result.output
    assert result.stdout == whole.output


def test_an_unreachable_scheduler_is_exit_status_3(answers, run, monkeypatch,
                                                   assert_clean_error):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1)
    result = run("signals", answers / "answers.parquet", "--score", "bond1",
                 "--dask", "tcp://127.0.0.1:9")
    assert_clean_error(result, "Error: cannot reach the Dask scheduler at tcp://127.0.0.1:9",
                       code=3)
    assert result.output.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["--dask", "local:0"], "local:N needs a whole number of worker processes"),
    (["--dask", "local:two"], "local:N needs a whole number of worker processes"),
    (["--dask", "local:2", "--all"], "--all needs the whole clinic at once"),
])
def test_dask_options_that_do_not_fit_are_usage_errors(clinic, run, assert_clean_error,
                                                       args, message):
    result = run("signals", clinic / "parts", "--score", "alliance", *args)
    assert_clean_error(result, message, code=2)


def test_dask_reads_parquet(clinic, run, assert_clean_error):
    result = run("signals", clinic / "sessions.csv", "--score", "alliance", "--dask", "local:2")
    assert_clean_error(result, "--dask reads Parquet data", code=2)


def test_without_dask_installed_the_option_says_how_to_install_it(answers, run, monkeypatch,
                                                                 assert_clean_error):
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = run("score", answers / "answers.parquet", "--instrument", "alliance-client",
                 "--dask", "local:2")
    assert_clean_error(result, "--dask needs the packages dask and distributed: "
                               "pip install 'alliance[dask]'", code=3)


def test_a_client_with_a_session_twice_is_a_clean_error_on_the_cluster(
        clinic, scheduler, run, tmp_path, assert_clean_error):
    sessions = pd.read_csv(clinic / "sessions.csv", dtype={"client_id": str})
    twice = pd.concat([sessions, sessions.iloc[[40]]]).sample(frac=1, random_state=2)
    twice.to_parquet(tmp_path / "twice.parquet", row_group_size=500)
    result = run("signals", tmp_path / "twice.parquet", "--score", "alliance",
                 "--dask", scheduler, "--batch-rows", 500)
    row = sessions.iloc[40]
    assert_clean_error(result, f"twice.parquet: client '{row['client_id']}' has more than one "
                               f"row for session {row['session']}")

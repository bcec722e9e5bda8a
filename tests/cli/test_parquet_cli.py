"""Parquet input, and data larger than memory in batches: `alliance signals` and `alliance score`
give the same results batch by batch as on the whole file at once."""

import json

import numpy as np
import pandas as pd
import pytest

from alliance.core.errors import InputError
from alliance.core.partitioned import PooledSums, whole_clients
from alliance.core.signals.ruptures import pooled_within_sd
from alliance.core.simulator import simulate_clinic
from alliance.core.tables import read_table

ITEMS = ["bond1", "bond2", "goals1", "goals2", "tasks1", "tasks2"]


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    """A simulated clinic as CSV and as Parquet (sorted by client, small row groups)."""
    folder = tmp_path_factory.mktemp("clinic")
    sessions = simulate_clinic(n_clients=300, n_sessions=12, seed=3).sessions
    sessions = sessions.sort_values(["client_id", "session"]).reset_index(drop=True)
    sessions.to_csv(folder / "sessions.csv", index=False)
    sessions.to_parquet(folder / "sessions.parquet", row_group_size=500)
    return folder


def ruptures(frame):
    return frame.sort_values(["client_id", "session"]).reset_index(drop=True)


@pytest.mark.parametrize("batch_rows", [37, 500, 100_000])
def test_ruptures_in_batches_equal_the_whole_file_at_once(clinic, run, batch_rows):
    whole = run("signals", clinic / "sessions.csv", "--score", "alliance", "--json")
    expected = pd.DataFrame(json.loads(whole.output)["ruptures"])
    out = clinic / f"ruptures-{batch_rows}.csv"
    result = run("signals", clinic / "sessions.parquet", "--score", "alliance",
                 "--batch-rows", batch_rows, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["counts"] == json.loads(whole.output)["counts"]
    assert summary["parameters"]["pooled_sd"] == pytest.approx(
        json.loads(whole.output)["parameters"]["pooled_sd"], rel=1e-12)
    found = pd.read_csv(out, dtype={"client_id": str})
    assert len(found) == len(expected) > 50
    for column in ("client_id", "session", "state"):
        assert found[column].tolist() == expected[column].tolist()
    assert found["repaired_session"].fillna(-1).tolist() == \
        expected["repaired_session"].fillna(-1).tolist()
    assert np.allclose(found["threshold"], expected["threshold"], rtol=0, atol=1e-12)


def test_a_parquet_file_read_whole_gives_the_csv_result(clinic, run):
    from_csv = json.loads(run("signals", clinic / "sessions.csv", "--score", "alliance",
                              "--all", "--json").output)
    from_parquet = json.loads(run("signals", clinic / "sessions.parquet", "--score", "alliance",
                                  "--all", "--json").output)
    from_csv.pop("file"), from_parquet.pop("file")
    assert from_parquet == from_csv


def test_data_not_sorted_by_client_is_a_clean_error(clinic, run, tmp_path, assert_clean_error):
    sessions = pd.read_parquet(clinic / "sessions.parquet").sample(frac=1, random_state=1)
    sessions.to_parquet(tmp_path / "shuffled.parquet")
    result = run("signals", tmp_path / "shuffled.parquet", "--score", "alliance",
                 "--batch-rows", 1000, "--out", tmp_path / "r.csv")
    assert_clean_error(result, "shuffled.parquet, column 'client_id': the rows must be sorted "
                               "by client")


@pytest.mark.parametrize("args, message", [
    (["--all"], "--all needs the whole clinic at once"),
    (["--out", "r.csv"], "--out is used only with --batch-rows"),
])
def test_batch_options_that_do_not_fit_are_usage_errors(clinic, run, assert_clean_error,
                                                         args, message):
    batch = [] if args[0] == "--out" else ["--batch-rows", 100]
    result = run("signals", clinic / "sessions.parquet", "--score", "alliance", *batch, *args)
    assert_clean_error(result, message, code=2)


def test_batch_rows_need_parquet(clinic, run, assert_clean_error):
    result = run("signals", clinic / "sessions.csv", "--score", "alliance", "--batch-rows", 10)
    assert_clean_error(result, "--batch-rows reads Parquet data", code=2)


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


@pytest.mark.parametrize("out", ["scores.csv", "scores.parquet", None])
def test_scores_in_batches_equal_the_whole_file_at_once(answers, run, out):
    whole = run("score", answers / "answers.csv", "--instrument", "alliance-client")
    expected = pd.read_csv(pd.io.common.StringIO(whole.output))
    args = ["--out", answers / out] if out else []
    result = run("score", answers / "answers.parquet", "--instrument", "alliance-client",
                 "--batch-rows", 111, *args)
    assert result.exit_code == 0, result.output
    if out is None:
        found = pd.read_csv(pd.io.common.StringIO(result.stdout))
    elif out.endswith(".csv"):
        found = pd.read_csv(answers / out)
    else:
        found = pd.read_parquet(answers / out).replace({"reason": {"": np.nan}})
    assert found.shape == expected.shape == (1200, 13)
    pd.testing.assert_frame_equal(found, expected, check_dtype=False)


def test_scoring_a_parquet_file_whole_equals_the_csv(answers, run):
    csv = run("score", answers / "answers.csv", "--instrument", "alliance-client")
    parquet = run("score", answers / "answers.parquet", "--instrument", "alliance-client")
    assert parquet.exit_code == 0 and parquet.output == csv.output


def test_an_answer_off_the_scale_in_a_later_batch_names_its_row(answers, run, tmp_path,
                                                                assert_clean_error):
    frame = pd.read_parquet(answers / "answers.parquet")
    frame.loc[1000, "tasks2"] = 12
    frame.to_parquet(tmp_path / "off.parquet", row_group_size=250)
    result = run("score", tmp_path / "off.parquet", "--instrument", "alliance-client",
                 "--batch-rows", 300, "--out", tmp_path / "s.csv")
    assert_clean_error(result, "off.parquet, column 'tasks2': 12 is", "(row 1001)")


def test_parquet_problems_name_the_row_and_column(tmp_path):
    pd.DataFrame({"client_id": ["a", "b"], "alliance": ["5", "often"]}).to_parquet(
        tmp_path / "bad.parquet")
    with pytest.raises(InputError, match=r"bad.parquet, column 'alliance': 'often' is not a "
                                         r"number \(row 2\)"):
        read_table(tmp_path / "bad.parquet", numeric=["alliance"])
    with pytest.raises(InputError, match="missing column 'wellbeing'"):
        read_table(tmp_path / "bad.parquet", required=["wellbeing"])
    (tmp_path / "not.parquet").write_text("client_id\na\n")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        read_table(tmp_path / "not.parquet")


def test_whole_clients_and_pooled_sums_match_the_engine_on_all_rows():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"client": np.repeat([f"c{i:02d}" for i in range(20)], 7),
                          "score": rng.normal(5, 1, 140)})
    frame.loc[rng.random(140) < 0.1, "score"] = np.nan
    batches = [frame.iloc[i:i + 9] for i in range(0, 140, 9)]
    regrouped = list(whole_clients(batches, "client"))
    assert pd.concat(regrouped, ignore_index=True).equals(frame)
    clients = [set(part["client"]) for part in regrouped]
    assert all(not a & b for i, a in enumerate(clients) for b in clients[i + 1:])
    sums = PooledSums()
    for part in regrouped:
        sums.add(part["client"].to_numpy(), part["score"].to_numpy())
    assert sums.value == pytest.approx(pooled_within_sd(frame["client"], frame["score"]).value,
                                       rel=1e-12)

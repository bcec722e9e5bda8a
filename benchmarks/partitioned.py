"""Benchmark: `alliance signals` and `alliance score` on Parquet data in batches (--batch-rows).

For each size N (administrations), writes a Parquet file sorted by client (10
sessions per client, row groups of 1,000,000 rows): client_id, session, the six
items of the alliance check-in (0–10, about 5 % unanswered) and their mean as
alliance. Then, in a child process each:

- signals: `alliance signals FILE --score alliance --batch-rows B --out ruptures.csv`
  (rule sd2, pooled SD estimated: two passes over the data);
- score: `alliance score FILE --instrument alliance-client --batch-rows B
  --id-columns client_id,session --out scores.parquet`.

Wall time and peak resident memory (resource.getrusage(RUSAGE_CHILDREN), one child
per run) are printed as a Markdown table (recorded in docs/benchmarks.md). Memory
flat in N is the point: it should depend on B, not on N.

With --dask W the same two commands also run with --dask on a local cluster of W
worker processes (one thread each) that the benchmark starts: wall time, the
command's peak RSS, and the largest peak RSS of a worker (getrusage in each worker;
the workers are restarted before each run). The outputs are checked against the
single-process ones: the same number of ruptures, the same scores table.

    python benchmarks/partitioned.py --sizes 1000000,3000000,10000000
    python benchmarks/partitioned.py --sizes 1000000,10000000 --dask 2
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ITEMS = ["bond1", "bond2", "goals1", "goals2", "tasks1", "tasks2"]
SESSIONS = 10
ROW_GROUP = 1_000_000
ALLIANCE = [str(Path(sys.executable).with_name("alliance"))]


def write_data(path: Path, n: int, seed: int = 1) -> None:
    """N administrations, written one row group at a time (the generator's memory stays small)."""
    rng = np.random.default_rng(seed)
    with pq.ParquetWriter(path, pa.schema(
            [("client_id", pa.string()), ("session", pa.int32())]
            + [(item, pa.float64()) for item in ITEMS] + [("alliance", pa.float64())])) as out:
        for start in range(0, n, ROW_GROUP):
            rows = np.arange(start, min(n, start + ROW_GROUP))
            clients = rows // SESSIONS
            # Each client's own level (row groups hold whole clients: 10 sessions each),
            # then session-to-session variation.
            own = rng.normal(7, 1.2, clients[-1] - clients[0] + 1)
            level = own[clients - clients[0]] + rng.normal(0, 0.8, len(rows))
            items = np.clip(np.round(level[:, None] + rng.normal(0, 0.7, (len(rows), 6))), 0, 10)
            items[rng.random(items.shape) < 0.05] = np.nan
            columns = {"client_id": pa.array(np.char.add("C", np.char.zfill(
                           clients.astype(str), 9))),
                       "session": pa.array((rows % SESSIONS + 1).astype(np.int32))}
            for j, item in enumerate(ITEMS):
                columns[item] = pa.array(items[:, j])
            with np.errstate(invalid="ignore"):
                columns["alliance"] = pa.array(np.nanmean(items, axis=1))
            table = pa.table(columns)
            out.write_table(table.cast(out.schema), row_group_size=ROW_GROUP)


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of a command.

    A small wrapper process runs the command and reports getrusage(RUSAGE_CHILDREN),
    whose only child it is, so the peak is this run's alone."""
    wrapper = ("import resource, subprocess, sys\n"
               "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,\n"
               "                      stderr=subprocess.PIPE, text=True)\n"
               "if done.returncode: sys.exit(done.stderr)\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr}")
    return seconds, int(done.stdout.strip()) / 1024


def run_one(n: int, batch: int, folder: Path, cluster=None) -> dict:
    data = folder / f"data-{n}.parquet"
    start = time.perf_counter()
    write_data(data, n)
    written = time.perf_counter() - start

    def signals(*extra, out="ruptures.csv"):
        return measure([*ALLIANCE, "signals", str(data), "--score", "alliance",
                        "--batch-rows", str(batch), "--out", str(folder / out), *extra])

    def score(*extra, out="scores.parquet"):
        return measure([*ALLIANCE, "score", str(data), "--instrument", "alliance-client",
                        "--batch-rows", str(batch), "--id-columns", "client_id,session",
                        "--out", str(folder / out), *extra])

    row = {"n": n, "file_mb": data.stat().st_size / 1e6, "written_s": written}
    row["signals_s"], row["signals_mb"] = signals()
    row["score_s"], row["score_mb"] = score()
    row["ruptures"] = sum(1 for _ in open(folder / "ruptures.csv")) - 1
    if cluster is not None:
        client, address = cluster
        client.restart()
        row["dask_signals_s"], row["dask_signals_mb"] = signals("--dask", address,
                                                               out="dask-ruptures.csv")
        row["dask_signals_worker_mb"] = worker_peak(client)
        client.restart()
        row["dask_score_s"], row["dask_score_mb"] = score("--dask", address,
                                                         out="dask-scores.parquet")
        row["dask_score_worker_mb"] = worker_peak(client)
        found = sum(1 for _ in open(folder / "dask-ruptures.csv")) - 1
        if found != row["ruptures"]:
            raise SystemExit(f"--dask found {found} ruptures, one process {row['ruptures']}")
        # The same table; the row groups follow the pieces (whole row groups of the input).
        if not pq.read_table(folder / "dask-scores.parquet").equals(
                pq.read_table(folder / "scores.parquet")):
            raise SystemExit("--dask wrote other scores than one process")
    for name in folder.iterdir():
        if name.is_file():
            name.unlink()
    return row


def worker_peak(client) -> float:
    """The largest peak RSS (MB) of the cluster's workers since they were started."""
    import resource

    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return max(peaks.values()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000,3000000,10000000")
    parser.add_argument("--batch-rows", type=int, default=1_000_000)
    parser.add_argument("--dask", type=int, metavar="W", default=0,
                        help="also run with --dask on a local cluster of W worker processes")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    print(f"Machine: {cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}; "
          f"Python {platform.python_version()}, numpy {np.__version__}, pyarrow {pa.__version__}; "
          f"{dt.date.today()}; load average {os.getloadavg()[0]:.1f}")
    print(f"--batch-rows {args.batch_rows}\n")
    started = measure([*ALLIANCE, "--version"])
    print(f"start-up: {started[0]:.1f} s, {started[1]:.0f} MB\n")
    dask = " | --dask signals s | command MB | worker MB | --dask score s | command MB " \
           "| worker MB" if args.dask else ""
    print("| administrations | Parquet MB | ruptures | signals s | signals peak RSS MB "
          f"| score s | score peak RSS MB{dask} |")
    print("|---:" * (13 if args.dask else 7) + "|")
    with contextlib.ExitStack() as stack:
        cluster = None
        if args.dask:
            from distributed import Client, LocalCluster

            local = stack.enter_context(LocalCluster(
                n_workers=args.dask, threads_per_worker=1, processes=True,
                dashboard_address=":0", silence_logs=logging.ERROR))
            cluster = (stack.enter_context(Client(local)), local.scheduler_address)
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        for n in sizes:
            row = run_one(n, args.batch_rows, folder, cluster)
            line = (f"| {n:,} | {row['file_mb']:.1f} | {row['ruptures']:,} | "
                    f"{row['signals_s']:.1f} | {row['signals_mb']:.0f} | {row['score_s']:.1f} | "
                    f"{row['score_mb']:.0f} |")
            if cluster:
                line += (f" {row['dask_signals_s']:.1f} | {row['dask_signals_mb']:.0f} | "
                         f"{row['dask_signals_worker_mb']:.0f} | {row['dask_score_s']:.1f} | "
                         f"{row['dask_score_mb']:.0f} | {row['dask_score_worker_mb']:.0f} |")
            print(line, flush=True)


if __name__ == "__main__":
    main()

"""Benchmark: the signals engine on 100k, 300k and 1M simulated administrations.

For each size, a clinic is simulated with `alliance.core.simulator.simulate_clinic`
(20 scheduled sessions per client) and cut to exactly N administrations (rated
check-ins). Then, on one CPU core:

- engine: `detect_ruptures` (rule sd2, pooled SD estimated) on the columns held
  in memory; best and median of --repeat runs; peak memory of one run with
  tracemalloc (numpy reports its buffers to tracemalloc);
- loop: a straightforward per-client Python loop of the same rule (running sums,
  one pass per client), run in full (best of --loop-repeat), checked to find
  the same ruptures;
- CLI: `alliance signals FILE --score alliance --json` on a CSV written once,
  in a child process (stdout discarded); wall time (best and median of
  --cli-repeat) and
  peak resident memory from resource.getrusage(RUSAGE_CHILDREN); and once with
  --all (every other signal as well). The fixed cost of the command (start-up
  and a two-row file) is measured too, and the scaling of the CLI is judged on
  its time after that.

Best times are the figures of record (they are the least disturbed by other
work on the machine); ratios and scaling exponents use them. Prints the machine
and a Markdown table (recorded in docs/benchmarks.md).

    python benchmarks/signals_engine.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from alliance.core.signals import detect_ruptures
from alliance.core.simulator import simulate_clinic

SESSIONS_PER_CLIENT = 20


def pin_to_one_core() -> int:
    """Run this process (and its children) on a single core; return which."""
    core = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    return core


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version(),
            "numpy": np.__version__, "pandas": pd.__version__,
            "os": f"{platform.system()} {platform.release()}",
            "date": dt.date.today().isoformat()}


def clinic_with(n_administrations: int, seed: int) -> pd.DataFrame:
    """Simulated sessions cut to exactly n rated administrations."""
    pilot = simulate_clinic(2000, SESSIONS_PER_CLIENT, seed=seed).sessions
    per_client = pilot["alliance"].notna().sum() / 2000
    n_clients = math.ceil(n_administrations / per_client * 1.05) + 10
    sessions = simulate_clinic(n_clients, SESSIONS_PER_CLIENT, seed=seed).sessions
    rated_so_far = sessions["alliance"].notna().cumsum()
    cut = int(np.searchsorted(rated_so_far.to_numpy(), n_administrations)) + 1
    sessions = sessions.iloc[:cut].reset_index(drop=True)
    assert int(sessions["alliance"].notna().sum()) == n_administrations
    return sessions


# --- the straightforward loop ----------------------------------------------------------------

def loop_ruptures(client, session, score, m=2.0, window=3, tolerance=1e-9):
    """Rule sd2 with the previous score as reference, one Python pass per client."""
    by_client: dict = {}
    for c, s, a in zip(client.tolist(), session.tolist(), score.tolist()):
        if a == a:                                  # not NaN: a rated session
            by_client.setdefault(c, []).append((s, a))
    total = count = 0.0
    for rows in by_client.values():
        rows.sort()
        mean = sum(a for _, a in rows) / len(rows)
        total += sum((a - mean) ** 2 for _, a in rows)
        count += len(rows)
    p2 = total / count
    found = []
    for c, rows in by_client.items():
        a = [v for _, v in rows]
        n_prior, mean, squares = 1, a[0], 0.0      # running mean and sum of squares (Welford)
        for t in range(1, len(a)):
            s_t = math.sqrt((squares + 3 * p2) / (n_prior - 1 + 3))
            ref = a[t - 1]
            if a[t] <= ref - m * s_t + tolerance:
                state, repaired = "pending", None
                for r in range(t + 1, min(t + window, len(a) - 1) + 1):
                    if a[r] >= ref - tolerance:
                        state, repaired = "repaired", rows[r][0]
                        break
                else:
                    if len(a) - 1 - t >= window:
                        state = "unresolved"
                found.append((c, rows[t][0], state, repaired))
            n_prior += 1
            delta = a[t] - mean
            mean += delta / n_prior
            squares += delta * (a[t] - mean)
    return found


# --- measurements ----------------------------------------------------------------------------

def time_engine(client, session, score, repeat: int) -> tuple[list[float], float, object]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = detect_ruptures(client, session, score)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    detect_ruptures(client, session, score)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return times, peak / 2**20, result


CHILD = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
if done.returncode:
    sys.exit(done.stderr.decode())
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def time_cli(*arguments: str) -> tuple[float, float]:
    """Wall time and peak RSS (MB) of one `alliance` run, measured in a fresh parent."""
    command = [sys.executable, "-c", CHILD, str(Path(sys.executable).with_name("alliance")),
               *arguments]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]) / 1024          # ru_maxrss is in KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--repeat", type=int, default=5, help="engine runs per size")
    parser.add_argument("--loop-repeat", type=int, default=2, help="loop runs per size")
    parser.add_argument("--cli-repeat", type=int, default=3, help="CLI runs per size")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    core = pin_to_one_core()
    info = machine()
    print(f"Machine: {info['cpu']}, {info['cores']} cores (pinned to core {core}); "
          f"{info['os']}; Python {info['python']}, numpy {info['numpy']}, "
          f"pandas {info['pandas']}; {info['date']}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        # The fixed cost of the command: start-up (Python and every command module) and
        # a two-row file; measured after one warm-up run.
        tiny = Path(folder) / "tiny.csv"
        tiny.write_text("client_id,session,alliance\nA,1,7\nA,2,6\n")
        baseline = ("signals", str(tiny), "--score", "alliance", "--json")
        time_cli(*baseline)
        startup = min(time_cli(*baseline)[0] for _ in range(args.cli_repeat))
        print(f"Start-up of `alliance signals` on a two-row file: {startup:.2f} s", flush=True)
        for n in sizes:
            sessions = clinic_with(n, args.seed)
            client = sessions["client_id"].to_numpy(dtype=object)
            session = sessions["session"].to_numpy()
            score = sessions["alliance"].to_numpy()
            times, peak_mb, result = time_engine(client, session, score, args.repeat)

            loop_times = []
            for _ in range(args.loop_repeat):
                start = time.perf_counter()
                looped = loop_ruptures(client, session, score)
                loop_times.append(time.perf_counter() - start)
            loop_s = min(loop_times)
            engine_keys = list(zip(result.ruptures["client_id"], result.ruptures["session"],
                                   result.ruptures["state"]))
            if engine_keys != [(c, s, state) for c, s, state, _ in looped]:
                sys.exit(f"loop and engine disagree at {n} administrations")

            path = Path(folder) / f"sessions_{n}.csv"
            sessions.assign(date=sessions["date"].dt.strftime("%Y-%m-%d")).to_csv(path,
                                                                                  index=False)
            signals = ("signals", str(path), "--score", "alliance", "--json")
            cli = [time_cli(*signals) for _ in range(args.cli_repeat)]
            cli_all = time_cli(*signals, "--all")
            engine_s = min(times)
            rows.append({
                "administrations": n, "rows": len(sessions),
                "clients": int(sessions["client_id"].nunique()),
                "ruptures": len(result.ruptures), "engine_s": engine_s,
                "engine_median_s": statistics.median(times), "ns_per_admin": engine_s / n * 1e9,
                "engine_peak_mb": peak_mb, "loop_s": loop_s, "ratio": loop_s / engine_s,
                "cli_s": min(t for t, _ in cli),
                "cli_median_s": statistics.median(t for t, _ in cli),
                "cli_work_s": min(t for t, _ in cli) - startup,
                "cli_rss_mb": max(r for _, r in cli),
                "cli_all_s": cli_all[0], "cli_all_rss_mb": cli_all[1]})
            print(f"  {n:>9,} administrations done", file=sys.stderr, flush=True)

    print()
    print("| administrations | rows | clients | ruptures | engine best (median) s | "
          "engine ns / admin. | engine peak MB | loop best s | loop ÷ engine | "
          "CLI best (median) s | CLI after start-up s | CLI peak RSS MB | CLI --all s | "
          "CLI --all peak RSS MB |")
    print("|" + "---:|" * 14)
    for r in rows:
        print(f"| {r['administrations']:,} | {r['rows']:,} | {r['clients']:,} | "
              f"{r['ruptures']:,} | {r['engine_s']:.3f} ({r['engine_median_s']:.3f}) | "
              f"{r['ns_per_admin']:.0f} | {r['engine_peak_mb']:.0f} | {r['loop_s']:.2f} | "
              f"{r['ratio']:.0f}× | {r['cli_s']:.2f} ({r['cli_median_s']:.2f}) | "
              f"{r['cli_work_s']:.2f} | "
              f"{r['cli_rss_mb']:.0f} | "
              f"{r['cli_all_s']:.2f} | {r['cli_all_rss_mb']:.0f} |")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        ratio = last["administrations"] / first["administrations"]
        for key, label in (("engine_s", "engine"), ("loop_s", "loop"),
                           ("cli_work_s", "CLI after start-up")):
            if min(first[key], last[key]) <= 0:
                continue
            slope = math.log(last[key] / first[key]) / math.log(ratio)
            print(f"\nScaling exponent of {label} time from {first['administrations']:,} to "
                  f"{last['administrations']:,} administrations: {slope:.2f} (1 = linear)",
                  end="")
        print()


if __name__ == "__main__":
    main()

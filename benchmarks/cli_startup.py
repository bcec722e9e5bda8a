"""Benchmark: the research command line as whole processes.

- start-up: median (and best) of --runs whole-process runs of
  `alliance psychometrics FILE --items ...` on a 1,000-row file of 10 items,
  `alliance --help`, and, when R is installed, `Rscript -e 'psych::alpha(read.csv(FILE))'`
  on the same file; and the ten slowest imports of the psychometrics command
  (`python -X importtime`, cumulative);
- signals: with --signals-rows N, `alliance signals FILE.csv --score alliance --json` on a
  simulated clinic of N administrations (as benchmarks/signals_engine.py builds it): wall
  time (best and median of --signals-runs) and peak resident memory of the child process,
  and the time of reading and checking the CSV alone (`alliance.cli.signals._read`).

    python benchmarks/cli_startup.py --runs 11 --signals-rows 1000000
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

#: `alliance` as its console script runs it; PYTHONPATH (--src) picks the source tree.
ALLIANCE = [sys.executable, "-c", "import sys; from alliance.cli.main import cli; "
            "sys.argv[0] = 'alliance'; sys.exit(cli())"]

READ = """
import sys, time
from alliance.cli.signals import _read
start = time.perf_counter()
_read(sys.argv[1], "alliance", "client_id", "session", False, None)
print(time.perf_counter() - start)
"""
ITEMS = [f"wai{j:02d}" for j in range(1, 11)]

CHILD = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
elapsed = time.perf_counter() - start
if done.returncode:
    sys.exit(done.stderr.decode())
print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_child(command: list[str]) -> tuple[float, float]:
    """Wall time (s) and peak RSS (MB) of one process, measured in a fresh parent."""
    out = subprocess.run([sys.executable, "-c", CHILD, *command], capture_output=True,
                         text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]) / 1024


def timed(command: list[str], runs: int) -> tuple[float, float, float]:
    """(median s, best s, peak RSS MB) of `runs` runs after one warm-up run."""
    run_child(command)
    results = [run_child(command) for _ in range(runs)]
    times = [t for t, _ in results]
    return statistics.median(times), min(times), max(m for _, m in results)


def items_file(path: Path, rows: int = 1000, seed: int = 1) -> None:
    """Answers 1–5 to 10 items of one factor, about 2 % missing."""
    rng = np.random.default_rng(seed)
    trait = rng.normal(size=(rows, 1))
    answers = np.clip(np.rint(3 + 0.8 * trait + rng.normal(size=(rows, len(ITEMS)))), 1, 5)
    lines = [",".join(ITEMS)]
    for row in answers:
        lines.append(",".join("" if rng.random() < 0.02 else f"{v:g}" for v in row))
    path.write_text("\n".join(lines) + "\n")


def import_offenders(top: int = 10) -> list[tuple[float, str]]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import alliance.cli.main, alliance.cli.psychometrics"],
                          capture_output=True, text=True, check=True)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:"):].split("|"))
        if not name.startswith(" ") and "." not in name.strip() or name.strip().startswith(
                ("alliance", "scipy", "pandas", "numpy", "pyarrow", "click")):
            rows.append((int(cumulative) / 1e6, name.rstrip()))
    # Top-level entries of the tree only (two-space indentation at most).
    rows = [(s, n) for s, n in rows if len(n) - len(n.lstrip()) <= 2]
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--src", type=Path, default=Path(__file__).parents[1] / "src",
                        help="the source tree to run (e.g. an earlier version's src/)")
    parser.add_argument("--signals-rows", type=int, default=0)
    parser.add_argument("--signals-runs", type=int, default=3)
    parser.add_argument("--signals-csv", type=Path,
                        help="keep the simulated clinic in this file (reused when present)")
    args = parser.parse_args()
    os.environ["PYTHONPATH"] = str(args.src.resolve())
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown")
    print(f"machine: {cpu}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"{platform.system()} {platform.release()}; Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "items.csv"
        items_file(data)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "alliance --help": [*ALLIANCE, "--help"],
            "alliance psychometrics (1,000 rows)": [*ALLIANCE, "psychometrics", str(data),
                                                    "--items", ",".join(ITEMS)],
        }
        if shutil.which("Rscript"):
            commands["Rscript psych::alpha (1,000 rows)"] = [
                "Rscript", "-e", f"invisible(psych::alpha(read.csv('{data}')))"]
        print(f"\n| command | median s | best s | peak RSS MB |\n|---|---:|---:|---:|")
        for label, command in commands.items():
            median, best, peak = timed(command, args.runs)
            print(f"| {label} | {median:.3f} | {best:.3f} | {peak:.0f} |", flush=True)
        print("\nslowest imports of the psychometrics command (cumulative s):")
        for seconds, name in import_offenders():
            print(f"  {seconds:.3f}  {name.strip()}")

        if args.signals_rows:
            sys.path.insert(0, str(Path(__file__).parent))
            from signals_engine import clinic_with

            sessions = args.signals_csv or Path(folder) / "sessions.csv"
            if not sessions.exists():
                clinic_with(args.signals_rows, 1).to_csv(sessions, index=False)
            reads = [float(subprocess.run([sys.executable, "-c", READ, str(sessions)],
                                          capture_output=True, text=True,
                                          check=True).stdout)
                     for _ in range(args.signals_runs)]
            command = [*ALLIANCE, "signals", str(sessions), "--score", "alliance", "--json"]
            results = [run_child(command) for _ in range(args.signals_runs)]
            times = [t for t, _ in results]
            print(f"\nsignals, {args.signals_rows:,} administrations "
                  f"({sessions.stat().st_size / 2**20:.0f} MB CSV): reading and checking "
                  f"best {min(reads):.2f} s (median {statistics.median(reads):.2f}); whole "
                  f"command best {min(times):.2f} s (median {statistics.median(times):.2f}), "
                  f"peak RSS {max(m for _, m in results):.0f} MB")


if __name__ == "__main__":
    main()

"""Benchmark: the REML mixed-model fit (`alliance.core.mixed.fit_reml`) against lme4::lmer.

Two models, on simulated data of the shape of tests/reference/ (docs/analysis.md):

- therapist: ``y ~ within + between + (1 | therapist) + (1 | therapist:client)`` — clients
  nested in therapists, 10 sessions per client, 10 clients per therapist, the predictor
  split into its within- and between-client parts;
- growth: ``y ~ log(session) + (1 + log(session) | case)`` — cases of 3–12 sessions with a
  random intercept and slope.

For every size (rows) the data are written to a CSV file; our fit is timed in process on
the arrays (the fit only: best and median of --runs after one warm-up), and lme4's
``lmer(..., REML = TRUE)`` (default optimiser) inside R with ``system.time`` around the fit
only (best and median of --runs after one warm-up). The table gives both times, their
ratio (ours ÷ lme4's, medians), the largest absolute difference of the estimates (fixed
effects; variance components: residual, client/case, therapist variances and the
intercept–slope covariance) and the difference of the REML criteria (ours − lme4's; below
zero where lme4's default optimiser stopped short of the optimum).

    .venv/bin/python benchmarks/mixed_vs_lme4.py --runs 5
    .venv/bin/python benchmarks/mixed_vs_lme4.py --runs 5 --src /tmp/before/src

--src runs another source tree (e.g. an earlier version's src/, unpacked with
``git archive COMMIT src | tar -x -C /tmp/before``). Needs Rscript with lme4 and jsonlite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SIZES = (1_000, 3_000, 10_000, 30_000, 100_000)

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
model <- args[1]; runs <- as.integer(args[3])
d <- read.csv(args[2], colClasses = c(therapist = "character", client = "character",
                                        case = "character"))
form <- if (model == "therapist") {
  y ~ within + between + (1 | therapist) + (1 | therapist:client)
} else {
  y ~ log(session) + (1 + log(session) | case)
}
fit_once <- function() lmer(form, data = d, REML = TRUE)
fit <- fit_once()  # warm-up
times <- sapply(seq_len(runs), function(i) system.time(fit <<- fit_once())[["elapsed"]])
vc <- as.data.frame(VarCorr(fit))
out <- list(times = times, fe = unname(fixef(fit)), reml = REMLcrit(fit),
            sigma2 = sigma(fit)^2)
if (model == "therapist") {
  out$client <- vc$vcov[vc$grp == "therapist:client"]
  out$therapist <- vc$vcov[vc$grp == "therapist"]
} else {
  g <- VarCorr(fit)$case
  out$re <- c(g[1, 1], g[2, 2], g[1, 2])
}
cat(toJSON(out, digits = NA, auto_unbox = TRUE))
"""

CHILD = r"""
import json, sys, time
import numpy as np, pandas as pd
from alliance.core.mixed import fit_reml
model, path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = pd.read_csv(path, dtype={"therapist": str, "client": str, "case": str})
n = len(d)
if model == "therapist":
    X = np.column_stack([np.ones(n), d["within"], d["between"]])
    names = ("(Intercept)", "within", "between")
    args = dict(units=(d["therapist"] + ":" + d["client"]).to_numpy(), Z=np.ones(n),
                groups=d["therapist"].to_numpy())
else:
    log_s = np.log(d["session"].to_numpy(float))
    X = np.column_stack([np.ones(n), log_s])
    names = ("(Intercept)", "log(session)")
    args = dict(units=d["case"].to_numpy(), Z=np.column_stack([np.ones(n), log_s]))
y = d["y"].to_numpy(float)
fit = fit_reml(y, X, names, **args)  # warm-up
times = []
for _ in range(runs):
    start = time.perf_counter()
    fit = fit_reml(y, X, names, **args)
    times.append(time.perf_counter() - start)
out = {"times": times, "fe": fit.fe.tolist(), "reml": fit.reml_criterion, "sigma2": fit.scale,
       "converged": fit.converged}
if model == "therapist":
    out["client"], out["therapist"] = float(fit.cov_re[0, 0]), fit.group_variance
else:
    out["re"] = [fit.cov_re[0, 0], fit.cov_re[1, 1], fit.cov_re[0, 1]]
print(json.dumps(out))
"""


def therapist_data(rows: int, seed: int) -> pd.DataFrame:
    """Clients nested in therapists (10 × 10 sessions per therapist), as analyze
    within-between --therapist fits them."""
    rng = np.random.default_rng(seed)
    clients = rows // 10
    client = np.repeat(np.arange(clients), 10)
    therapist = client // 10
    person = rng.normal(5, 0.8, clients)
    predictor = person[client] + rng.normal(0, 0.7, rows)
    mean = pd.Series(predictor).groupby(client).transform("mean").to_numpy()
    within, between = predictor - mean, mean - pd.Series(predictor).groupby(client).mean().mean()
    y = (3 + 0.3 * within + 0.5 * between + rng.normal(0, 0.4, therapist.max() + 1)[therapist]
         + rng.normal(0, 0.8, clients)[client] + rng.normal(0, 1.0, rows))
    return pd.DataFrame({"therapist": [f"T{t}" for t in therapist],
                         "client": [f"C{c}" for c in client], "case": "",
                         "session": np.tile(np.arange(1, 11), clients),
                         "within": within, "between": between, "y": y.round(4)})


def growth_data(rows: int, seed: int) -> pd.DataFrame:
    """Cases of 3–12 sessions with a random intercept and log-session slope (as analyze
    expected fits them)."""
    rng = np.random.default_rng(seed)
    lengths = []
    while sum(lengths) < rows:
        lengths.append(int(rng.integers(3, 13)))
    lengths[-1] -= sum(lengths) - rows
    if lengths[-1] < 2:
        lengths[-2] += lengths.pop()
    cases = len(lengths)
    case = np.repeat(np.arange(cases), lengths)
    session = np.concatenate([np.arange(1, k + 1) for k in lengths])
    b = rng.multivariate_normal([0, 0], [[1.0, -0.2], [-0.2, 0.25]], cases)
    y = 10 + b[case, 0] + (1.5 + b[case, 1]) * np.log(session) + rng.normal(0, 1.2, rows)
    return pd.DataFrame({"therapist": "", "client": "", "case": [f"P{c}" for c in case],
                         "session": session, "within": 0.0, "between": 0.0, "y": y.round(4)})


def estimates(result: dict, model: str) -> dict[str, np.ndarray]:
    variance = [result["sigma2"]] + ([result["client"], result["therapist"]]
                                     if model == "therapist" else list(result["re"]))
    return {"fe": np.asarray(result["fe"]), "vc": np.asarray(variance),
            "reml": np.asarray([result["reml"]])}


def run(command: list[str]) -> dict:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed fits per size (default 5)")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="rows, comma-separated (default 1000,…,100000)")
    parser.add_argument("--models", default="therapist,growth")
    parser.add_argument("--src", type=Path, default=Path(__file__).parents[1] / "src",
                        help="the source tree to run (e.g. an earlier version's src/)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not shutil.which("Rscript"):
        sys.exit("Rscript is not installed (apt-get install r-base-core r-cran-lme4)")
    env_path = str(args.src.resolve())
    os.environ["PYTHONPATH"] = env_path
    r_version = subprocess.run(["Rscript", "-e", "cat(R.version.string, 'lme4',"
                                " format(packageVersion('lme4')))"],
                               capture_output=True, text=True).stdout.strip()
    print(f"{platform.python_version()} / numpy {np.__version__}; {r_version}; "
          f"src {env_path}; load average {os.getloadavg()[0]:.2f} "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| model | rows | ours: median (best) s | lme4: median (best) s | ours ÷ lme4 "
          "| max abs diff: fixed | variances | REML criterion: ours − lme4 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        r_file = Path(tmp) / "fit.R"
        r_file.write_text(R_SCRIPT)
        py_file = Path(tmp) / "fit.py"
        py_file.write_text(CHILD)
        for model in args.models.split(","):
            make = therapist_data if model == "therapist" else growth_data
            for rows in map(int, args.sizes.split(",")):
                csv = Path(tmp) / f"{model}-{rows}.csv"
                make(rows, args.seed).to_csv(csv, index=False)
                ours = run([sys.executable, str(py_file), model, str(csv), str(args.runs)])
                theirs = run(["Rscript", str(r_file), model, str(csv), str(args.runs)])
                a, b = estimates(ours, model), estimates(theirs, model)
                diff = {k: float(np.max(np.abs(a[k] - b[k]))) for k in a}
                diff["reml"] = float(a["reml"][0] - b["reml"][0])
                mine, lme4 = statistics.median(ours["times"]), statistics.median(theirs["times"])
                flag = "" if ours["converged"] else " (not converged)"
                print(f"| {model} | {rows:,} | {mine:.3f} ({min(ours['times']):.3f}) "
                      f"| {lme4:.3f} ({min(theirs['times']):.3f}) | {mine / lme4:.2f}{flag} "
                      f"| {diff['fe']:.1e} | {diff['vc']:.1e} | {diff['reml']:+.1e} |",
                      flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

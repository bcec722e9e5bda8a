"""Accuracy of every rupture rule, and the alert rate of "not on track", on both generators.

For each generator (`standard`: alliance.core.simulator; `drift`:
alliance.core.simulator_drift) and each seed, a clinic of --clients clients with
--sessions scheduled sessions is simulated, and every rupture rule is run on its
``alliance`` column and matched against the planted ruptures
(`alliance.core.evaluation.evaluate_ruptures`, a detection within --within sessions
after the onset). The counts of the seeds are pooled (`pool_scores`). The rci rule
uses the SD of the clinic's session-1 scores and an assumed reliability of .90.

"Not on track": the expected-response model is fitted on the same clinic's
wellbeing (`fit_expected_response`, 80% band) and the detector is run with a
persistence of 1, 2 and 3 rated sessions below the band in a row.

Prints Markdown tables (recorded in docs/signals.md). About a minute:

    python benchmarks/signal_accuracy.py
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from alliance.core.evaluation import (evaluate_not_on_track, evaluate_ruptures, pool_scores,
                                      rule_name)
from alliance.core.expected import fit_expected_response
from alliance.core.simulator import simulate_clinic
from alliance.core.simulator_drift import simulate_drift_clinic

GENERATORS = {"standard": simulate_clinic, "drift": simulate_drift_clinic}
RULES = [rule_name(r, ref) for r in ("sd1", "sd2", "rci") for ref in ("previous", "mean3")]
RULES += ["sd1+confirm", "sd2+confirm"]
RELIABILITY = 0.90


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--within", type=int, default=2)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(f"{args.clients} clients × {args.sessions} sessions, seeds "
          f"{' '.join(map(str, args.seeds))}; a detection matches at onset … onset + "
          f"{args.within}; counts pooled over the seeds (range over seeds in brackets)\n")
    off_track = {}
    for name, generate in GENERATORS.items():
        per_rule: dict[str, list] = {rule: [] for rule in RULES}
        off_track[name] = []
        for seed in args.seeds:
            clinic = generate(args.clients, args.sessions, seed)
            s = clinic.sessions
            intake_sd = float(s.loc[s["session"] == 1, "alliance"].std())
            for score in evaluate_ruptures(s, clinic.ruptures, rules=RULES, within=args.within,
                                           sd=intake_sd, reliability=RELIABILITY):
                per_rule[score.name].append(score)
            model = fit_expected_response(s, "client_id", "session", "wellbeing")
            gain = clinic.truth.set_index("client_id")["wellbeing_gain"]
            off_track[name].append(evaluate_not_on_track(s, model, true_gain=gain))
        print(f"### Generator `{name}`\n")
        print("| rule | precision | recall | median lag | false alerts / 100 rated sessions "
              "| repair agreement |")
        print("|---|---|---|---|---|---|")
        for rule, scores in per_rule.items():
            pooled = pool_scores(scores)
            recall = [x.recall for x in scores]
            false = [x.false_per_100 for x in scores]
            print(f"| {rule} | {pooled.precision:.2f} | {pooled.recall:.2f} "
                  f"({min(recall):.2f}–{max(recall):.2f}) | {pooled.median_lag:g} | "
                  f"{pooled.false_per_100:.2f} ({min(false):.2f}–{max(false):.2f}) | "
                  f"{pooled.repair_agreement:.2f} |")
        print()
    print("### Not on track (80% band), alerts by persistence\n")
    print("| generator | rated sessions below the band in a row | alerts / 100 judged sessions "
          "| clients flagged | lowest-tenth true gain flagged | flagged in lowest quarter |")
    print("|---|---|---|---|---|---|")
    for name, runs in off_track.items():
        for i, first in enumerate(runs[0]):
            rows = [run[i] for run in runs]
            alerts = sum(r.alerts for r in rows)
            judged = sum(r.judged_sessions for r in rows)
            print(f"| {name} | {first.persistence} | {100 * alerts / judged:.1f} | "
                  f"{np.mean([r.flagged_share for r in rows]):.2f} | "
                  f"{np.mean([r.worst_found for r in rows]):.2f} | "
                  f"{np.mean([r.flagged_worst for r in rows]):.2f} |")
    print(f"\n{time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

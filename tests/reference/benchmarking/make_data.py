"""Generate the reference data set for `alliance.core.benchmarking.therapist_effects`.

Run from the repository root:

    .venv/bin/python tests/reference/benchmarking/make_data.py

It writes ``data.csv`` next to this file: one row per case, with the therapist, the
intake wellbeing and the change in wellbeing to the last rating. The R script
``lme4_reference.R`` reads it; the test suite reads the data and the R output, so
neither R nor this script is needed to run the tests.

Known truth (0–10 scale): intake ~ N(4.5, 1.5²);
    change = 1.2 − 0.35 (intake − 4.5) + u_T + ε,  u_T ~ N(0, 0.9²), ε ~ N(0, 1.0²),
with 7 therapists of unequal caseloads (3 to 16 cases). A second file, ``flat.csv``,
has no therapist differences at all (u_T = 0) and a small sample, so that lme4 finds a
singular fit (τ² = 0).
Values are rounded to two decimals so that R and Python read identical numbers.
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261122
CASELOADS = {"T1": 12, "T2": 3, "T3": 16, "T4": 8, "T5": 5, "T6": 11, "T7": 7}


def make(rng, caseloads, therapist_sd):
    rows = []
    for therapist, n in caseloads.items():
        u = rng.normal(0, therapist_sd)
        for i in range(n):
            intake = float(np.clip(rng.normal(4.5, 1.5), 0, 10))
            change = 1.2 - 0.35 * (intake - 4.5) + u + rng.normal(0, 1.0)
            rows.append({"case": f"{therapist}-{i + 1}", "therapist": therapist,
                         "intake": round(intake, 2), "change": round(change, 2)})
    return pd.DataFrame(rows)


if __name__ == "__main__":
    here = Path(__file__).parent
    rng = np.random.default_rng(SEED)
    make(rng, CASELOADS, 0.9).to_csv(here / "data.csv", index=False)
    make(rng, {"A": 4, "B": 4, "C": 4}, 0.0).to_csv(here / "flat.csv", index=False)

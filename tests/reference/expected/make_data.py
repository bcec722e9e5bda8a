"""Generate the reference data set for the expected-treatment-response model.

Run from the repository root:

    .venv/bin/python tests/reference/expected/make_data.py

It writes ``data.csv`` (long format: client_id, session, wellbeing) next to this
file; ``lme4_reference.R`` fits the same model with lme4. The tests read the
stored files only.

Known truth: intake ~ N(4, 1.5²) is the score at session 1; after it
    wellbeing_is = 1.0 + 0.7·intake + (1.2 − 0.1·intake)·log(s) + u0_i + u1_i·log(s) + e_is
with u0 ~ N(0, 0.6²), u1 ~ N(0, 0.25²) independent, e ~ N(0, 0.8²). Each case has
3 to 12 sessions; about 5 % of the later scores are missing. Scores are rounded
to two decimals so that R and Python read identical numbers.
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 2
N_CASES = 80
TRUTH = {"intercept": 1.0, "intake": 0.7, "log_session": 1.2, "intake_log_session": -0.1}
SD_INTERCEPT, SD_SLOPE, SD_RESIDUAL = 0.6, 0.25, 0.8


def make(seed: int = SEED, n_cases: int = N_CASES, sessions: tuple[int, int] = (3, 12),
         missing: float = 0.05) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for case in range(n_cases):
        intake = rng.normal(4, 1.5)
        u0, u1 = rng.normal(0, SD_INTERCEPT), rng.normal(0, SD_SLOPE)
        rows.append((f"P{case + 1:03d}", 1, intake))
        for session in range(2, int(rng.integers(sessions[0], sessions[1] + 1)) + 1):
            log_s = np.log(session)
            score = (TRUTH["intercept"] + TRUTH["intake"] * intake
                     + (TRUTH["log_session"] + TRUTH["intake_log_session"] * intake) * log_s
                     + u0 + u1 * log_s + rng.normal(0, SD_RESIDUAL))
            rows.append((f"P{case + 1:03d}", session,
                         np.nan if rng.random() < missing else score))
    frame = pd.DataFrame(rows, columns=["client_id", "session", "wellbeing"])
    frame["wellbeing"] = frame["wellbeing"].round(2)
    return frame


if __name__ == "__main__":
    out = Path(__file__).with_name("data.csv")
    make().to_csv(out, index=False)
    print(f"wrote {out}")

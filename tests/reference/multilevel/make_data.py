"""Generate the reference data set for the multilevel (within/between) models.

Run from the repository root:

    .venv/bin/python tests/reference/multilevel/make_data.py

It writes ``data.csv`` next to this file (long format: one row per client
session). The R script ``lme4_reference.R`` reads that file; the test suite
reads both the data and the R output, so neither R nor this script is needed
to run the tests.

Known truth (0–10 scales, higher = better):
    alliance_it  = m_i + 0.08 (t − 6) + e_it,            m_i ~ N(6.5 + a_T, 1.0²), e ~ N(0, 0.8²)
    wellbeing_it = 4 + 0.5 (m_i − 6.5) + 0.3 (alliance_it − m_i)
                   + 0.15 (alliance_i,t−1 − m_i) + 0.12 t + u_T + v_i + ε_it
    u_T ~ N(0, 0.6²) per therapist, v_i ~ N(0, 0.8²) per client, ε ~ N(0, 0.7²).
Values are rounded to two decimals so that R and Python read identical numbers;
about 8 % of alliance and 8 % of wellbeing cells are missing, independently.
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240611
N_THERAPISTS = 6
CLIENTS_PER_THERAPIST = 10


def make(seed: int = SEED) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for t_index in range(N_THERAPISTS):
        therapist = f"T{t_index + 1}"
        alliance_shift = rng.normal(0, 0.3)
        therapist_effect = rng.normal(0, 0.6)
        for c_index in range(CLIENTS_PER_THERAPIST):
            client = f"C{t_index * CLIENTS_PER_THERAPIST + c_index + 1:03d}"
            mean_alliance = rng.normal(6.5 + alliance_shift, 1.0)
            client_effect = rng.normal(0, 0.8)
            n_sessions = int(rng.integers(8, 13))
            previous = mean_alliance
            for session in range(1, n_sessions + 1):
                alliance = mean_alliance + 0.08 * (session - 6) + rng.normal(0, 0.8)
                wellbeing = (4 + 0.5 * (mean_alliance - 6.5) + 0.3 * (alliance - mean_alliance)
                             + 0.15 * (previous - mean_alliance) + 0.12 * session
                             + therapist_effect + client_effect + rng.normal(0, 0.7))
                previous = alliance
                rows.append((client, therapist, session, alliance, wellbeing))
    frame = pd.DataFrame(rows, columns=["client_id", "therapist_id", "session",
                                        "alliance", "wellbeing"])
    for column in ("alliance", "wellbeing"):
        values = frame[column].clip(0, 10).round(2)
        frame[column] = values.mask(rng.random(len(frame)) < 0.08)
    return frame


if __name__ == "__main__":
    out = Path(__file__).with_name("data.csv")
    make().to_csv(out, index=False)
    print(f"wrote {out}")

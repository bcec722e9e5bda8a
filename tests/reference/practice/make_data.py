"""Generate the reference data for the therapist practice estimates (alliance.core.practice).

Run from the repository root:

    .venv/bin/python tests/reference/practice/make_data.py

It writes ``sessions.csv`` (one row per rated session) and ``ruptures.csv`` (one row per
rupture) next to this file. ``lme4_reference.R`` reads both; the tests read the data and
the R output, so neither R nor this script is needed to run them.

Known truth (POMP 0–100 scales):
    alliance_it   = 70 + a_T + m_i + g_T · time_it + e_it,  a_T ~ N(0, 5²), m_i ~ N(0, 8²),
                    g_T ~ N(2, 3²) points per year, e ~ N(0, 7²);
    therapist_it  = alliance_it + d_T + k_T (alliance_it − mean_i) + N(0, 6²)-ish noise,
                    d_T ~ N(5, 4²) (therapists rate the alliance higher), k_T ∈ (−0.2, 0.8);
    residual_it   = outcome − expected: u_T + v_i + ε, u_T ~ N(0, 0.5²), v_i ~ N(0, 1²),
                    ε ~ N(0, 1.2²);
    repaired      ~ Bernoulli(0.55 + r_T), r_T ~ U(−0.25, 0.25); sessions to repair 1–3.
Therapist T8 has 3 clients only (fewer than the minimum of 5). Therapist T1's practice
focus starts at time 0.5 (column ``after``). Values are rounded to two decimals.
"""

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261207
CLIENTS = (9, 7, 12, 5, 8, 10, 6, 3)


def make(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    sessions, ruptures = [], []
    number = 0
    for t_index, n_clients in enumerate(CLIENTS):
        therapist = f"T{t_index + 1}"
        a_t, g_t = rng.normal(0, 5), rng.normal(2, 3)
        d_t, k_t = rng.normal(5, 4), rng.uniform(-0.2, 0.8)
        u_t, r_t = rng.normal(0, 0.5), rng.uniform(-0.25, 0.25)
        for _ in range(n_clients):
            number += 1
            client = f"C{number:03d}"
            m_i, v_i = rng.normal(0, 8), rng.normal(0, 1)
            start = rng.uniform(0, 0.7)
            n_sessions = int(rng.integers(4, 13))
            times = start + np.arange(n_sessions) * 7 / 365.25 * rng.uniform(1, 2)
            alliance = 70 + a_t + m_i + g_t * times + rng.normal(0, 7, n_sessions)
            alliance = np.clip(alliance, 0, 100)
            own = (alliance + d_t + k_t * (alliance - alliance.mean())
                   + rng.normal(0, 6, n_sessions))
            own = np.clip(own, 0, 100)
            residual = u_t + v_i + rng.normal(0, 1.2, n_sessions)
            for s in range(n_sessions):
                sessions.append((therapist, client, s + 1, round(times[s], 4),
                                 round(alliance[s], 2),
                                 round(own[s], 2) if rng.random() > 0.1 else np.nan,
                                 round(residual[s], 2) if s > 0 else np.nan,
                                 int(therapist == "T1" and times[s] >= 0.5)))
            for _ in range(int(rng.poisson(1.6))):
                repaired = int(rng.random() < 0.55 + r_t)
                ruptures.append((therapist, client, repaired,
                                 int(rng.integers(1, 4)) if repaired else np.nan))
    return (pd.DataFrame(sessions, columns=["therapist", "client", "session", "time",
                                            "alliance", "therapist_alliance", "residual",
                                            "after"]),
            pd.DataFrame(ruptures, columns=["therapist", "client", "repaired",
                                            "sessions_to_repair"]))


if __name__ == "__main__":
    here = Path(__file__).parent
    sessions, ruptures = make()
    sessions.to_csv(here / "sessions.csv", index=False)
    ruptures.to_csv(here / "ruptures.csv", index=False)
    print(f"wrote {here / 'sessions.csv'} ({len(sessions)} rows) and "
          f"{here / 'ruptures.csv'} ({len(ruptures)} rows)")

"""A second synthetic clinic, built separately from `alliance.core.simulator`.

The rupture rules were tuned while looking at the first simulator, so a rule that is
good only on that simulator's noise would look better than it is. This generator
draws the same long format from a different noise model, chosen to be harder in the
ways real check-ins are:

- session-to-session noise that is autocorrelated (AR(1), φ between .3 and .7 per client),
  so a bad week tends to be followed by another;
- a slow linear drift of each client's true alliance (up or down), so a client's
  scores wander away from their early level;
- within-client SDs that differ between clients (log-normal, about 0.3 to 1.1 points):
  one client's ordinary fluctuation is another's rupture;
- one answer per check-in on a 0–10 scale in half points, with a ceiling: many clients
  answer 10 and cannot rate higher;
- missed sessions and unanswered check-ins anywhere except the two sessions around a
  rupture's onset (so a repair may fall on a session that was not rated).

Ruptures are planted in the true course with a known onset session, and a repair
with a known session, from this generator's own parameters only (see `simulate_drift_clinic`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .errors import InputError
from .simulator import RUPTURE_COLUMNS, SESSION_COLUMNS, SimulatedClinic, start_date

#: Columns of this generator's per-client truth table, in order.
CLIENT_COLUMNS = ("client_id", "therapist_id", "alliance_level", "drift", "within_sd", "ar",
                  "wellbeing_intake", "wellbeing_gain", "n_scheduled", "last_attended_session",
                  "dropout", "n_ruptures", "n_repaired")

_LEVEL_MEAN, _LEVEL_SD = 7.8, 1.4      # true level: high on average, so the ceiling bites
_THERAPIST_SD = 0.4
_DRIFT_SD = 0.05                      # points per session (± 1 point over 20 sessions)
_SD_MEDIAN, _SD_SPREAD = 0.55, 0.35   # within-client SD: log-normal, median 0.55
_AR_RANGE = (0.3, 0.7)
_STEP = 0.5                           # half-point answers
_DEPTH_SDS = (3.0, 5.0)               # a rupture drops 3–5 of the client's own SDs ...
_MIN_DEPTH = 1.5                      # ... and at least 1.5 points on the true course
_LASTING_RANGE = (0.4, 0.8)           # share of the drop an unrepaired rupture keeps
_REPAIR_AFTER = 3                     # a repair is complete 1–3 sessions after the onset
_NO_SHOW, _UNANSWERED = 0.10, 0.08
_DROPOUT = 0.2
_WB_INTAKE, _WB_INTAKE_SD, _WB_GAIN, _WB_GAIN_SD, _WB_TAU = 4.2, 1.4, 1.8, 1.5, 5.0
_WB_SD, _WB_AR, _WB_RUPTURE = 0.8, 0.4, 0.4


def simulate_drift_clinic(n_clients: int, n_sessions: int, seed: int, *,
                          n_therapists: int | None = None,
                          start_date: dt.date | str = dt.date(2024, 1, 8),
                          rupture_share: float = 0.45,
                          repair_share: float = 0.6) -> SimulatedClinic:
    """Simulate a clinic with autocorrelated noise, drift, half-point answers and a ceiling.

    Parameters
    ----------
    n_clients, n_sessions, seed : as `alliance.core.simulator.simulate_clinic`.
    n_therapists : default one per 20 clients.
    start_date : first possible intake date.
    rupture_share : share of clients with room for it (at least 6 attended sessions)
        who get one planted rupture.
    repair_share : share of planted ruptures that are repaired.

    Returns
    -------
    SimulatedClinic
        ``sessions`` in the shared long format (``alliance`` and ``wellbeing`` filled;
        ``bond``, ``goals``, ``tasks`` and ``therapist_alliance`` empty: this clinic asks one
        alliance question), ``ruptures`` (`RUPTURE_COLUMNS`; ``subscale`` is "alliance"
        and the subscale drops are empty) and ``truth`` (this module's `CLIENT_COLUMNS`).

    Notes
    -----
    True alliance of client i at session s: ``A_is = L_i + u_j + b_i (s − 1) + D_is``
    with level ``L_i ~ N(7.8, 1.4²)``, therapist ``u_j ~ N(0, 0.4²)``, drift
    ``b_i ~ N(0, 0.05²)`` per session and ``D_is`` the planted rupture dip (0 outside a
    rupture). The answer is ``clip(round(A_is + e_is, to 0.5), 0, 10)`` with AR(1) noise
    ``e_is = φ_i e_i,s−1 + η``, φ_i ~ U(.3, .7), stationary SD σ_i with
    log σ_i ~ N(log .55, .35²).

    A rupture at onset t (3 ≤ t ≤ L − 3) lowers the true alliance by
    ``d = max(1.5, U(3, 5) σ_i)`` points at t. Repaired (``repair_share``) at t + r,
    r ∈ {1, 2, 3}: the dip stays at d until t + r − 1 and is gone from t + r on (the true
    course is back where it would have been). Unrepaired: from t + 1 the dip is a lasting
    40–80% of d until the end of therapy. ``depth`` in the truth is the fall of the true
    course, clipped to the scale, from t − 1 to t; a rupture showing less than 1.5 points
    there is not planted. Sessions t − 1 and t are attended and answered; the others are
    missed with probability .10 and unanswered with .08. 20% of clients drop out after a
    uniformly drawn session.

    Wellbeing (higher = better): ``W0_i + G_i (1 − exp(−(s − 1)/5)) + 0.4 D_is + AR(1)
    noise`` (SD 0.8, φ = .4), in half points on 0–10.
    """
    params = dict(n_clients=n_clients, n_sessions=n_sessions, seed=seed,
                  n_therapists=n_therapists, start_date=start_date,
                  rupture_share=rupture_share, repair_share=repair_share, generator="drift")
    N, K, T, start = _check(params)
    params["n_therapists"], params["start_date"] = T, start.isoformat()
    rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))

    therapist = np.concatenate([np.arange(T), rng.integers(0, T, N - T)])
    therapist = rng.permutation(therapist)
    level = rng.normal(_LEVEL_MEAN, _LEVEL_SD, N) + rng.normal(0.0, _THERAPIST_SD, T)[therapist]
    drift = rng.normal(0.0, _DRIFT_SD, N)
    sigma = _SD_MEDIAN * np.exp(rng.normal(0.0, _SD_SPREAD, N))
    phi = rng.uniform(*_AR_RANGE, N)
    s = np.arange(K, dtype=float)
    course = level[:, None] + drift[:, None] * s[None, :]

    # Attendance: who drops out after which session, then missed sessions and check-ins.
    dropout = (rng.random(N) < _DROPOUT) & (K >= 3)
    last = np.where(dropout, rng.integers(1, max(K, 2), N), K)           # last attended (1-based)
    col = np.arange(1, K + 1)[None, :]
    scheduled = col <= np.minimum(last + np.where(dropout, 1, 0), K)[:, None]
    attended = scheduled & (col <= last[:, None]) & ((rng.random((N, K)) >= _NO_SHOW) | (col == 1))
    answered = attended & ((rng.random((N, K)) >= _UNANSWERED) | (col == 1))

    # Ruptures in the true course.
    eligible = np.flatnonzero(last >= 6)
    n_rupture = int(round(rupture_share * len(eligible)))
    who = np.sort(rng.choice(eligible, size=n_rupture, replace=False))
    onset = 3 + np.floor(rng.random(n_rupture) * (last[who] - 3 - 3 + 1)).astype(np.int64)
    depth = np.maximum(_MIN_DEPTH, rng.uniform(*_DEPTH_SDS, n_rupture) * sigma[who])
    repaired = rng.random(n_rupture) < repair_share
    after = rng.integers(1, _REPAIR_AFTER + 1, n_rupture)
    lasting = rng.uniform(*_LASTING_RANGE, n_rupture)
    since = col[0][None, :] - onset[:, None]                               # (n, K)
    shape = np.where(since < 0, 0.0,
                     np.where(repaired[:, None], (since < after[:, None]).astype(float),
                              np.where(since == 0, 1.0, lasting[:, None])))
    true_before = np.clip(course[who, onset - 2], 0.0, 10.0)
    true_at = np.clip(course[who, onset - 1] - depth, 0.0, 10.0)
    shown = true_before - true_at
    keep = shown >= _MIN_DEPTH - 1e-9
    dip = np.zeros((N, K))
    dip[who[keep]] = -depth[keep, None] * shape[keep]
    for offset in (2, 1):                          # the onset and the session before are rated
        attended[who[keep], onset[keep] - offset] = True
        answered[who[keep], onset[keep] - offset] = True

    noise = _ar1(rng, phi, sigma, N, K)
    alliance = np.clip(_half(course + dip + noise), 0.0, 10.0)

    intake = rng.normal(_WB_INTAKE, _WB_INTAKE_SD, N)
    gain = rng.normal(_WB_GAIN, _WB_GAIN_SD, N)
    wb_noise = _ar1(rng, np.full(N, _WB_AR), np.full(N, _WB_SD), N, K)
    wellbeing = np.clip(_half(intake[:, None] + gain[:, None] * (1 - np.exp(-s / _WB_TAU))
                              + _WB_RUPTURE * dip + wb_noise), 0.0, 10.0)

    dates = _dates(rng, N, K, start)
    sessions = _sessions(N, K, therapist, scheduled, attended, answered, alliance, wellbeing,
                         dates)
    ruptures = _ruptures(who[keep], therapist, onset[keep], true_before[keep], true_at[keep],
                         repaired[keep], after[keep])
    n_ruptures = np.bincount(who[keep], minlength=N)
    n_repaired = np.bincount(who[keep], weights=repaired[keep], minlength=N).astype(np.int64)
    truth = pd.DataFrame({
        "client_id": _ids("C", N), "therapist_id": _ids("T", T)[therapist],
        "alliance_level": np.round(level, 4), "drift": np.round(drift, 4),
        "within_sd": np.round(sigma, 4), "ar": np.round(phi, 4),
        "wellbeing_intake": np.round(intake, 4), "wellbeing_gain": np.round(gain, 4),
        "n_scheduled": scheduled.sum(1).astype(np.int64),
        "last_attended_session": last.astype(np.int64), "dropout": dropout,
        "n_ruptures": n_ruptures.astype(np.int64), "n_repaired": n_repaired,
    })[list(CLIENT_COLUMNS)]
    return SimulatedClinic(sessions=sessions, ruptures=ruptures, truth=truth, parameters=params)


def _check(p: dict) -> tuple[int, int, int, dt.date]:
    for name in ("n_clients", "n_sessions", "seed"):
        value = p[name]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (
                0 if name == "seed" else 1):
            raise InputError(f"{name} must be a whole number ≥ {0 if name == 'seed' else 1} "
                             f"(got {value!r})")
    N, K = int(p["n_clients"]), int(p["n_sessions"])
    if N * K > 20_000_000:
        raise InputError(f"{N} clients × {K} sessions is more than 20,000,000 sessions; "
                         "simulate several smaller clinics with different seeds")
    T = p["n_therapists"] if p["n_therapists"] is not None else max(1, -(-N // 20))
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or not 1 <= T <= N:
        raise InputError(f"n_therapists must be between 1 and the number of clients ({N}), "
                         f"got {T!r}")
    for name in ("rupture_share", "repair_share"):
        if not (isinstance(p[name], (int, float)) and 0.0 <= p[name] <= 1.0):
            raise InputError(f"{name} must be between 0 and 1 (got {p[name]!r})")
    return N, K, int(T), start_date(p["start_date"])


def _ar1(rng: np.random.Generator, phi: np.ndarray, sd: np.ndarray, N: int, K: int) -> np.ndarray:
    """AR(1) noise per client with stationary SD `sd` and coefficient `phi` (one loop over K)."""
    out = np.empty((N, K))
    out[:, 0] = rng.standard_normal(N) * sd
    scale = sd * np.sqrt(1.0 - phi ** 2)
    for k in range(1, K):
        out[:, k] = phi * out[:, k - 1] + rng.standard_normal(N) * scale
    return out


def _half(x: np.ndarray) -> np.ndarray:
    return np.round(x / _STEP) * _STEP


def _dates(rng: np.random.Generator, N: int, K: int, start: dt.date) -> np.ndarray:
    first = rng.integers(0, 365, N)
    gaps = np.where(rng.random((N, max(K - 1, 0))) < 0.15, 14, 7)
    days = np.concatenate([first[:, None], first[:, None] + np.cumsum(gaps, axis=1)], axis=1)
    return np.datetime64(start, "D") + days


def _ids(prefix: str, n: int) -> np.ndarray:
    width = max(3, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _sessions(N, K, therapist, scheduled, attended, answered, alliance, wellbeing, dates):
    rows, cols = np.nonzero(scheduled)
    rated = answered[rows, cols]
    empty = np.full(len(rows), np.nan)
    frame = pd.DataFrame({
        "client_id": _ids("C", N)[rows],
        "therapist_id": _ids("T", int(therapist.max()) + 1)[therapist[rows]],
        "session": (cols + 1).astype(np.int64),
        "date": dates[rows, cols].astype("datetime64[s]"),
        "attended": attended[rows, cols].astype(np.int64),
        "alliance": np.where(rated, alliance[rows, cols], np.nan),
        "bond": empty, "goals": empty, "tasks": empty, "therapist_alliance": empty,
        "wellbeing": np.where(rated, wellbeing[rows, cols], np.nan),
    })
    return frame[list(SESSION_COLUMNS)]


def _ruptures(clients, therapist, onset, before, at, repaired, after) -> pd.DataFrame:
    n_therapists = int(therapist.max()) + 1 if len(therapist) else 1
    n_clients = len(therapist)
    frame = pd.DataFrame({
        "client_id": _ids("C", n_clients)[clients].astype(str),
        "therapist_id": _ids("T", n_therapists)[therapist[clients]].astype(str),
        "session": onset.astype(np.int64),
        "subscale": "alliance",
        "reference": np.round(before, 2),
        "score": np.round(at, 2),
        "depth": np.round(before - at, 2),
        "bond_drop": np.nan, "goals_drop": np.nan, "tasks_drop": np.nan,
        "repaired": repaired.astype(bool),
        "repaired_session": pd.array(np.where(repaired, onset + after, 0), dtype="Int64"),
    })
    frame.loc[~frame["repaired"], "repaired_session"] = pd.NA
    return frame[list(RUPTURE_COLUMNS)].reset_index(drop=True)

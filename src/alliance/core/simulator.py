"""Synthetic clinics with known ground truth.

`simulate_clinic` writes the long format every other part of Alliance reads
(one row per scheduled client session) together with the truth behind it: the
ruptures that were planted, whether and when they were repaired, and each
client's true alliance level, growth, therapist effect and dropout. Detectors
are tested against this truth, the demo shows it, and the benchmarks time the
engine on it.

Everything is drawn with numpy over whole (clients × sessions) arrays; nothing
loops over clients or sessions, so a million administrations take a couple of
seconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, signal

from .errors import InputError
from .tables import write_csv

#: Columns of the sessions table, in order (the shared long format).
SESSION_COLUMNS = ("client_id", "therapist_id", "session", "date", "attended", "alliance",
                   "bond", "goals", "tasks", "therapist_alliance", "wellbeing")

#: Columns of the planted-rupture table, in order.
RUPTURE_COLUMNS = ("client_id", "therapist_id", "session", "subscale", "reference", "score",
                   "depth", "bond_drop", "goals_drop", "tasks_drop", "repaired",
                   "repaired_session")

#: Columns of the per-client truth table, in order.
CLIENT_COLUMNS = ("client_id", "therapist_id", "therapist_effect", "alliance_level",
                  "alliance_growth", "therapist_bias", "large_discrepancy", "wellbeing_intake",
                  "wellbeing_gain", "n_scheduled", "last_attended_session", "dropout",
                  "dropout_session", "n_ruptures", "n_repaired")

SUBSCALES = ("bond", "goals", "tasks")

#: Share of all clients with a planted rupture (Stevens et al. 2007: 50%;
#: McLaughlin et al. 2014: 46%).
RUPTURE_SHARE = 0.45

#: Premature termination (Swift & Greenberg 2012, weighted mean 19.7%).
DROPOUT_SHARE = 0.20

#: Gain in wellbeing points per SD of a client's true alliance, chosen so that the
#: correlation of mean alliance with wellbeing change is r ≈ .28 (Flückiger et al.
#: 2018: r = .278); see `simulate_clinic`, Notes.
ALLIANCE_EFFECT = 0.455

#: A planted repair is complete 1 to REPAIR_WINDOW sessions after the rupture (a choice
#: of the generator; the sessions from t − 1 to t + REPAIR_WINDOW are all rated).
REPAIR_WINDOW = 3

# Fixed structural constants of the model (documented in docs/simulator.md).
_SCALE_MAX = 10.0
_ALLIANCE_MEAN = 6.8          # population mean of the true total at intake
_THERAPIST_SD = 0.45          # therapist random effect on the client's alliance
_CLIENT_SD = 1.2              # client random effect within therapist
_SUBSCALE_SD = 0.5            # client-specific offsets of bond, goals and tasks
_GROWTH_MEAN = 0.8            # alliance gained over the early sessions (gamma, shape 2)
_GROWTH_TAU = 3.0             # sessions; growth is 1 - exp(-(s - 1) / tau)
_OCCASION_SD = 0.45           # session-to-session noise shared by the subscales
_OCCASION_AR = 0.3            # its lag-1 autocorrelation
_ITEM_SD = 0.35               # noise of each subscale on its own
_DEPTH_RANGE = (1.6, 3.2)     # planted drop of the total, in points (≥ 2 within-client SDs)
_MIN_DEPTH = 1.4              # a planted drop smaller than this after clipping is not planted
_MAIN_SUBSCALE_P = (0.40, 0.25, 0.35)
_SPILL_RANGE = (0.0, 0.35)    # share of the main drop felt by the other two subscales
_LASTING_RANGE = (0.3, 0.7)   # share of the drop that persists when a rupture is not repaired
_TH_BIAS_MEAN = -0.8          # clients rate the alliance a little higher than therapists ...
_TH_RATER_SD = 0.5            # ... some therapists much more than others ...
_TH_CLIENT_SD = 0.5           # ... and for some clients more than for others
_TH_LARGE_SHARE = 0.15        # ... but some clients the therapist sees much more positively
_TH_LARGE_RANGE = (2.0, 3.5)
_TH_TRACKING = 0.25           # how much of the client's own level the therapist perceives
_TH_RUPTURE_SEEN = 0.4        # share of a rupture dip that shows in the therapist's rating
_TH_NOISE_SD = 0.4
_WB_INTAKE_MEAN = 4.0
_WB_INTAKE_SD = 1.3
_WB_GAIN_MEAN = 2.0
_WB_GAIN_SD = 1.5
_WB_TAU = 6.0                 # sessions; improvement is 1 - exp(-(s - 1) / tau)
_WB_NOISE_SD = 0.7
_WB_LAG_EFFECT = 0.2          # within-client: last session's alliance deviation → wellbeing
_WB_REPAIRED = 0.3            # extra gain after a repaired rupture (Eubanks et al. 2018)
_WB_UNREPAIRED = -0.5         # lost gain after an unrepaired rupture
_DROPOUT_ALLIANCE_SLOPE = -0.5  # logit of dropping out per SD of true alliance
_REPAIR_SHARE_DROPOUT = 0.5   # dropouts repair ruptures half as often
_INTAKE_SPAN_DAYS = 365
_MAX_ADMINISTRATIONS = 20_000_000


@dataclass(frozen=True)
class SimulatedClinic:
    """A synthetic clinic and the truth it was drawn from.

    Attributes
    ----------
    sessions : DataFrame in the shared long format, one row per scheduled client
        session (`SESSION_COLUMNS`).
    ruptures : DataFrame, one row per planted rupture (`RUPTURE_COLUMNS`), decided by
        the generator, not read off the data.
    truth : DataFrame, one row per client (`CLIENT_COLUMNS`).
    parameters : the arguments the clinic was simulated with.
    """

    sessions: pd.DataFrame
    ruptures: pd.DataFrame
    truth: pd.DataFrame
    parameters: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The summary of `summarize_clinic`, JSON-ready."""
        return summarize_clinic(self).to_dict()


@dataclass(frozen=True)
class ClinicSummary:
    """Headline figures of a simulated clinic (what `alliance simulate` prints)."""

    rows: int
    clients: int
    therapists: int
    attended_share: float
    unanswered_share: float
    dropout_share: float
    rupture_share: float
    ruptures: int
    repaired_share: float
    alliance_outcome_r: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def simulate_clinic(n_clients: int, n_sessions: int, seed: int, *,
                    n_therapists: int | None = None,
                    start_date: dt.date | str = dt.date(2024, 1, 8),
                    noise: float = 1.0,
                    resolution: float = 0.5,
                    rupture_share: float = RUPTURE_SHARE,
                    second_rupture_share: float = 0.25,
                    repair_share: float = 0.6,
                    dropout_share: float = DROPOUT_SHARE,
                    no_show_rate: float = 0.07,
                    unanswered_rate: float = 0.05,
                    therapist_missing_rate: float = 0.03,
                    alliance_effect: float = ALLIANCE_EFFECT) -> SimulatedClinic:
    """Simulate a clinic: clients nested in therapists, seen for up to K sessions.

    Parameters
    ----------
    n_clients : number of clients (≥ 1).
    n_sessions : number of scheduled sessions K per client who does not drop out (≥ 1).
    seed : seed of the random generator; the same arguments give identical tables.
    n_therapists : number of therapists (default: one per 20 clients, at least one).
        Every therapist sees at least one client.
    start_date : date of the first possible intake; intakes spread over a year.
    noise : multiplier of every session-to-session noise term (client and therapist
        alliance, wellbeing). 0 gives noise-free trajectories in which the planted
        ruptures are the only drops of the client's alliance (exact recovery).
    resolution : step of the subscale scores, between 0.01 and 1 (0.5: each subscale is
        the mean of two 0–10 sliders with whole-number steps, as in the bundled
        check-in). Totals (client and therapist) are means of three subscales, stored
        to 2 decimals; wellbeing, the mean of four sliders, has steps of resolution / 2.
    rupture_share : share of all clients with at least one planted rupture.
    second_rupture_share : share of those with room for it who get a second rupture.
    repair_share : share of ruptures repaired (halved for clients who drop out).
    dropout_share : expected share of clients who drop out.
    no_show_rate : chance that a scheduled session is cancelled or missed.
    unanswered_rate : chance that an attended session's client check-in is unanswered.
    therapist_missing_rate : chance that the therapist's form is missing.
    alliance_effect : wellbeing gain (points) per SD of the client's true alliance.

    Returns
    -------
    SimulatedClinic
        ``sessions``, ``ruptures`` and ``truth`` tables and the ``parameters`` used.

    Raises
    ------
    InputError
        For a non-positive number of clients or sessions, shares outside 0–1, a bad
        resolution or date, or a clinic too large to hold in memory.

    Notes
    -----
    True alliance total of client i (therapist j) at session s:
    ``A_is = mu + u_j + e_i + g_i (1 - exp(-(s - 1) / 3))`` with ``u_j ~ N(0, 0.45)``,
    ``e_i ~ N(0, 1.2)``, growth ``g_i ~ Gamma(2, 0.4)``. Subscale k adds a client offset
    ``d_ik ~ N(0, 0.5)``, a shared AR(1) occasion noise (SD 0.45, φ = 0.3) and its own noise
    (SD 0.35), is clipped to 0–10 and rounded to ``resolution``; the total is the mean of
    the three subscales (rounded to 2 decimals).

    A rupture at session t (3 ≤ t, t + 3 ≤ last attended session) is a dip in the true
    (noise-free) subscale course, mostly in one subscale, of 1.6–3.2 points on the total
    (at least about twice the within-client SD). A repaired rupture shrinks linearly and
    is gone at session t + r (r = 1, 2 or 3), where the true course is back on its own
    trajectory; an unrepaired one keeps 30–70% of the drop for the rest of therapy. The
    noise and the scale's steps are added afterwards, so the truth (onset, repaired,
    ``repaired_session``, and ``reference``, ``score`` and ``depth`` of the true total) comes
    from the generator's own draws and the data show it only up to noise. Sessions
    t − 1 … t + 3 are attended and answered.

    Wellbeing ``W_is = W0_i + G_i (1 - exp(-(s - 1) / 6)) + 0.2 dev_i,s-1 + noise``, with
    ``G_i = 2.0 + alliance_effect * z_i + N(0, 1.5)`` (z_i the standardised true alliance),
    +0.3 after a repaired and −0.5 after an unrepaired rupture. Calibration: with the
    defaults and K = 20, the correlation across clients between mean observed alliance
    and observed change (last − first wellbeing) is r = .278 (3 × 50,000 clients;
    Flückiger et al. 2018: .278); the tests check |r − .278| < .02 on 20,000 clients and
    < .05 on 2,000. Shorter treatments leave less time to improve: K = 12 gives r ≈ .26,
    K = 8 r ≈ .23.

    Exactly ``round(rupture_share * n_clients)`` clients are chosen for a rupture among
    those who attend at least 6 sessions (fewer when a drop would not fit above 0).

    Dropouts attend sessions 1 … L, then miss one to three scheduled sessions (rows with
    ``attended = 0``); no rows follow. Lower alliance makes dropping out more likely.

    References
    ----------
    Flückiger, C., Del Re, A. C., Wampold, B. E., & Horvath, A. O. (2018). The alliance in
    adult psychotherapy: A meta-analytic synthesis. Psychotherapy, 55(4), 316–340.
    Stevens, C. L., Muran, J. C., Safran, J. D., Gorman, B. S., & Winston, A. (2007).
    Levels and patterns of the therapeutic alliance in brief psychotherapy. American
    Journal of Psychotherapy, 61(2), 109–129.
    McLaughlin, A. A., Keller, S. M., Feeny, N. C., Youngstrom, E. A., & Zoellner, L. A.
    (2014). Patterns of therapeutic alliance: Rupture–repair episodes in prolonged
    exposure for PTSD. Journal of Consulting and Clinical Psychology, 82(1), 112–121.
    Swift, J. K., & Greenberg, R. P. (2012). Premature discontinuation in adult
    psychotherapy: A meta-analysis. Journal of Consulting and Clinical Psychology,
    80(4), 547–559.
    Eubanks, C. F., Muran, J. C., & Safran, J. D. (2018). Alliance rupture repair: A
    meta-analysis. Psychotherapy, 55(4), 508–519.
    """
    parameters = dict(
        n_clients=n_clients, n_sessions=n_sessions, seed=seed, n_therapists=n_therapists,
        start_date=start_date, noise=noise, resolution=resolution, rupture_share=rupture_share,
        second_rupture_share=second_rupture_share, repair_share=repair_share,
        dropout_share=dropout_share, no_show_rate=no_show_rate, unanswered_rate=unanswered_rate,
        therapist_missing_rate=therapist_missing_rate, alliance_effect=alliance_effect)
    n_therapists, start = _validate(parameters)
    parameters["n_therapists"] = n_therapists
    parameters["start_date"] = start.isoformat()

    # One independent stream per part of the model, so that turning noise off or
    # changing a rate leaves the rest of the clinic as it was.
    streams = np.random.SeedSequence(seed).spawn(6)
    rng_people, rng_course, rng_rupture, rng_noise, rng_missing, rng_dates = (
        np.random.default_rng(s) for s in streams)
    N, K = n_clients, n_sessions
    step = float(resolution)

    people = _draw_people(rng_people, N, n_therapists, alliance_effect)
    course = _draw_course(rng_course, people["z"], K, dropout_share)
    plan = _draw_ruptures(rng_rupture, course["last"], rupture_share, second_rupture_share,
                          repair_share, course["dropout"], K)
    missing = _draw_missing(rng_missing, N, K, course, plan, no_show_rate, unanswered_rate,
                            therapist_missing_rate)
    dates = _draw_dates(rng_dates, N, K, start)

    # --- client alliance ---------------------------------------------------
    s = np.arange(K, dtype=float)
    latent = (people["level"][:, None]
              + people["growth"][:, None] * (1.0 - np.exp(-s / _GROWTH_TAU)))   # (N, K)
    occasion = rng_noise.standard_normal((N, K))
    innovations = occasion * np.sqrt(1.0 - _OCCASION_AR ** 2)
    innovations[:, 0] = occasion[:, 0]
    occasion = signal.lfilter([1.0], [1.0, -_OCCASION_AR], innovations, axis=1)
    del innovations
    # Built in place: at a million sessions every temporary of this size is 24 MB.
    sub = rng_noise.standard_normal((3, N, K))
    sub *= _ITEM_SD
    sub += _OCCASION_SD * occasion[None]
    sub *= noise
    # The ruptures live in the true (noise-free) alliance: a dip planted on the client's own
    # course, defined by the generator's parameters alone. Noise and the scale's steps then
    # act on the dipped course as on any other session, so what the data show is whatever
    # the noise makes of it, and a detector is judged against this truth, not against itself.
    base = latent[None] + people["offsets"].T[:, :, None]            # (3, N, K)
    dip, ruptures = _plant_ruptures(base, plan)
    sub += base
    sub += dip
    del occasion, base
    sub = _grid(np.clip(sub, 0.0, _SCALE_MAX, out=sub), step, out=sub)
    total = np.round(sub.mean(axis=0), 2)
    rupture_dev = dip.mean(axis=0)           # the dips the ruptures put in the true total
    del dip

    # --- therapist's parallel rating ---------------------------------------
    th_noise = rng_noise.standard_normal((N, K))
    therapist = (_ALLIANCE_MEAN + _TH_TRACKING * (people["level"] + people["offsets"].mean(1)
                                                  - _ALLIANCE_MEAN)
                 + people["therapist_bias"])[:, None] + (latent - people["level"][:, None])
    therapist = therapist + _TH_RUPTURE_SEEN * rupture_dev + noise * _TH_NOISE_SD * th_noise
    # The therapist's total is the mean of three subscales on the same sliders.
    therapist = np.round(_grid(np.clip(therapist, 0.0, _SCALE_MAX), step / 3.0), 2)
    del th_noise

    # --- wellbeing ---------------------------------------------------------
    gain = people["gain"] + _rupture_gain(ruptures, N)
    deviation = np.where(missing["answered"], total - (latent + people["offsets"].mean(1)[:, None]),
                         0.0)
    lagged = np.zeros_like(deviation)
    lagged[:, 1:] = deviation[:, :-1]
    wb_noise = rng_noise.standard_normal((N, K))
    wellbeing = (people["wellbeing_intake"][:, None]
                 + gain[:, None] * (1.0 - np.exp(-s / _WB_TAU))
                 + _WB_LAG_EFFECT * lagged + noise * _WB_NOISE_SD * wb_noise)
    wellbeing = _grid(np.clip(wellbeing, 0.0, _SCALE_MAX), step / 2.0)   # four sliders
    del wb_noise, lagged, deviation

    sessions = _sessions_frame(people, course, missing, dates, sub, total, therapist, wellbeing)
    rupture_frame = _ruptures_frame(people, ruptures)
    truth = _truth_frame(people, course, ruptures, gain)
    return SimulatedClinic(sessions=sessions, ruptures=rupture_frame, truth=truth,
                           parameters=parameters)


def alliance_outcome_correlation(sessions: pd.DataFrame, *, alliance: str = "alliance",
                                 outcome: str = "wellbeing", client: str = "client_id",
                                 session: str = "session") -> float:
    """Correlation across clients of mean alliance with outcome change.

    Parameters
    ----------
    sessions : long-format table (one row per client session).
    alliance, outcome, client, session : column names.

    Returns
    -------
    float
        Pearson r between each client's mean rated alliance and the change of the
        outcome from its first to its last recorded value, over clients with at least
        two outcome values and one alliance score; NaN with fewer than three such clients.

    Notes
    -----
    This is the between-client alliance–outcome association that meta-analyses pool:
    r = .278 (95% CI .256–.299) over 295 studies (Flückiger et al. 2018).

    References
    ----------
    Flückiger, C., Del Re, A. C., Wampold, B. E., & Horvath, A. O. (2018). The alliance in
    adult psychotherapy: A meta-analytic synthesis. Psychotherapy, 55(4), 316–340.
    """
    frame = sessions[[client, session, alliance, outcome]].sort_values([client, session],
                                                                      kind="stable")
    mean_alliance = frame.groupby(client, sort=False)[alliance].mean()
    rated = frame[frame[outcome].notna()]
    by_client = rated.groupby(client, sort=False)[outcome]
    change = (by_client.last() - by_client.first())[by_client.size() >= 2]
    pair = pd.concat([mean_alliance.rename("a"), change.rename("c")], axis=1, join="inner").dropna()
    if len(pair) < 3 or pair["a"].std() == 0 or pair["c"].std() == 0:
        return float("nan")
    return float(np.corrcoef(pair["a"], pair["c"])[0, 1])


def summarize_clinic(clinic: SimulatedClinic) -> ClinicSummary:
    """Headline figures of a simulated clinic: size, attendance, ruptures, alliance–outcome r."""
    sessions, truth, ruptures = clinic.sessions, clinic.truth, clinic.ruptures
    attended = sessions["attended"] == 1
    n_attended = int(attended.sum())
    return ClinicSummary(
        rows=len(sessions),
        clients=len(truth),
        therapists=int(truth["therapist_id"].nunique()),
        attended_share=n_attended / len(sessions),
        unanswered_share=(float((attended & sessions["alliance"].isna()).sum() / n_attended)
                          if n_attended else float("nan")),
        dropout_share=float(truth["dropout"].mean()),
        rupture_share=float((truth["n_ruptures"] > 0).mean()),
        ruptures=len(ruptures),
        repaired_share=float(ruptures["repaired"].mean()) if len(ruptures) else float("nan"),
        alliance_outcome_r=alliance_outcome_correlation(sessions),
    )


# --- validation ------------------------------------------------------------------

def _validate(p: dict[str, Any]) -> tuple[int, dt.date]:
    for name in ("n_clients", "n_sessions", "seed"):
        value = p[name]
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise InputError(f"{name} must be a whole number (got {value!r})")
    if p["n_clients"] < 1:
        raise InputError(f"n_clients must be at least 1 (got {p['n_clients']})")
    if p["n_sessions"] < 1:
        raise InputError(f"n_sessions must be at least 1 (got {p['n_sessions']})")
    if p["seed"] < 0:
        raise InputError(f"seed must be zero or positive (got {p['seed']})")
    if p["n_clients"] * p["n_sessions"] > _MAX_ADMINISTRATIONS:
        raise InputError(f"{p['n_clients']} clients × {p['n_sessions']} sessions is more than "
                         f"{_MAX_ADMINISTRATIONS:,} sessions; simulate several smaller clinics "
                         "with different seeds")
    n_therapists = p["n_therapists"]
    if n_therapists is None:
        n_therapists = max(1, -(-p["n_clients"] // 20))
    if isinstance(n_therapists, bool) or not isinstance(n_therapists, (int, np.integer)):
        raise InputError(f"n_therapists must be a whole number (got {n_therapists!r})")
    if not 1 <= n_therapists <= p["n_clients"]:
        raise InputError(f"n_therapists must be between 1 and the number of clients "
                         f"({p['n_clients']}), got {n_therapists}")
    for name in ("rupture_share", "second_rupture_share", "repair_share", "dropout_share",
                 "no_show_rate", "unanswered_rate", "therapist_missing_rate"):
        value = p[name]
        if not (isinstance(value, (int, float, np.number)) and 0.0 <= value <= 1.0):
            raise InputError(f"{name} must be between 0 and 1 (got {value!r})")
    if p["dropout_share"] >= 1.0:
        raise InputError("dropout_share must be below 1 (got 1)")
    if not (isinstance(p["noise"], (int, float, np.number)) and 0.0 <= p["noise"] <= 10.0):
        raise InputError(f"noise must be between 0 and 10 (got {p['noise']!r})")
    resolution = p["resolution"]
    if not (isinstance(resolution, (int, float, np.number)) and 0.01 <= resolution <= 1.0
            and abs(round(1.0 / resolution) * resolution - 1.0) < 1e-9):
        raise InputError(f"resolution must be a step between 0.01 and 1 that divides 1 "
                         f"(such as 0.5, 0.25 or 0.1), got {resolution!r}")
    if not isinstance(p["alliance_effect"], (int, float, np.number)):
        raise InputError(f"alliance_effect must be a number (got {p['alliance_effect']!r})")
    return int(n_therapists), start_date(p["start_date"])


def start_date(value) -> dt.date:
    """The first session's date from a date, a datetime or "YYYY-MM-DD" (both generators)."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise InputError(f"start_date must be a date written YYYY-MM-DD (got {value!r})") \
                from None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise InputError(f"start_date must be a date (got {value!r})")
    return value


# --- the parts of the model ---------------------------------------------------------

def _grid(values: np.ndarray, step: float, out: np.ndarray | None = None) -> np.ndarray:
    """Round to the scale's step (and to 6 decimals, so that 7.5 is stored as 7.5)."""
    out = np.divide(values, step, out=out)
    np.round(out, out=out)
    out *= step
    return np.round(out, 6, out=out)


def _draw_people(rng: np.random.Generator, N: int, T: int, alliance_effect: float) -> dict:
    # Caseloads differ: gamma weights, but every therapist has at least one client.
    weights = rng.gamma(4.0, size=T)
    therapist = np.empty(N, dtype=np.int64)
    therapist[:T] = np.arange(T)
    therapist[T:] = rng.choice(T, size=N - T, p=weights / weights.sum())
    therapist = rng.permutation(therapist)

    therapist_effect = rng.normal(0.0, _THERAPIST_SD, T)
    client_effect = rng.normal(0.0, _CLIENT_SD, N)
    level = _ALLIANCE_MEAN + therapist_effect[therapist] + client_effect
    growth = rng.gamma(2.0, _GROWTH_MEAN / 2.0, N)
    offsets = rng.normal(0.0, _SUBSCALE_SD, (N, 3))

    # z: the client's true alliance (level after the early growth), standardised with
    # the population moments, so that it does not depend on who else is simulated.
    true_alliance = level + offsets.mean(1) + growth
    sd = np.sqrt(_THERAPIST_SD ** 2 + _CLIENT_SD ** 2 + _SUBSCALE_SD ** 2 / 3
                 + 2.0 * (_GROWTH_MEAN / 2.0) ** 2)
    z = (true_alliance - (_ALLIANCE_MEAN + _GROWTH_MEAN)) / sd

    rater = rng.normal(0.0, _TH_RATER_SD, T)
    large = rng.random(N) < _TH_LARGE_SHARE
    therapist_bias = (_TH_BIAS_MEAN + rater[therapist] + rng.normal(0.0, _TH_CLIENT_SD, N)
                      + np.where(large, rng.uniform(*_TH_LARGE_RANGE, N), 0.0))

    wellbeing_intake = rng.normal(_WB_INTAKE_MEAN, _WB_INTAKE_SD, N)
    gain = _WB_GAIN_MEAN + alliance_effect * z + rng.normal(0.0, _WB_GAIN_SD, N)
    return dict(therapist=therapist, therapist_effect=therapist_effect[therapist], level=level,
                growth=growth, offsets=offsets, z=z, therapist_bias=therapist_bias,
                large=large, wellbeing_intake=wellbeing_intake, gain=gain, N=N, T=T)


def _dropout_intercept(share: float) -> float:
    """Logit intercept a with E[sigmoid(a + b z)] = share for z ~ N(0, 1)."""
    if share <= 0.0:
        return -np.inf
    nodes, weights = np.polynomial.hermite_e.hermegauss(40)
    weights = weights / weights.sum()

    def excess(a: float) -> float:
        return float(np.sum(weights / (1.0 + np.exp(-(a + _DROPOUT_ALLIANCE_SLOPE * nodes))))
                     - share)

    return optimize.brentq(excess, -30.0, 30.0)


def _draw_course(rng: np.random.Generator, z: np.ndarray, K: int, dropout_share: float) -> dict:
    """Who drops out, after which session, and how many scheduled sessions follow unattended."""
    N = len(z)
    p_drop = 1.0 / (1.0 + np.exp(-(_dropout_intercept(dropout_share)
                                   + _DROPOUT_ALLIANCE_SLOPE * z)))
    dropout = (rng.random(N) < p_drop) & (K >= 2)
    # Most dropouts leave early: last attended session L = 1 + floor((K - 1) · Beta(1, 2.5)).
    last_if_drop = 1 + np.floor((K - 1) * rng.beta(1.0, 2.5, N)).astype(np.int64)
    last_if_drop = np.minimum(last_if_drop, K - 1)
    trailing = rng.integers(1, 4, N)       # missed sessions before the client is gone
    last = np.where(dropout, last_if_drop, K)
    n_rows = np.where(dropout, np.minimum(last + trailing, K), K)
    return dict(dropout=dropout, last=last, n_rows=n_rows)


def _draw_ruptures(rng: np.random.Generator, last: np.ndarray, share: float,
                   second_share: float, repair_share: float, dropout: np.ndarray,
                   K: int) -> list[dict]:
    """Where ruptures go, which subscale they hit and how deep, and how they end."""
    N = len(last)
    # A rupture at t needs a rated t - 1 and t - 2 before it and the repair window after it.
    eligible = np.flatnonzero(last >= 3 + REPAIR_WINDOW)
    n_target = min(int(round(share * N)), len(eligible))
    chosen = np.sort(rng.choice(eligible, size=n_target, replace=False))
    # Two episodes fit when t1 ≥ 3, t2 ≥ t1 + window + 2 and t2 + window ≤ last.
    room = last[chosen] - REPAIR_WINDOW - (REPAIR_WINDOW + 2) >= 3
    second = room & (rng.random(n_target) < second_share)
    u1, u2 = rng.random(n_target), rng.random(n_target)
    hi_one = last[chosen] - REPAIR_WINDOW
    hi_first = np.where(second, hi_one - (REPAIR_WINDOW + 2), hi_one)
    t1 = 3 + np.floor(u1 * (hi_first - 3 + 1)).astype(np.int64)
    lo2 = t1 + REPAIR_WINDOW + 2
    t2 = lo2 + np.floor(u2 * (hi_one - lo2 + 1)).astype(np.int64)

    slots = []
    for clients, t in ((chosen, t1[:]), (chosen[second], t2[second])):
        n = len(clients)
        depth = rng.uniform(*_DEPTH_RANGE, n)
        main = rng.choice(3, size=n, p=_MAIN_SUBSCALE_P)
        spill = rng.uniform(*_SPILL_RANGE, n)
        p_repair = np.where(dropout[clients], repair_share * _REPAIR_SHARE_DROPOUT, repair_share)
        repaired = rng.random(n) < p_repair
        after = rng.integers(1, REPAIR_WINDOW + 1, n)
        lasting = rng.uniform(*_LASTING_RANGE, n)
        slots.append(dict(clients=clients, t=t, depth=depth, main=main, spill=spill,
                          repaired=repaired, after=after, lasting=lasting))
    return slots


def _draw_missing(rng: np.random.Generator, N: int, K: int, course: dict, plan: list[dict],
                  no_show_rate: float, unanswered_rate: float, therapist_rate: float) -> dict:
    col = np.arange(1, K + 1)[None, :]
    scheduled = col <= course["n_rows"][:, None]
    protected = col == 1                                    # intake is always attended
    protected = protected | (col == course["last"][:, None])
    for slot in plan:                                       # rupture episodes are fully rated
        rows = np.zeros((N, K), dtype=bool)
        t = slot["t"][:, None]
        rows[slot["clients"]] = (col >= t - 1) & (col <= t + REPAIR_WINDOW)
        protected = protected | rows
    after_last = col > course["last"][:, None]
    no_show = (rng.random((N, K)) < no_show_rate) & ~protected
    attended = scheduled & ~after_last & ~no_show
    unanswered = (rng.random((N, K)) < unanswered_rate) & ~protected
    answered = attended & ~unanswered
    therapist = attended & ~(rng.random((N, K)) < therapist_rate)
    return dict(scheduled=scheduled, attended=attended, answered=answered, therapist=therapist)


def _draw_dates(rng: np.random.Generator, N: int, K: int, start: dt.date) -> np.ndarray:
    """Days since `start`: roughly weekly, sometimes two weeks, now and then a long break."""
    first = rng.integers(0, _INTAKE_SPAN_DAYS, N)
    u = rng.random((N, max(K - 1, 0)))
    gaps = np.where(u < 0.04, rng.integers(21, 43, u.shape),
                    np.where(u < 0.14, 14, 7))
    jitter = np.where(rng.random(u.shape) < 0.15, rng.integers(-2, 3, u.shape), 0)
    days = np.empty((N, K), dtype=np.int64)
    days[:, 0] = first
    days[:, 1:] = first[:, None] + np.cumsum(gaps + jitter, axis=1)
    return np.datetime64(start, "D") + days


def _plant_ruptures(base: np.ndarray, plan: list[dict]) -> tuple[np.ndarray, list[dict]]:
    """The planted ruptures as dips in the true subscale scores, and what was planted.

    ``base`` (3, N, K) is every subscale's true course without noise. A rupture at t takes
    ``drops`` off the true scores at t; a repaired one shrinks linearly and is gone at
    t + after (the true course is back on its own trajectory, never below its level at
    t − 1, since the course only grows); an unrepaired one keeps ``lasting`` × the drop
    from t + 1 to the end of therapy. The depth of a rupture is the fall of the true total
    from t − 1 to t after clipping to the scale: a rupture that would show less than
    1.4 points (a client near 0) is not planted.
    """
    _, N, K = base.shape
    dip = np.zeros_like(base)
    col = np.arange(K)[None, :]
    planted = []
    for slot in plan:
        c, t0 = slot["clients"], slot["t"] - 1                    # t0: 0-based column
        n = len(c)
        main = np.zeros((3, n), dtype=bool)
        main[slot["main"], np.arange(n)] = True
        # Main subscale drop so that the total drops by `depth`; the others follow in part.
        main_drop = 3.0 * slot["depth"] / (1.0 + 2.0 * slot["spill"])
        drops = np.where(main, main_drop, slot["spill"] * main_drop)
        repaired, after, lasting = slot["repaired"], slot["after"], slot["lasting"]
        j = (col - t0[:, None]).astype(float)                    # (n, K): sessions since onset
        shape = np.where(j < 0, 0.0,
                         np.where(repaired[:, None], np.clip(1.0 - j / after[:, None], 0.0, 1.0),
                                  np.where(j == 0, 1.0, lasting[:, None])))
        candidate = dip[:, c, :] - drops[:, :, None] * shape[None]
        idx = np.arange(n)
        true_before = np.clip(base[:, c, t0 - 1] + dip[:, c, t0 - 1], 0.0, _SCALE_MAX)
        true_at = np.clip(base[:, c, t0] + candidate[:, idx, t0], 0.0, _SCALE_MAX)
        keep = (true_before - true_at).mean(0) >= _MIN_DEPTH - 1e-9
        dip[:, c[keep], :] = candidate[:, keep, :]
        planted.append(dict(clients=c[keep], t=t0[keep] + 1, drops=(true_before - true_at)[:, keep],
                            prev=true_before[:, keep], repaired=repaired[keep],
                            after=after[keep]))
    return dip, planted


def _rupture_gain(planted: list[dict], N: int) -> np.ndarray:
    extra = np.zeros(N)
    for p in planted:
        np.add.at(extra, p["clients"], np.where(p["repaired"], _WB_REPAIRED, _WB_UNREPAIRED))
    return extra


# --- tables ----------------------------------------------------------------------------

def _ids(prefix: str, n: int) -> np.ndarray:
    width = max(3, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _sessions_frame(people, course, missing, dates, sub, total, therapist, wellbeing):
    scheduled = missing["scheduled"]
    rows, cols = np.nonzero(scheduled)                      # row-major: client, then session
    answered = missing["answered"][rows, cols]

    def scores(values: np.ndarray, present: np.ndarray) -> np.ndarray:
        return np.where(present, values[rows, cols], np.nan)

    client_ids = _ids("C", people["N"])
    therapist_ids = _ids("T", people["T"])
    frame = pd.DataFrame({
        "client_id": client_ids[rows],
        "therapist_id": therapist_ids[people["therapist"][rows]],
        "session": (cols + 1).astype(np.int64),
        "date": dates[rows, cols].astype("datetime64[s]"),
        "attended": missing["attended"][rows, cols].astype(np.int64),
        "alliance": scores(total, answered),
        "bond": scores(sub[0], answered),
        "goals": scores(sub[1], answered),
        "tasks": scores(sub[2], answered),
        "therapist_alliance": scores(therapist, missing["therapist"][rows, cols]),
        "wellbeing": scores(wellbeing, answered),
    }, copy=False)       # the columns are fresh arrays; copying them would double the peak
    return frame


def _ruptures_frame(people, planted: list[dict]) -> pd.DataFrame:
    client_ids = _ids("C", people["N"])
    therapist_ids = _ids("T", people["T"])
    parts = []
    for p in planted:
        reference = np.round(p["prev"].mean(0), 2)
        score = np.round((p["prev"] - p["drops"]).mean(0), 2)
        drops = np.round(p["drops"], 2)
        parts.append(pd.DataFrame({
            "client_id": client_ids[p["clients"]],
            "therapist_id": therapist_ids[people["therapist"][p["clients"]]],
            "session": p["t"].astype(np.int64),
            "subscale": np.array(SUBSCALES, dtype=object)[np.argmax(drops, axis=0)],
            "reference": reference,
            "score": score,
            "depth": np.round(reference - score, 2),
            "bond_drop": drops[0], "goals_drop": drops[1], "tasks_drop": drops[2],
            "repaired": p["repaired"].astype(bool),
            "repaired_session": pd.array(np.where(p["repaired"], p["t"] + p["after"], 0),
                                         dtype="Int64"),
        }))
    frame = pd.concat(parts, ignore_index=True)
    frame.loc[~frame["repaired"], "repaired_session"] = pd.NA
    frame = frame.sort_values(["client_id", "session"], kind="stable", ignore_index=True)
    frame = frame.astype({"client_id": "str", "therapist_id": "str", "subscale": "str"})
    return frame[list(RUPTURE_COLUMNS)]


def _truth_frame(people, course, planted: list[dict], gain: np.ndarray) -> pd.DataFrame:
    N = people["N"]
    n_ruptures = np.zeros(N, dtype=np.int64)
    n_repaired = np.zeros(N, dtype=np.int64)
    for p in planted:
        np.add.at(n_ruptures, p["clients"], 1)
        np.add.at(n_repaired, p["clients"], p["repaired"].astype(np.int64))
    dropout = course["dropout"]
    client_ids = _ids("C", N)
    therapist_ids = _ids("T", people["T"])
    return pd.DataFrame({
        "client_id": client_ids,
        "therapist_id": therapist_ids[people["therapist"]],
        "therapist_effect": np.round(people["therapist_effect"], 4),
        "alliance_level": np.round(people["level"] + people["offsets"].mean(1), 4),
        "alliance_growth": np.round(people["growth"], 4),
        "therapist_bias": np.round(people["therapist_bias"], 4),
        "large_discrepancy": people["large"],
        "wellbeing_intake": np.round(people["wellbeing_intake"], 4),
        "wellbeing_gain": np.round(gain, 4),
        "n_scheduled": course["n_rows"].astype(np.int64),
        "last_attended_session": course["last"].astype(np.int64),
        "dropout": dropout,
        "dropout_session": pd.array(np.where(dropout, course["last"] + 1, 0), dtype="Int64"),
        "n_ruptures": n_ruptures,
        "n_repaired": n_repaired,
    }).assign(dropout_session=lambda f: f["dropout_session"].where(f["dropout"], pd.NA))[
        list(CLIENT_COLUMNS)]


def write_clinic(clinic: SimulatedClinic, directory) -> dict[str, Path]:
    """Write ``sessions.csv``, ``ruptures.csv`` and ``clients.csv`` into a folder.

    The folder is created when missing; existing files of these names are replaced.
    True/false columns are written as 1/0 (like ``attended``), missing values as
    empty cells, dates as YYYY-MM-DD.

    Returns
    -------
    dict
        The path of each file, keyed ``sessions``, ``ruptures`` and ``clients``.

    Raises
    ------
    InputError
        When the path exists and is not a folder.
    """
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise InputError("exists and is not a folder", file=str(directory))
    paths = {name: directory / f"{name}.csv" for name in ("sessions", "ruptures", "clients")}
    tables = {"sessions": clinic.sessions, "ruptures": clinic.ruptures, "clients": clinic.truth}
    for name, frame in tables.items():
        flags = [c for c in frame.columns if pd.api.types.is_bool_dtype(frame[c])]
        write_csv(frame.astype({c: np.int64 for c in flags}), paths[name])
    return paths

"""The clinic's signal settings as the core's `SignalSettings`: which rules, with which
parameters, on which scores.

`make_plan` is the one mapping from clinic settings (and the clinic's cached baseline: its
usual variation) onto `alliance.core.signals.SignalSettings`; `settings_fingerprint`
tells whether a setting the signals depend on has changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass

from alliance.core.signals import SignalSettings
from alliance.core.signals.ruptures import DEFAULT_RULE
from alliance.web.clinics.models import Clinic
from alliance.web.goals import detection as goal_detection
from alliance.web.monitoring import data as case_data
from alliance.web.monitoring.data import ClinicInstruments
from alliance.web.monitoring.models import ClinicBaseline

logger = logging.getLogger(__name__)

#: Before that, p is this fraction of the score's range (1 point on a 0–10 check-in):
#: a cautious default, a little above the session-to-session variation typical of
#: session-by-session alliance ratings, so a new clinic is not flooded with ruptures.
DEFAULT_POOLED_FRACTION = 0.1


# --------------------------------------------------------------------------- settings

#: Clinic fields the signals depend on; saving the clinic settings recomputes every
#: active case when one of them changed.
SETTING_FIELDS = ("instruments_in_use", "rupture_rule", "rupture_reference", "repair_window",
                  "rci_sd", "rci_reliability", "low_alliance_percentile",
                  "discrepancy_threshold", "disengagement_missed_sessions",
                  "disengagement_unanswered_checkins", "disengagement_gap_factor",
                  *goal_detection.SETTING_FIELDS)


def settings_fingerprint(clinic: Clinic) -> str:
    values = {name: getattr(clinic, name) for name in SETTING_FIELDS}
    text = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Plan:
    """The clinic's settings as core settings, with what the web adds to them."""

    settings: SignalSettings
    instruments: ClinicInstruments
    pooled: dict[str, dict]  # column → {"pooled_sd", "n_rated", "n_clients", "source"}
    rupture_columns: tuple[str, ...]
    ruptures_possible: bool


def _low_cutoff(instrument) -> tuple[float | None, bool]:
    """The instrument's own cutoff for a low total, when it has one (e.g. SRS at or below
    36), and whether a score exactly at it counts."""
    if instrument is None:
        return None, False
    for cutoff in instrument.cutoffs:
        if cutoff.score == "total" and cutoff.when in ("below", "at_or_below"):
            return float(cutoff.value), cutoff.when == "at_or_below"
    return None, False


def default_pooled(instruments: ClinicInstruments, column: str) -> float:
    """p before the clinic has enough ratings of its own: a fixed share of the score's range."""
    if instruments.client is None:
        return 1.0
    score_id = "total" if column == "alliance" else instruments.subscales.get(column, "total")
    low, high = instruments.client.score_range(score_id)
    return DEFAULT_POOLED_FRACTION * (high - low)


def make_plan(clinic: Clinic, baseline: ClinicBaseline,
              instruments: ClinicInstruments | None = None) -> Plan:
    """Map the clinic's settings onto `alliance.core.signals.SignalSettings`.

    Ruptures are watched on the alliance total and on each of bond, goals and tasks the
    clinic's instrument has, each with its own pooled SD. The reliable-change rule uses
    the SD and reliability the clinic gives for the total, so under it only the total is
    watched.
    """
    instruments = instruments or case_data.clinic_instruments(clinic)
    pooled = {}
    for column in ("alliance", *instruments.subscales):
        stored = (baseline.pooled_sd or {}).get(column)
        if baseline.pooled_instrument == getattr(instruments.client, "id", None) and stored:
            pooled[column] = stored
        else:
            pooled[column] = {"pooled_sd": default_pooled(instruments, column), "n_rated": 0,
                              "n_clients": 0, "source": "default"}
    rule = clinic.rupture_rule
    possible = rule != "rci" or (clinic.rci_sd is not None and clinic.rci_reliability is not None)
    if not possible:
        logger.warning("clinic %s uses the reliable-change rule without an SD and reliability; "
                       "no ruptures are looked for", clinic.pk)
    client_scale = instruments.scale(instruments.client) or (0.0, 10.0)
    low_cutoff, inclusive = _low_cutoff(instruments.client)
    settings = SignalSettings(
        rule=rule if possible else DEFAULT_RULE, reference=clinic.rupture_reference,
        window=clinic.repair_window, pooled_sd=pooled["alliance"]["pooled_sd"],
        sd=clinic.rci_sd, reliability=clinic.rci_reliability,
        low_cutoff=low_cutoff, low_cutoff_inclusive=inclusive,
        low_percentile=float(clinic.low_alliance_percentile),
        scale=tuple(client_scale),
        therapist_scale=instruments.scale(instruments.therapist),
        discrepancy_points=float(clinic.discrepancy_threshold),
        higher_is_better=instruments.outcome.higher_is_better if instruments.outcome else True,
        missed_in_a_row=clinic.disengagement_missed_sessions,
        unanswered_in_a_row=clinic.disengagement_unanswered_checkins,
        gap_factor=float(clinic.disengagement_gap_factor))
    columns = ("alliance",) if rule == "rci" else ("alliance", *instruments.subscales)
    return Plan(settings=settings, instruments=instruments, pooled=pooled,
                rupture_columns=columns, ruptures_possible=possible)

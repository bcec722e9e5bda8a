"""What a clinic's signals rest on beyond one case, cached on `ClinicBaseline`: the pooled
within-client SD of each alliance score (its clients' usual session-to-session variation)
and the expected course of the outcome fitted on its closed cases ("not on track").

Both span every case of the clinic, so they are recomputed only when the data they rest on
have grown by a tenth, not at every check-in.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import IntegrityError, transaction
from django.utils import timezone

from alliance.core import expected as core_expected
from alliance.core.errors import AllianceError, InputError, NotEnoughDataError
from alliance.core.signals import pooled_within_sd
from alliance.web.care.models import Case
from alliance.web.checkins.models import Administration
from alliance.web.clinics.models import Clinic
from alliance.web.monitoring import data as case_data
from alliance.web.monitoring.data import ClinicInstruments
from alliance.web.monitoring.models import ClinicBaseline
from alliance.web.monitoring.planning import default_pooled, settings_fingerprint

logger = logging.getLogger(__name__)

#: The clinic's own pooled within-client SD is used once it rests on at least this many
#: rated check-ins from at least `MIN_POOLED_CLIENTS` clients with two or more each.
MIN_POOLED_RATINGS = 30
MIN_POOLED_CLIENTS = 5
#: Cached clinic values are refreshed when the data they rest on have grown by a tenth.
REFRESH_GROWTH = 1.1


@dataclass(frozen=True)
class ExpectedStatus:
    """Whether the clinic has an expected-response model for "not on track", and why not."""

    available: bool
    instrument: str
    n_cases: int
    min_cases: int
    message: str
    fitted_at: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"available": self.available, "instrument": self.instrument,
                "n_cases": self.n_cases, "min_cases": self.min_cases, "message": self.message,
                "fitted_at": self.fitted_at.isoformat() if self.fitted_at else None}


def get_baseline(clinic: Clinic) -> ClinicBaseline:
    baseline = ClinicBaseline.objects.filter(clinic=clinic).first()
    if baseline is not None:
        return baseline
    try:
        with transaction.atomic():
            return ClinicBaseline.objects.create(clinic=clinic,
                                                 settings_fingerprint=settings_fingerprint(clinic))
    except IntegrityError:  # created at the same moment by another recomputation
        return ClinicBaseline.objects.get(clinic=clinic)


def _grown(now: int, then: int) -> bool:
    return now < then or now >= max(then * REFRESH_GROWTH, then + 1)


def refresh_pooled_sd(clinic: Clinic, baseline: ClinicBaseline | None = None, *,
                      instruments: ClinicInstruments | None = None,
                      force: bool = False) -> ClinicBaseline:
    """Recompute the clinic's pooled within-client SDs when the ratings have grown by a tenth.

    Cached on `ClinicBaseline` because it spans every case of the clinic: a check-in
    costs one COUNT query, and the full computation (one query reading only the scores,
    then `alliance.core.signals.pooled_within_sd` per score) runs about once per 10%
    growth. The unit is the case (one episode of care of one client).
    """
    baseline = baseline or get_baseline(clinic)
    instruments = instruments or case_data.clinic_instruments(clinic)
    instrument = instruments.client
    if instrument is None:
        return baseline
    count = (Administration.objects
             .filter(session__case__client__clinic=clinic, instrument_id=instrument.id,
                     respondent=Administration.Respondent.CLIENT, submitted_at__isnull=False)
             .count())
    fresh = (baseline.pooled_instrument == instrument.id and baseline.pooled_at is not None
             and not _grown(count, baseline.pooled_n_rated))
    if fresh and not force:
        return baseline
    paths = {"alliance": "total",
             **{column: f"subscales__{sid}" for column, sid in instruments.subscales.items()}}
    scores = case_data.clinic_scores(clinic, instrument, paths)
    pooled = {}
    for column in paths:
        pooled[column] = _pooled_entry(scores["client_id"], scores[column],
                                       default_pooled(instruments, column))
    baseline.pooled_instrument = instrument.id
    baseline.pooled_sd = pooled
    baseline.pooled_n_rated = count
    baseline.pooled_at = timezone.now()
    baseline.save(update_fields=["pooled_instrument", "pooled_sd", "pooled_n_rated", "pooled_at"])
    return baseline


def _pooled_entry(client: pd.Series, score: pd.Series, default: float) -> dict:
    result = pooled_within_sd(client.to_numpy(), score.to_numpy(dtype=float))
    rated = score.notna()
    repeated = int((client[rated].value_counts() >= 2).sum()) if rated.any() else 0
    enough = (result.n_rated >= MIN_POOLED_RATINGS and repeated >= MIN_POOLED_CLIENTS
              and math.isfinite(result.value) and result.value > 0)
    return {"pooled_sd": result.value if enough else default, "n_rated": result.n_rated,
            "n_clients": result.n_clients, "source": "clinic" if enough else "default"}


def expected_status(clinic: Clinic, baseline: ClinicBaseline | None = None) -> ExpectedStatus:
    """Whether "not on track" can be judged at this clinic, in words for the page."""
    baseline = baseline or ClinicBaseline.objects.filter(clinic=clinic).first()
    outcome = case_data.clinic_instruments(clinic).outcome
    minimum = core_expected.MIN_CASES
    if outcome is None:
        return ExpectedStatus(False, "", 0, minimum,
                              "Not-on-track signals need an outcome check-in (such as the "
                              "wellbeing check-in); this clinic does not use one.")
    usable = (baseline is not None and baseline.expected_model
              and baseline.expected_instrument == outcome.id)
    if usable:
        n = int(baseline.expected_model.get("n_cases", 0))
        return ExpectedStatus(True, outcome.title, n, minimum,
                              f"Expected course of {outcome.title.lower()} fitted on {n} of "
                              f"this clinic's closed cases.", baseline.expected_at)
    if baseline is not None and baseline.expected_note and \
            baseline.expected_instrument == outcome.id:
        return ExpectedStatus(False, outcome.title, baseline.expected_n_cases, minimum,
                              baseline.expected_note, baseline.expected_at)
    return ExpectedStatus(False, outcome.title, 0, minimum, _too_few_text(outcome, 0))


def _too_few_text(outcome, n_cases: int) -> str:
    return (f"Not-on-track signals start once this clinic has {core_expected.MIN_CASES} closed "
            f"cases with a first {outcome.title.lower()} score and at least "
            f"{core_expected.MIN_SESSIONS - 1} later ones (so far: {n_cases}). Until then "
            f"there is no fair expected course to compare with.")


def refit_expected(clinic: Clinic, *, force: bool = False) -> tuple[ExpectedStatus, bool]:
    """Refit the clinic's expected treatment response on its closed cases.

    Runs when the clinic has no model yet or its closed cases have grown by a tenth since
    the last fit (or always with `force`). Returns the status and whether the stored model
    changed. With too few cases the model is cleared and the note says so.
    """
    baseline = get_baseline(clinic)
    outcome = case_data.clinic_instruments(clinic).outcome
    if outcome is None:
        changed = baseline.expected_model is not None
        if changed or baseline.expected_instrument:
            baseline.expected_model, baseline.expected_instrument = None, ""
            baseline.expected_note, baseline.expected_at = "", timezone.now()
            baseline.save(update_fields=["expected_model", "expected_instrument",
                                         "expected_note", "expected_at"])
        return expected_status(clinic, baseline), changed
    closed = Case.objects.filter(client__clinic=clinic, status=Case.Status.CLOSED)
    n_closed = closed.count()
    fresh = (baseline.expected_instrument == outcome.id and baseline.expected_at is not None
             and not _grown(n_closed, baseline.expected_n_cases))
    if fresh and not force:
        return expected_status(clinic, baseline), False
    scores = case_data.clinic_scores(clinic, outcome, {"wellbeing": "total"},
                                     case_status=Case.Status.CLOSED)
    before = baseline.expected_model
    try:
        model = core_expected.fit_expected_response(scores, client="client_id",
                                                    session="session", outcome="wellbeing")
    except NotEnoughDataError:
        rated = scores.dropna(subset=["wellbeing"])
        per_case = rated.groupby("client_id").size()
        usable = int((per_case >= core_expected.MIN_SESSIONS).sum())
        baseline.expected_model, baseline.expected_note = None, _too_few_text(outcome, usable)
    except InputError as exc:
        baseline.expected_model = None
        baseline.expected_note = (f"The expected course of {outcome.title.lower()} could not be "
                                  f"fitted on this clinic's closed cases: {exc}")
    else:
        baseline.expected_model, baseline.expected_note = model.to_dict(), ""
    baseline.expected_instrument = outcome.id
    baseline.expected_n_cases = n_closed
    baseline.expected_at = timezone.now()
    baseline.save(update_fields=["expected_model", "expected_note", "expected_instrument",
                                 "expected_n_cases", "expected_at"])
    return expected_status(clinic, baseline), baseline.expected_model != before


def expected_model(baseline: ClinicBaseline, instruments: ClinicInstruments):
    if (not baseline.expected_model or instruments.outcome is None
            or baseline.expected_instrument != instruments.outcome.id):
        return None
    try:
        return core_expected.ExpectedResponseModel.from_dict(baseline.expected_model)
    except AllianceError:
        logger.exception("stored expected-response model of clinic %s is unreadable",
                         baseline.clinic_id)
        return None

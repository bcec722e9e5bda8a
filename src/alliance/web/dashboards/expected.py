"""The clinic's expected wellbeing range for one case, for the chart and its table.

The model is `alliance.core.expected.ExpectedResponseModel`, fitted on the clinic's
closed cases and stored by the monitoring part (`monitoring.ClinicBaseline`); the band
for a case is the model's own `band(intake, session)`, with the intake from
`alliance.core.signals.intake_scores`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from alliance.core.errors import AllianceError
from alliance.core.expected import ExpectedResponseModel
from alliance.core.signals import intake_scores
from alliance.web.dashboards.charts import BandSeries
from alliance.web.dashboards.series import CaseSeries, Measures
from alliance.web.monitoring.models import ClinicBaseline

logger = logging.getLogger(__name__)

NO_MODEL_NOTE = ("The clinic does not yet have enough completed cases for an expected range.")
NO_OUTCOME_NOTE = ("The clinic does not use an outcome check-in, so there is no expected "
                   "range to compare with.")
INTAKE_ONLY_NOTE = ("The expected range starts after the first check-in, which it is "
                    "based on.")


def expected_model(clinic, measures: Measures) -> ExpectedResponseModel | None:
    """The clinic's stored expected-response model for its outcome check-in (one query)."""
    if measures.outcome is None:
        return None
    stored = (ClinicBaseline.objects.filter(clinic=clinic)
              .values_list("expected_model", "expected_instrument").first())
    if not stored or not stored[0] or stored[1] != measures.outcome.id:
        return None
    try:
        return ExpectedResponseModel.from_dict(stored[0])
    except AllianceError:
        logger.exception("stored expected-response model of clinic %s is unreadable",
                         clinic.pk)
        return None


@dataclass(frozen=True)
class ExpectedRange:
    """The band to draw (None when there is none) and, if none, a note saying why."""

    band: BandSeries | None
    note: str


def apply_expected(series: CaseSeries, model: ExpectedResponseModel | None,
                   measures: Measures) -> ExpectedRange:
    """Fill each session's expected range in `series` and return the band to draw.

    The band runs from the session after the intake (the first rated outcome score) to
    the case's last session; the intake itself is what the band is conditioned on.
    """
    if measures.outcome is None:
        return ExpectedRange(None, NO_OUTCOME_NOTE)
    if model is None:
        return ExpectedRange(None, NO_MODEL_NOTE)
    numbers = [s.number for s in series.sessions]
    observed = [np.nan if s.wellbeing is None else s.wellbeing for s in series.sessions]
    if not numbers or all(np.isnan(observed)):
        return ExpectedRange(None, "")
    intake = intake_scores(["case"] * len(numbers), numbers, observed)[0]
    first = series.first("wellbeing").number
    later = [n for n in numbers if n > first]
    if not later:
        return ExpectedRange(None, INTAKE_ONLY_NOTE)
    band = model.band(intake, np.asarray(later, dtype=float))
    # The model's band is a normal interval and may reach past the ends of the scale;
    # shown, it stops where the scale stops ("6.1 to 10", not "6.1 to 10.23").
    low_end, high_end = measures.outcome_scale
    lower, expected, upper = (np.clip(values, low_end, high_end).tolist()
                              for values in (band.lower, band.expected, band.upper))
    by_number = dict(zip(later, zip(lower, expected, upper)))
    for session in series.sessions:
        if session.number in by_number:
            session.expected_low, session.expected, session.expected_high = \
                by_number[session.number]
    return ExpectedRange(BandSeries(sessions=later, lower=lower, expected=expected, upper=upper,
                                    coverage=band.coverage), "")

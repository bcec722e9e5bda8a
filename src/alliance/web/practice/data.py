"""The clinic's data for the practice figures, as the tables `alliance.core.practice` reads.

`load(clinic, start, end)` gives two tables over the sessions dated in the period:
- ``sessions``: one row per session, with ``therapist`` (the staff id, as text),
  ``client`` (the case id, as text), ``session``, ``date``, and, each on a 0–100 scale
  (POMP), ``alliance`` (the client's rating), ``therapist_alliance`` (the therapist's),
  ``difference`` (therapist minus client), ``goals`` and ``tasks`` (the client's parts),
  and ``outcome`` (the client's outcome check-in minus its expected value for a client with
  that intake at that session, positive = better than expected; empty without the clinic's
  expected-response model, and at the intake itself);
- ``ruptures``: one row per rupture (a session's drop in the total or a part counts once)
  whose repair window has passed, with ``repaired`` (1/0) and ``sessions_to_repair``.

The whole clinic is loaded because each therapist's figure is shrunk toward the clinic's
and shown beside its spread; the pages show one therapist's figures or the clinic's
aggregates, never another therapist's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alliance.core.errors import AllianceError
from alliance.core.scoring import pomp
from alliance.core.signals.outcome import expected_bands
from alliance.web.care.models import Case, Session
from alliance.web.dashboards.expected import expected_model
from alliance.web.dashboards.series import Measures
from alliance.web.monitoring.data import clinic_instruments, load_cases
from alliance.web.monitoring.models import Signal

SESSION_COLUMNS = ["therapist", "client", "session", "date", "alliance", "therapist_alliance",
                   "difference", "goals", "tasks", "outcome"]
RUPTURE_COLUMNS = ["therapist", "client", "session", "date", "repaired", "sessions_to_repair"]


@dataclass(frozen=True)
class PracticeData:
    sessions: pd.DataFrame
    ruptures: pd.DataFrame
    has_therapist_form: bool
    has_outcome_model: bool
    outcome_title: str

    def of(self, therapist_id) -> PracticeData:
        """Only one therapist's rows (for the comparison before and after a focus)."""
        label = str(therapist_id)
        return PracticeData(
            sessions=self.sessions[self.sessions["therapist"] == label].reset_index(drop=True),
            ruptures=self.ruptures[self.ruptures["therapist"] == label].reset_index(drop=True),
            has_therapist_form=self.has_therapist_form,
            has_outcome_model=self.has_outcome_model, outcome_title=self.outcome_title)


def _scaled(values: pd.Series, instrument, score_id: str = "total") -> pd.Series:
    if instrument is None:
        return pd.Series(np.nan, index=values.index)
    low, high = instrument.score_range(score_id)
    return pd.Series(pomp(values.to_numpy(float), low, high), index=values.index)


def load(clinic, start: dt.date, end: dt.date, *, therapist_id=None) -> PracticeData:
    """The clinic's sessions and decided ruptures dated in [start, end] (see the module)."""
    cases = Case.objects.filter(client__clinic=clinic)
    if therapist_id is not None:
        cases = cases.filter(therapist_id=therapist_id)
    in_period = Session.objects.filter(case__in=cases, date__gte=start, date__lte=end)
    therapist_of = dict(cases.filter(pk__in=in_period.values("case_id"))
                        .values_list("pk", "therapist_id"))
    instruments = clinic_instruments(clinic)
    measures = Measures.of(clinic)
    frame = load_cases(list(therapist_of), instruments).frame
    model = expected_model(clinic, measures)
    sessions = pd.DataFrame(columns=SESSION_COLUMNS)
    if not frame.empty:
        sessions = pd.DataFrame({
            "therapist": [str(therapist_of[int(c)]) for c in frame["client_id"]],
            "client": frame["client_id"].astype(str), "session": frame["session"],
            "date": frame["date"],
            "alliance": _scaled(frame["alliance"], instruments.client),
            "therapist_alliance": _scaled(frame["therapist_alliance"], instruments.therapist),
        })
        sessions["difference"] = sessions["therapist_alliance"] - sessions["alliance"]
        subscales = instruments.subscales
        for part in ("goals", "tasks"):
            sessions[part] = (_scaled(frame[part], instruments.client, subscales[part])
                              if part in subscales else np.nan)
        sessions["outcome"] = np.nan
        if model is not None and instruments.outcome is not None:
            try:
                expected, _, _ = expected_bands(model, frame["client_id"], frame["session"],
                                                frame["wellbeing"])
            except AllianceError:
                expected = None
            if expected is not None:
                low, high = instruments.outcome.score_range("total")
                sign = 1.0 if instruments.outcome.higher_is_better else -1.0
                sessions["outcome"] = (sign * (frame["wellbeing"].to_numpy(float) - expected)
                                       * 100.0 / (high - low))
        dates = pd.to_datetime(sessions["date"]).dt.date
        sessions = sessions[(dates >= start) & (dates <= end)].reset_index(drop=True)
    return PracticeData(sessions=sessions, ruptures=_ruptures(cases, start, end),
                        has_therapist_form=instruments.therapist is not None,
                        has_outcome_model=model is not None,
                        outcome_title=measures.outcome_title)


def _ruptures(cases, start: dt.date, end: dt.date) -> pd.DataFrame:
    rows = (Signal.objects
            .filter(case__in=cases, type=Signal.Type.RUPTURE, is_current=True,
                    session__date__gte=start, session__date__lte=end,
                    repair_state__in=[Signal.RepairState.REPAIRED,
                                      Signal.RepairState.UNRESOLVED])
            .values_list("case__therapist_id", "case_id", "session__number", "session__date",
                         "repair_state", "data"))
    found: dict[tuple[int, int], dict] = {}
    for therapist_id, case_id, number, date, state, data in rows:
        entry = found.setdefault((case_id, number), {
            "therapist": str(therapist_id), "client": str(case_id), "session": number,
            "date": date.isoformat(), "repaired": 0, "sessions_to_repair": np.nan})
        back = (data or {}).get("repaired_session") if isinstance(data, dict) else None
        if state == Signal.RepairState.REPAIRED:
            entry["repaired"] = 1
            if back is not None:
                steps = float(back) - number
                if np.isnan(entry["sessions_to_repair"]) or steps < entry["sessions_to_repair"]:
                    entry["sessions_to_repair"] = steps
    frame = pd.DataFrame(list(found.values()), columns=RUPTURE_COLUMNS)
    frame["repaired"] = frame["repaired"].astype(float)
    frame["sessions_to_repair"] = frame["sessions_to_repair"].astype(float)
    return frame


def data_version(clinic) -> str:
    """A fingerprint of what the figures read: changes when a form is submitted, a session
    is added or moved, a signal changes or the expected range is refitted (for the cache
    key of the computed figures, so that a page never shows figures older than its data)."""
    from django.db.models import Count, Max

    from alliance.web.checkins.models import Administration
    from alliance.web.monitoring.models import ClinicBaseline

    forms = (Administration.objects.filter(session__case__client__clinic=clinic,
                                           submitted_at__isnull=False)
             .aggregate(n=Count("pk"), last=Max("submitted_at")))
    sessions = Session.objects.filter(case__client__clinic=clinic).aggregate(
        n=Count("pk"), last=Max("pk"))
    signals = Signal.objects.filter(case__client__clinic=clinic).aggregate(
        n=Count("pk"), last=Max("updated_at"))
    refitted = (ClinicBaseline.objects.filter(clinic=clinic)
                .values_list("expected_at", flat=True).first())
    return "|".join(str(v) for v in (forms["n"], forms["last"], sessions["n"], sessions["last"],
                                     signals["n"], signals["last"], refitted))

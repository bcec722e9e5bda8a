"""Finding a case's signals: the clinic's plan applied to the cases' data through
`alliance.core.signals.detect_signals`, each result with what its database row needs.
Nothing is stored here (see `recompute`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from alliance.core.signals import detect_signals
from alliance.web import instruments as web_instruments
from alliance.web import localtime
from alliance.web.monitoring.data import ANSWERED, UNANSWERED, CaseData
from alliance.web.monitoring.planning import Plan


@dataclass(frozen=True)
class Found:
    """A core signal with what the database row needs besides it."""

    case_id: int
    session_id: int | None
    type: str
    subject: str
    rule: str
    parameters: dict
    data: dict
    explanation: str
    repair_state: str = ""
    client_returned: bool = False


def _json(value):
    """Exactly what the JSON column will give back, so that "unchanged" compares equal
    (the parameters, a plain column; the data are compared as their JSON text, see
    `recompute`).

    The plain values the core gives (text keys, lists, finite numbers) are copied as they
    are, which is what a JSON round trip does to them without its cost (tens of thousands
    of signals in a clinic's recomputation); anything else takes the round trip.
    """
    kind = type(value)
    if kind is dict and all(type(k) is str for k in value):
        return {k: _json(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_json(v) for v in value]
    if kind is str or kind is int or kind is bool or value is None or (
            kind is float and math.isfinite(value)):
        return value
    return json.loads(json.dumps(value, allow_nan=False))


def _subject(signal, score_column: str | None) -> str:
    # Alliance scores by the instrument's words: "total", or the subscale "bond", …
    if signal.type == "rupture":
        return "total" if score_column in (None, "alliance") else score_column
    if signal.type in ("low_alliance", "discrepancy"):
        return "total"
    if signal.type == "not_on_track":
        return "wellbeing"
    if signal.type == "disengagement":
        return signal.rule
    for key in ("goal_id", "task_id"):
        if key in signal.data and signal.data[key] is not None:
            return str(signal.data[key])[:64]
    return ""


def found_signal(signal, data: CaseData, plan: Plan, score_column: str | None = None) -> Found:
    record = signal.to_dict()
    case_id = int(record["client_id"])
    session = record["session"]
    session_id = None if session is None else data.session_ids.get((case_id, int(session)))
    parameters = dict(record["parameters"])
    if signal.type == "rupture" and "pooled_sd" in parameters and score_column:
        basis = plan.pooled[score_column]
        parameters["pooled_sd_source"] = basis["source"]
        parameters["pooled_sd_n_rated"] = basis["n_rated"]
    instrument = plan.instruments.outcome if signal.type == "not_on_track" else \
        plan.instruments.client
    if instrument is not None and signal.type in ("rupture", "low_alliance", "discrepancy",
                                                  "not_on_track"):
        parameters["instrument"] = instrument.title
    repair = record["data"].get("state", "") if signal.type == "rupture" else ""
    return Found(case_id=case_id, session_id=session_id, type=signal.type,
                 subject=_subject(signal, score_column), rule=signal.rule,
                 parameters=_json(parameters), data=record["data"],
                 explanation=signal.explanation, repair_state=repair or "")


def _one_rupture_per_session(ruptures: list[Found]) -> list[Found]:
    """Merge the ruptures of one session into one signal, so one drop is one alert.

    The total speaks for the session when it fell; otherwise the subscale that dropped
    most. The other scores that fell at that session are named in its data ("also") and
    in its explanation, so the therapist still sees which part of the alliance moved.
    """
    by_session: dict[tuple, list[Found]] = {}
    for f in ruptures:
        by_session.setdefault((f.case_id, f.session_id), []).append(f)
    merged = []
    for group in by_session.values():
        group.sort(key=lambda f: (f.subject != "total", -float(f.data.get("drop") or 0.0)))
        main, others = group[0], group[1:]
        if others:
            names = [f.subject for f in others]
            also = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
            main = replace(main, data={**main.data, "also": [
                {"subject": f.subject, "reference": f.data.get("reference"),
                 "score": f.data.get("score"), "state": f.data.get("state")} for f in others]},
                explanation=f"{main.explanation} {also.capitalize()} also fell at this session.")
        merged.append(main)
    return merged


def _feedback(data: CaseData) -> list[Found]:
    found = []
    for entry in data.feedback:
        question = web_instruments.question_text(entry.instrument_id, entry.question_id,
                                                 default=entry.question_id)
        found.append(Found(
            case_id=entry.case_id, session_id=entry.session_id, type="client_feedback",
            subject=f"{entry.instrument_id}:{entry.question_id}"[:64], rule="open_answer",
            parameters={"instrument": web_instruments.instrument_title(entry.instrument_id),
                        "question": question},
            data={"text": entry.text, "session": entry.session},
            explanation=f"At session {entry.session} the client answered “{question}”"))
    return found


def _portal_feedback(data: CaseData) -> list[Found]:
    # What a client wrote in the client portal: the same kind of item as an open answer,
    # without a session (one signal per message).
    return [Found(case_id=entry.case_id, session_id=None, type="client_feedback",
                  subject=f"portal:{entry.feedback_id}", rule="portal_message", parameters={},
                  data={"text": entry.text, "written_on": entry.written_on.isoformat()},
                  explanation=f"On {localtime.format_date(entry.written_on)} the client "
                              "wrote to you in the client portal.")
            for entry in data.portal_feedback]


def detect(data: CaseData, plan: Plan, *, reference: pd.DataFrame | None = None,
           expected=None, as_of=None, open_cases=()) -> list[Found]:
    """Every signal of the cases in `data`, through `alliance.core.signals.detect_signals`.

    - ruptures on the alliance total and each subscale, each with its own pooled SD;
    - low alliance against the instrument's cutoff, or the clinic percentile at the same
      session number, with `reference` (the clinic's other cases' scores) in the group;
    - discrepancy and not on track (with `expected`, the clinic's fitted model);
    - disengagement: missed sessions and long gaps on every scheduled session; unanswered
      check-ins only over sessions whose check-in was sent and is no longer waiting (a
      session without a check-in, or with a link still valid, is not "unanswered");
      with `as_of` (today), also a gap still open then, for the `open_cases` (the active
      ones: an ended case has no next session to wait for);
    - client feedback from open-text answers and from messages left in the client portal.
    """
    frame = data.frame
    if frame.empty:
        return _portal_feedback(data)
    s = plan.settings
    found: list[Found] = []
    if plan.ruptures_possible:
        ruptures: list[Found] = []
        for column in plan.rupture_columns:
            if frame[column].notna().sum() < 2:
                continue
            settings = replace(s, score=column, pooled_sd=plan.pooled[column]["pooled_sd"])
            ruptures += [found_signal(x, data, plan, column)
                         for x in detect_signals(frame, settings, types=["rupture"])]
        found += _one_rupture_per_session(ruptures)
    found += [found_signal(x, data, plan) for x in
              detect_signals(frame, s, types=["discrepancy", "not_on_track"], expected=expected)]
    found += _low_alliance(data, plan, reference)
    # Missed sessions and gaps: without the score column, so no "unanswered" rule here.
    found += [found_signal(x, data, plan) for x in
              detect_signals(frame.drop(columns=[s.score]), s, types=["disengagement"])]
    waiting = (frame[frame["client_id"].isin([str(c) for c in open_cases])]
               if as_of is not None else None)
    if waiting is not None and len(waiting):
        found += [found_signal(x, data, plan) for x in
                  detect_signals(waiting.drop(columns=[s.score]), s, types=["disengagement"],
                                 as_of=as_of)
                  if x.session is None]
    decided = np.isin(np.asarray(data.checkin, dtype=object), [ANSWERED, UNANSWERED])
    if decided.any():
        sent = frame.loc[decided, ["client_id", "session", "attended"]].copy()
        sent["checkin"] = np.where(np.asarray(data.checkin, dtype=object)[decided] == ANSWERED,
                                   1.0, np.nan)
        found += [found_signal(x, data, plan) for x in
                  detect_signals(sent, replace(s, score="checkin"), types=["disengagement"])
                  if x.rule == "unanswered_in_a_row"]
    found = _mark_returns(found, data)
    found += _feedback(data)
    found += _portal_feedback(data)
    return found


def _mark_returns(found: list[Found], data: CaseData) -> list[Found]:
    """Mark the signs of drifting away that the data already show over: a long gap (found
    at the session that ended it, which the client attended), missed sessions followed by
    one attended, unanswered check-ins followed by one answered. Like a repaired rupture,
    they are shown, and no longer count as needing attention; a gap still open today, the
    latest sessions missed or check-ins unanswered do."""
    attended: dict[int, list[int]] = {}
    answered: dict[int, list[int]] = {}
    for (case_id, number, came), state in zip(
            data.frame[["client_id", "session", "attended"]].itertuples(index=False),
            data.checkin):
        if came:
            attended.setdefault(int(case_id), []).append(int(number))
        if state == ANSWERED:
            answered.setdefault(int(case_id), []).append(int(number))
    number_of = {session_id: number for (_, number), session_id in data.session_ids.items()}
    marked = []
    for f in found:
        number = number_of.get(f.session_id)
        if f.type == "disengagement" and number is not None:
            later = answered if f.rule == "unanswered_in_a_row" else attended
            returned = f.rule == "long_gap" or any(n > number for n in later.get(f.case_id, ()))
            if returned:
                f = replace(f, client_returned=True)
        marked.append(f)
    return marked


def _low_alliance(data: CaseData, plan: Plan, reference: pd.DataFrame | None) -> list[Found]:
    s = plan.settings
    frame = data.frame[["client_id", "session", "date", "alliance"]]
    if s.low_cutoff is None and reference is not None and len(reference):
        frame = pd.concat([frame, reference[["client_id", "session", "date", "alliance"]]],
                          ignore_index=True)
    ours = set(data.frame["client_id"])
    return [found_signal(x, data, plan) for x in detect_signals(frame, s, types=["low_alliance"])
            if x.client_id in ours]

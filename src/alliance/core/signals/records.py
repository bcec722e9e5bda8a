"""The signal record every detector returns, and the wording of its explanation."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Stable identifiers of the signal types, in the order reports list them.
SIGNAL_TYPES = (
    "rupture",
    "low_alliance",
    "discrepancy",
    "not_on_track",
    "disengagement",
    "goal_not_agreed",
    "goal_ratings_apart",
    "goal_review_overdue",
    "goal_progress_flat",
    "task_not_done",
    "task_unhelpful",
)


@dataclass(frozen=True)
class Signal:
    """Something in a case that needs attention, and why.

    Attributes
    ----------
    type : one of `SIGNAL_TYPES`.
    client_id : the client the signal is about.
    session : the session at which it fired (None when it is not tied to one).
    rule : the rule that fired, e.g. "sd2", "percentile", "missed_in_a_row".
    parameters : the settings the rule used.
    data : the values that fired it.
    explanation : one plain-language sentence for the therapist.
    """

    type: str
    client_id: Any
    session: int | float | None
    rule: str
    parameters: Mapping[str, Any]
    data: Mapping[str, Any]
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "client_id": plain(self.client_id),
                "session": plain(self.session), "rule": self.rule,
                "parameters": {k: plain(v) for k, v in self.parameters.items()},
                "data": {k: plain(v) for k, v in self.data.items()},
                "explanation": self.explanation}


def signals_frame(signals: Iterable[Signal]) -> pd.DataFrame:
    """Signals as a DataFrame with one row per signal and the fields as columns."""
    columns = ["type", "client_id", "session", "rule", "parameters", "data", "explanation"]
    return pd.DataFrame([s.to_dict() for s in signals], columns=columns)


def sort_signals(signals: Iterable[Signal], clients: Iterable[Any] = ()) -> list[Signal]:
    """Order signals by client (in the order of ``clients``, then as first seen), session, type."""
    signals = list(signals)
    first_seen: dict[Any, int] = {}
    for c in clients:
        first_seen.setdefault(plain(c), len(first_seen))
    for s in signals:
        first_seen.setdefault(s.client_id, len(first_seen))
    rank = {t: i for i, t in enumerate(SIGNAL_TYPES)}

    def key(s: Signal):
        session = s.session if s.session is not None else math.inf
        return first_seen[s.client_id], session, rank.get(s.type, len(rank))

    return sorted(signals, key=key)


def plain(value: Any) -> Any:
    """A JSON-ready Python value: numpy scalars unwrapped, NaN and NA become None."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return value


def number(value: float) -> str:
    """A score as every page, report and sentence shows it: one decimal (8.0, 5.7).

    The one formatting of scores on 0–10 scales (and of other outcome scores), so that a
    rating reads the same on the case page, the session page, a PDF and a signal."""
    # Halves round up, as people round (3.25 → 3.3), from the shortest decimal that
    # writes the float, not from its binary expansion.
    text = str(Decimal(repr(float(value))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return "0.0" if text == "-0.0" else text


def bound_text(bound: float, value: float | None = None) -> str:
    """An end of a range or a threshold, to one decimal, never on the wrong side of `value`.

    Rounded as `number` rounds, unless that would print a value below the bound as equal
    to or above it (the sentence "6.0, below the range of 6.0–9.7"): then the bound is
    rounded outward, away from the value (up when the value lies below it, down when
    above), and moved one more tenth where the value's own rounding still meets it.
    """
    bound = float(bound)
    shown = float(number(bound))
    if value is None or float(value) == bound:
        return number(bound)
    value = float(value)
    value_shown = float(number(value))
    if value < bound and not value_shown < shown:
        shown = max(math.ceil(round(bound * 10, 6)) / 10, value_shown + 0.1)
    elif value > bound and not value_shown > shown:
        shown = min(math.floor(round(bound * 10, 6)) / 10, value_shown - 0.1)
    return number(shown)


def rating_text(value: float) -> str:
    """A rating given on a whole-number scale (a goal's progress 0–10): 8, not 8.0.

    Whole numbers are written without decimals; anything else as `number` writes it.
    Scores that are means of several items keep `number`'s one decimal (5.0).
    """
    value = float(value)
    return str(int(value)) if value.is_integer() else number(value)


def label(column: str) -> str:
    """A readable name for a score column: "therapist_alliance" → "Therapist alliance"."""
    text = str(column).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def session_value(session: Any) -> int | float | None:
    """A session number as a plain int when it is whole (3.0 → 3)."""
    if type(session) is int:
        return session
    session = plain(session)
    if isinstance(session, float) and session.is_integer():
        return int(session)
    return session


def session_list(sessions) -> list:
    """Session numbers as a list of plain values (ints when whole)."""
    sessions = np.asarray(sessions, dtype=float)
    if np.array_equal(sessions, np.floor(sessions)):
        return sessions.astype(np.int64).tolist()
    return [session_value(s) for s in sessions.tolist()]


def rows_of(rows, codes, labels, sessions) -> tuple[list, list]:
    """Client identifiers and session numbers of the given rows, as plain Python lists."""
    ids = np.asarray(labels, dtype=object)[codes[rows]].tolist()
    return [plain(c) for c in ids], session_list(sessions[rows])


def session_text(session: Any) -> str:
    return f"session {session_value(session)}"

"""How much attention a case needs: the order of the caseload.

A case's level is that of its most important signal needing attention (open: nobody has
acknowledged, resolved or dismissed it; of a kind the clinic counts; and for a rupture,
not already repaired by the client's later ratings; `Signal.objects.for_attention(clinic)`),
from most to least urgent:

0. a risk answer without a recorded response (always first, whatever the clinic chose);
1. a rupture that was not repaired within the repair window (unresolved);
2. a possible rupture whose repair window is still open (pending);
3. not on track: wellbeing outside the range expected for similar clients;
4. a low alliance rating;
5. client and therapist see the alliance differently (discrepancy, when the clinic counts it);
6. signs of disengagement (missed sessions or check-ins, a long gap);
7. anything else the clinic counts: goals, tasks, client comments;
8. nothing needing attention.

Ties are broken by the most recent session (the case seen most recently first), then by
the client code, so the order is stable from one visit to the next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    rank: int
    key: str
    label: str  # a short, plain phrase for the caseload


LEVELS = (
    Level(-1, "risk", "Urgent: a risk answer to review"),
    Level(0, "unresolved_rupture", "Rupture not yet repaired"),
    Level(1, "open_rupture", "Possible rupture"),
    Level(2, "not_on_track", "Progress slower than expected"),
    Level(3, "low_alliance", "Lower alliance rating"),
    Level(4, "discrepancy", "Client and therapist see it differently"),
    Level(5, "disengagement", "Signs of drifting away"),
    Level(6, "other", "Something to look at"),
    Level(7, "none", "Nothing needs attention"),
)
_BY_KEY = {level.key: level for level in LEVELS}
NONE = _BY_KEY["none"]


def signal_level(signal) -> Level:
    """The attention level of one signal (a `monitoring.Signal` or anything alike)."""
    if signal.type == "rupture":
        repair = getattr(signal, "repair_state", "") or ""
        return _BY_KEY["unresolved_rupture" if repair == "unresolved" else "open_rupture"]
    return _BY_KEY.get(signal.type, _BY_KEY["other"])


def needs_attention(signal) -> bool:
    flag = getattr(signal, "needs_attention", None)
    if flag is not None:
        return bool(flag)
    return signal.state == "open" and not (signal.type == "rupture"
                                           and getattr(signal, "repair_state", "") == "repaired")


def headline(signal) -> str:
    """The signal's attention label, e.g. "Rupture not yet repaired"."""
    level = signal_level(signal)
    if level.key == "other":
        display = getattr(signal, "get_type_display", None)
        return display() if display else level.label
    return level.label


def detail(signal) -> str:
    """Which part of the alliance and which session, e.g. "bond, session 6"."""
    parts = []
    subject = getattr(signal, "subject", "") or ""
    if signal.type in ("rupture", "low_alliance") and subject in ("bond", "goals", "tasks"):
        parts.append(subject)
    session = getattr(signal, "session", None)
    if session is not None:
        parts.append(f"session {session.number}")
    return ", ".join(parts)


def short_text(signal) -> str:
    """A few words about a signal for the caseload, e.g. "Possible rupture (bond), session 6"."""
    text = headline(signal)
    subject = getattr(signal, "subject", "") or ""
    if signal.type in ("rupture", "low_alliance") and subject in ("bond", "goals", "tasks"):
        text += f" ({subject})"
    session = getattr(signal, "session", None)
    if session is not None:
        text += f", session {session.number}"
    return text


def most_important(signals: Iterable) -> list:
    """Signals needing attention, most important first, then the latest session first."""
    def key(signal):
        session = getattr(signal, "session", None)
        return signal_level(signal).rank, -(session.number if session is not None else 0)

    return sorted((s for s in signals if needs_attention(s)), key=key)


def case_level(signals: Iterable) -> Level:
    ranked = most_important(signals)
    return signal_level(ranked[0]) if ranked else NONE


def attention_key(level: Level, last_session: dt.date | None, code: str) -> tuple:
    """Sort key of a caseload row: level, then the most recent session first, then code."""
    recent = -(last_session.toordinal()) if last_session else 0
    return (level.rank, recent, code)

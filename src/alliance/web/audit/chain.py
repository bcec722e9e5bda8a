"""Checking the audit trail's hash chain: which event was altered, which are missing.

Each event's hash covers its content, its id and the previous event's hash, and ids are
consecutive. So an altered event no longer matches its hash (or, with its hash recomputed,
the next event's link to it); a deleted event leaves a gap in the ids; a rewritten tail is
caught by comparing the last hash with one written down earlier (an anchor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from alliance.web.audit.models import GENESIS_HASH, Event


@dataclass(frozen=True)
class Problem:
    event_id: int
    at: datetime | None
    what: str

    def __str__(self) -> str:
        when = self.at.isoformat(timespec="seconds") if self.at else "unknown time"
        return f"event {self.event_id} ({when}): {self.what}"


@dataclass
class Report:
    count: int = 0
    last: Event | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def verify(events=None, *, anchor: tuple[int, str] | None = None) -> Report:
    """Walk the events in id order; `anchor` (id, hash) must still be in the chain."""
    if events is None:
        events = Event.objects.order_by("id").iterator(chunk_size=2000)
    report = Report()
    previous_id, previous_hash = 0, GENESIS_HASH
    anchor_seen = False
    for event in events:
        report.count += 1
        if event.id != previous_id + 1:
            missing = (f"event {previous_id + 1} is" if event.id == previous_id + 2 else
                       f"events {previous_id + 1}–{event.id - 1} are")
            report.problems.append(Problem(event.id, event.at,
                                           f"{missing} missing (deleted) before it"))
        elif event.prev_hash != previous_hash:
            report.problems.append(Problem(
                event.id, event.at, f"does not link to event {previous_id}: that event was "
                                    "altered and its hash recomputed, or replaced"))
        if event.hash != event.compute_hash():
            report.problems.append(Problem(event.id, event.at,
                                           "its content was altered (the hash does not match)"))
        if anchor and event.id == anchor[0]:
            anchor_seen = True
            if event.hash != anchor[1]:
                report.problems.append(Problem(
                    event.id, event.at, "its hash is not the one written down (the anchor): "
                                        "the trail up to here was rewritten"))
        previous_id, previous_hash = event.id, event.hash
        report.last = event
    if anchor and not anchor_seen:
        report.problems.append(Problem(anchor[0], None, "the anchored event is gone: the trail "
                                                        "was cut short or rewritten"))
    return report

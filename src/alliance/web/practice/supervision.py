"""What the supervision page adds for each supervisee: their practice focus, and the cases
to bring to supervision, suggested by rule, each with its reason.

The rules (any one suggests the case):
- a rupture whose repair window passed without the client's rating coming back
  (unresolved, not dismissed);
- not on track: the outcome outside the expected range, not resolved or dismissed;
- a large discrepancy: the therapist's rating of the alliance above the client's by more
  than the clinic's threshold, not resolved or dismissed.
The signals are those the clinic's current rules produce (``is_current``). One query for
all supervisees' cases, one for their foci.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from alliance.web.monitoring.models import Signal
from alliance.web.practice.models import PracticeFocus

RULES = {
    Signal.Type.RUPTURE: "A rupture at session {session} was not repaired within the window",
    Signal.Type.NOT_ON_TRACK: "Progress slower than expected at session {session}",
    Signal.Type.DISCREPANCY: "The therapist rated the alliance well above the client at "
                             "session {session}",
}


@dataclass
class ToBring:
    case: object
    reasons: list[str] = field(default_factory=list)


def cases_to_bring(cases) -> dict[int, list[ToBring]]:
    """Therapist id → the cases to bring, most reasons first (then by client code)."""
    by_case = {case.pk: case for case in cases}
    rows = (Signal.objects
            .filter(case_id__in=list(by_case), is_current=True, type__in=list(RULES))
            .exclude(state__in=[Signal.State.DISMISSED, Signal.State.RESOLVED])
            .values_list("case_id", "type", "repair_state", "session__number")
            .order_by("case_id", "type", "-session__number"))
    found: dict[int, dict[str, int | None]] = {}
    for case_id, kind, repair_state, number in rows:
        if kind == Signal.Type.RUPTURE and repair_state != Signal.RepairState.UNRESOLVED:
            continue
        # The latest session of each kind is the reason given (ordered above).
        found.setdefault(case_id, {}).setdefault(kind, number)
    out: dict[int, list[ToBring]] = {}
    for case_id, kinds in found.items():
        case = by_case[case_id]
        reasons = [RULES[kind].format(session=number if number is not None else "—")
                   for kind, number in sorted(kinds.items(), key=lambda k: list(RULES).index(
                       k[0]))]
        out.setdefault(case.therapist_id, []).append(ToBring(case, reasons))
    for items in out.values():
        items.sort(key=lambda item: (-len(item.reasons), item.case.client.code))
    return out


def current_foci(therapist_ids) -> dict[int, PracticeFocus]:
    return {focus.therapist_id: focus for focus in
            PracticeFocus.objects.filter(therapist_id__in=list(therapist_ids),
                                         ended_on__isnull=True)}


def add_practice(rows: list[dict]) -> None:
    """Add ``focus`` and ``to_bring`` to each supervisee's row of the supervision page."""
    foci = current_foci(row["therapist"].pk for row in rows)
    to_bring = cases_to_bring([case for row in rows for case in row["cases"]])
    for row in rows:
        row["focus"] = foci.get(row["therapist"].pk)
        row["to_bring"] = to_bring.get(row["therapist"].pk, [])

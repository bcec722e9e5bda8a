"""When things happen: which sessions a questionnaire is asked at, and quiet hours.

Plain functions of their arguments (no database), so the rules are easy to test, daylight
saving changes included.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def asked_at(rule: dict | None, attended: int, *, last: bool = False) -> bool:
    """Whether a questionnaire with this schedule `rule` is asked at the `attended`-th
    attended session (1, 2, …); `last` when that session ends the case.

    `rule` is ``{"every": n, "first": bool, "last": bool}``: every n-th attended session
    counting from the first (n = 0: not periodically), the first one, the last one.
    No rule: every session.
    """
    if rule is None:
        return True
    every = int(rule.get("every") or 0)
    if every and (attended - 1) % every == 0:
        return True
    if rule.get("first") and attended == 1:
        return True
    return bool(rule.get("last") and last)


def describe(rule: dict | None) -> str:
    """The rule in words ("every 2nd session and the last")."""
    if rule is None:
        return "every session"
    every = int(rule.get("every") or 0)
    parts = []
    if every == 1:
        parts.append("every session")
    elif every > 1:
        parts.append(f"every {_ordinal(every)} session")
    if rule.get("first") and every != 1:
        parts.append("the first session")
    if rule.get("last") and every != 1:
        parts.append("the last session")
    if not parts:
        return "never"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def in_quiet_hours(local: dt.time, quiet: tuple[dt.time, dt.time]) -> bool:
    start, end = quiet
    if start < end:  # e.g. 13:00–14:00
        return start <= local < end
    return local >= start or local < end  # across midnight, e.g. 21:00–08:00


def outside_quiet_hours(when: dt.datetime, zone: str,
                        quiet: tuple[dt.time, dt.time] | None) -> dt.datetime:
    """`when` (aware), or the end of the quiet hours it falls in, in the time zone `zone`.

    The end is the wall-clock time `quiet[1]` of that local day (or the next), so a
    daylight-saving change in between moves it by the change, as a person expects.
    """
    if quiet is None:
        return when
    tz = ZoneInfo(zone)
    local = when.astimezone(tz)
    if not in_quiet_hours(local.time(), quiet):
        return when
    end = quiet[1]
    day = local.date()
    if local.time() >= end:  # the quiet hours began this evening: they end tomorrow
        day += dt.timedelta(days=1)
    wall = dt.datetime.combine(day, end)
    # A wall-clock time skipped by a spring-forward change is read with the offset before it
    # and so lands just after the gap; the round trip through UTC normalises it.
    return wall.replace(tzinfo=tz).astimezone(dt.timezone.utc)

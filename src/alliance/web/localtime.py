"""Dates and times as the clinic reads them: one way of writing them everywhere.

Every moment is stored in UTC. What people read — pages, e-mails, PDFs — shows it in the
clinic's time zone (`Clinic.time_zone`) in one style: "Mon 7 Dec 2026, 14:05" for a moment,
"7 Dec 2026" for a day. Machine-readable exports (CSV, JSON, FHIR) write ISO 8601 with the
clinic's UTC offset ("2026-12-07T14:05:00-05:00"), so the same instant reads the same way
there and on the page.

In a language other than English (a client's page or e-mail) the same styles follow that
language's own conventions, Django's formats for it: "7 décembre 2026, 14:05" in French,
"7. Dezember 2026 14:05" in German. English keeps the house styles.

Every function takes the clinic (anything with a `time_zone` name) and an optional `tz`
that overrides it (an IANA name or a tzinfo, e.g. a client's own zone). With neither, the
active time zone is used: for a request, the clinic's (`alliance.web.clinics.middleware`).
Nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import functools
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils import dateformat, formats, timezone, translation

#: The house styles, as Django date formats. "date" and "datetime" are the usual ones.
STYLES = {
    "date": "j M Y",              # 7 Dec 2026
    "weekday": "D j M Y",         # Mon 7 Dec 2026
    "short": "j M",               # 7 Dec
    "long": "l j F Y",            # Monday 7 December 2026
    "time": "H:i",                # 14:05
    "datetime": "D j M Y, H:i",   # Mon 7 Dec 2026, 14:05
    "seconds": "D j M Y, H:i:s",  # Mon 7 Dec 2026, 14:05:09 (the audit trail)
}


#: The styles in another language: Django's named formats of that language.
LOCALE_FORMATS = {
    "date": "DATE_FORMAT",
    "weekday": "DATE_FORMAT",
    "short": "MONTH_DAY_FORMAT",
    "long": "DATE_FORMAT",
    "time": "TIME_FORMAT",
    "datetime": "DATETIME_FORMAT",
    "seconds": "DATETIME_FORMAT",
}


class UnknownTimeZone(ValueError):
    """A name that is not an IANA time zone."""


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_names() -> list[str]:
    """Every IANA time zone name known here (from the tzdata package if the system has
    none), sorted; the choices of the clinic settings page."""
    return sorted(_known())


def zone_named(name: str) -> ZoneInfo:
    """The time zone of an IANA name such as "America/New_York"; UnknownTimeZone otherwise.
    For checking what a person typed: only the names of `zone_names()` pass."""
    # Names of the zone database only: ZoneInfo alone would also open some paths and files.
    if name not in _known():
        raise UnknownTimeZone(f"{name!r} is not a time zone name; use an IANA name such as "
                              "Europe/London or America/New_York")
    return _open(name)


def _open(name: str) -> ZoneInfo:
    # ZoneInfo keeps every zone it opened: a request pays for this once per process.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimeZone(f"{name!r} is not a time zone name") from None


def zone(clinic=None, tz=None) -> dt.tzinfo:
    """The zone to show times in: `tz` if given, else the clinic's, else the active one."""
    if tz is not None:
        return tz if isinstance(tz, dt.tzinfo) else _open(tz)
    name = getattr(clinic, "time_zone", None)
    if name:
        return _open(name)
    return timezone.get_current_timezone()


def local(value: dt.datetime, clinic=None, tz=None) -> dt.datetime:
    """The stored (aware) moment as a time in the clinic's zone."""
    return timezone.localtime(value, zone(clinic, tz))


def today(clinic=None, tz=None, *, now: dt.datetime | None = None) -> dt.date:
    """Today's date where the clinic is (a session recorded at 00:30 there is today's)."""
    return local(now or timezone.now(), clinic, tz).date()


def at(day: dt.date, hour: int, minute: int = 0, clinic=None, tz=None) -> dt.datetime:
    """The moment of a wall-clock time on a day where the clinic is."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone(clinic, tz))


def _format(value, style: str, clinic, tz) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        value = local(value, clinic, tz)
    elif type(value) is dt.date:
        # A day reads the same in every zone, and a clinic's pages show the same few hundred
        # days again and again (a long case's page writes 200): each is written once.
        return _format_day(value, style, translation.get_language())
    return _written(value, style, translation.get_language())


@functools.lru_cache(maxsize=4096)
def _format_day(value: dt.date, style: str, language: str | None) -> str:
    return _written(value, style, language)


def _written(value, style: str, language: str | None) -> str:
    if language and language.split("-")[0] != "en":
        if style == "seconds":
            return formats.date_format(value, "DATETIME_FORMAT") + dateformat.format(value, ":s")
        return formats.date_format(value, LOCALE_FORMATS[style])
    return dateformat.format(value, STYLES[style])


def format_date(value, clinic=None, tz=None, *, style: str = "date") -> str:
    """A day, "7 Dec 2026" (or another style of STYLES); a moment is first made local, so
    it is the clinic's day. None gives ""."""
    return _format(value, style, clinic, tz)


def format_datetime(value, clinic=None, tz=None, *, seconds: bool = False) -> str:
    """A moment in the clinic's zone, "Mon 7 Dec 2026, 14:05". None gives ""."""
    return _format(value, "seconds" if seconds else "datetime", clinic, tz)


def format_time(value, clinic=None, tz=None) -> str:
    """The clock time of a moment in the clinic's zone, "14:05"."""
    return _format(value, "time", clinic, tz)


def isoformat(value, clinic=None, tz=None) -> str | None:
    """ISO 8601 for exports: a moment with the clinic's UTC offset
    ("2026-12-07T14:05:00-05:00"), a day as "2026-12-07"; None stays None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return local(value, clinic, tz).isoformat()
    return value.isoformat()


def activate(clinic=None, tz=None) -> None:
    """Make the clinic's zone the active one for the rest of this request or command."""
    timezone.activate(zone(clinic, tz))


@contextmanager
def activated(clinic=None, tz=None):
    """The clinic's zone active within the block (and the previous one after it)."""
    with timezone.override(zone(clinic, tz)):
        yield

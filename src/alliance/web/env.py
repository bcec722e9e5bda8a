"""Strict reading of settings from environment variables.

A typo in a deployment's environment should stop the server at start-up with a
message naming the variable, not silently fall back to a default: "ALLIANCE_DEBUG=ture"
must not mean "debug off" on one machine and "debug on" on another.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from zoneinfo import available_timezones

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str, environ: Mapping[str, str] | None) -> str | None:
    value = (os.environ if environ is None else environ).get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str | None = None, *,
            environ: Mapping[str, str] | None = None) -> str | None:
    """A text value; blank counts as unset."""
    value = _raw(name, environ)
    return default if value is None else value


def env_bool(name: str, default: bool, *, environ: Mapping[str, str] | None = None) -> bool:
    """A yes/no value: 1/0, true/false, yes/no, on/off (any case); anything else is an error."""
    value = _raw(name, environ)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a yes/no value; use one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None,
            maximum: int | None = None, environ: Mapping[str, str] | None = None) -> int:
    """A whole number, optionally within [minimum, maximum]."""
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value, 10)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum of {maximum}")
    return number


def env_choice(name: str, default: str, choices: list[str], *,
               environ: Mapping[str, str] | None = None) -> str:
    """One of a fixed set of words (compared without regard to case)."""
    value = _raw(name, environ)
    if value is None:
        return default
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}")


def env_list(name: str, default: list[str], *,
             environ: Mapping[str, str] | None = None) -> list[str]:
    """A comma-separated list; empty entries are dropped."""
    value = _raw(name, environ)
    if value is None:
        return list(default)
    return [part.strip() for part in value.split(",") if part.strip()]


def env_time_zone(name: str, default: str, *,
                  environ: Mapping[str, str] | None = None) -> str:
    """An IANA time zone name such as Europe/London (the tzdata package supplies them)."""
    value = _raw(name, environ)
    if value is None:
        return default
    if value not in available_timezones():
        raise ImproperlyConfigured(f"{name}={value!r} is not a time zone name; use an IANA "
                                   "name such as Europe/London or America/New_York")
    return value

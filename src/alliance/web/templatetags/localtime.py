"""The template side of `alliance.web.localtime`, built into every template.

    {{ session.date|local_date }}               7 Dec 2026
    {{ session.date|local_date:"weekday" }}     Mon 7 Dec 2026 (any style of localtime.STYLES)
    {{ form.submitted_at|local_datetime }}      Mon 7 Dec 2026, 14:05
    {{ event.at|local_datetime:"seconds" }}     Mon 7 Dec 2026, 14:05:09
    {{ link.expires_at|local_time }}            14:05

Moments are shown in the active time zone: the clinic's, for a request.
"""

from __future__ import annotations

from django import template

from alliance.web import localtime

register = template.Library()


def _shown(format_value, value, **options) -> str:
    # Like Django's |date: a value that is not a date shows as nothing, not as an error page.
    try:
        return format_value(value, **options)
    except (AttributeError, TypeError, ValueError):
        return ""


@register.filter
def local_date(value, style: str = "date") -> str:
    return _shown(localtime.format_date, value, style=style)


@register.filter
def local_datetime(value, precision: str = "") -> str:
    return _shown(localtime.format_datetime, value, seconds=precision == "seconds")


@register.filter
def local_time(value) -> str:
    return _shown(localtime.format_time, value)

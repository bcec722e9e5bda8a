"""Template filters for the caseload and case page."""

from django import template

from alliance.web.dashboards import text

register = template.Library()


@register.filter
def score(value):
    """A score to one decimal (8.0, 7.5, 5.7); "—" when there is none."""
    return text.score(value)


@register.filter
def range_bound(value, observed=None):
    """An end of the expected range, to one decimal, rounded away from the observed
    score; "—" when there is none."""
    return text.range_bound(value, observed)

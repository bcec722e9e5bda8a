"""Template filters for the caseload and case page."""

from django import template

from alliance.web.dashboards import text

register = template.Library()


@register.filter
def score(value):
    """A score as people write it (8, 7.5, 7.17); "—" when there is none."""
    return text.score(value)

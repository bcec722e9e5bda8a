"""Template filters for the caseload and case page."""

from django import template
from django.template.loader import render_to_string

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


@register.simple_tag(takes_context=True)
def form_tags(context, forms):
    """A session's forms as tags (`care/includes/session_forms.html`). Most sessions of a
    case share one of a few sets of forms: each set is drawn once a page, not once a row."""
    drawn = context.render_context.setdefault("session_forms", {})
    key = tuple(forms)
    if key not in drawn:
        drawn[key] = render_to_string("care/includes/session_forms.html", {"forms": forms})
    return drawn[key]

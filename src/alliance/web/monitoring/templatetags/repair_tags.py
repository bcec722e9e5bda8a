"""Template tags for the repair workflow: each include loads what it needs itself.

    {% load repair_tags %}
    {% attach_repair signals %}              gives every signal `.repair` (one query)
    {% rupture_history signals as ruptures %} the case's ruptures, oldest first
    {% repair_choices as choices %}          the choices of "Record what you did"
    {% signal_verbs as verbs %}              the signal actions' words (`actions.VERBS`)
"""

from __future__ import annotations

from django import template

from alliance.web.monitoring import actions, repair
from alliance.web.monitoring.models import RepairAction

register = template.Library()


@register.simple_tag
def attach_repair(signals) -> str:
    repair.attach_repair(signals or [])
    return ""


@register.simple_tag
def rupture_history(signals):
    return repair.history(signals or [])


@register.simple_tag
def repair_choices():
    return {"kinds": RepairAction.Kind.choices, "markers": RepairAction.ShowedAs.choices,
            "not_sure": RepairAction.ShowedAs.NOT_SURE}


@register.simple_tag
def signal_verbs():
    return actions.VERBS

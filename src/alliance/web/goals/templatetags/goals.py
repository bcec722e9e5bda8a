"""`{% case_goals %}`: the "Goals and tasks" section of the case page, loading its own data.

Needs `case`, `request` and `can_change` in the page's context; the data come through
`alliance.web.scoping` in a bounded number of queries (`goals.page`).
"""

from django import template

from alliance.web.goals.page import case_goals as load_case_goals

register = template.Library()


@register.inclusion_tag("goals/includes/case_goals.html", takes_context=True)
def case_goals(context):
    request = context["request"]
    case = context["case"]
    can_change = bool(context.get("can_change"))
    return {"goals": load_case_goals(request.user, case, can_change=can_change),
            "case": case, "request": request, "csrf_token": context.get("csrf_token"),
            "can_change": can_change}

"""`{% case_intake %}` (the case page's section beside the goals) and `{% intake_brief %}`
(lines in "For the next session" during the first sessions).

Need `case` in the page's context, a case the view already found in the user's scope. Both
read one summary, loaded once per page in three queries: the intake, the count of the case's
between-session tasks and the count of its sessions.
"""

from django import template

from alliance.web.goals.models import Goal, Task
from alliance.web.intake import services
from alliance.web.intake.models import Intake

register = template.Library()


def _load(case):
    cached = getattr(case, "_intake_page", None)
    if cached is None:
        intake = Intake.objects.filter(case=case).first()
        tasks = Task.objects.filter(goal__case=case, status=Task.Status.ACTIVE,
                                    goal__status__in=[Goal.Status.PROPOSED,
                                                      Goal.Status.AGREED]).count()
        early = case.sessions.count() <= services.BRIEF_SESSIONS
        cached = case._intake_page = (services.summary(case, intake, tasks=tasks), early)
    return cached


@register.inclusion_tag("intake/includes/case_intake.html", takes_context=True)
def case_intake(context):
    summary, early = _load(context["case"])
    return {"summary": summary, "early": early, "asked_until": services.ASK_UNTIL_SESSION}


@register.inclusion_tag("intake/includes/brief.html", takes_context=True)
def intake_brief(context):
    summary, early = _load(context["case"])
    return {"summary": summary, "early": early and context["case"].is_active}

"""The client-portal section of the staff case page: `{% client_portal case can_change %}`.

An inclusion tag that loads its own data (one query), so the case page view needs no
change.
"""

from django import template

from alliance.web.portal.models import ClientAccount

register = template.Library()


@register.inclusion_tag("portal/includes/case_portal.html", takes_context=True)
def client_portal(context, case, can_change=False):
    clinic = case.client.clinic
    account = (ClientAccount.objects.select_related("user").filter(client_id=case.client_id)
               .first())
    return {
        "case": case,
        "can_change": can_change and case.is_active,
        "portal_on": clinic.client_portal_enabled,
        "account": account,
        "has_email": bool(case.client.contact_email),
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }

from django import template

from alliance.web.outreach.models import Message

register = template.Library()


@register.inclusion_tag("outreach/includes/session_messages.html")
def session_messages(session):
    """What went out to the client about this session, and how it went."""
    return {"sent": Message.objects.filter(session=session).order_by("due_at", "pk")}

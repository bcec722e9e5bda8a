"""What the therapist does about the client portal from the case page.

POST only, CSRF-checked. Records come through `alliance.web.scoping`: only the case's own
therapist acts (a supervisor reading the case gets 403, anyone else 404).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from alliance.web import scoping
from alliance.web.access import staff_required
from alliance.web.audit.services import record
from alliance.web.errors import DomainError
from alliance.web.monitoring.actions import VERBS
from alliance.web.monitoring.models import Signal
from alliance.web.portal import services


def _case_page(case, anchor: str = "portal-heading"):
    return redirect(reverse("care:case", args=[case.pk]) + f"#{anchor}")


@staff_required
@require_POST
def invite(request, pk):
    case = scoping.get_case_or_404(request.user, pk, for_change=True)
    try:
        account = services.invite(case, by=request.staff,
                                  base_url=request.build_absolute_uri("/"))
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        record(request, "token_created", account, detail="portal invitation sent")
        messages.success(request, f"We sent an invitation to the client portal to "
                                  f"{case.client.contact_email}.")
    return _case_page(case)


@staff_required
@require_POST
def remove(request, pk):
    case = scoping.get_case_or_404(request.user, pk, for_change=True)
    try:
        account = services.remove_access(case, by=request.staff)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        record(request, "update", account, detail="portal access removed")
        messages.success(request, "The client can no longer sign in to the portal. What they "
                                  "wrote stays on record.")
    return _case_page(case)


@staff_required
@require_POST
def discussed(request, pk, signal_pk):
    """Mark the client's feedback (portal message or open check-in answer) as discussed."""
    case = scoping.get_case_or_404(request.user, pk, for_change=True)
    try:
        signal = case.signals.get(pk=signal_pk, type=Signal.Type.CLIENT_FEEDBACK)
    except (Signal.DoesNotExist, ValueError, TypeError):
        raise Http404("No such feedback.") from None
    signal.case = case
    try:
        services.mark_discussed(signal, by=request.staff)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{VERBS['mark_read'].done}.")
    return _case_page(case, f"signal-{signal.pk}")

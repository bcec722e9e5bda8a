"""The clinic administrator's view of the audit trail: their own clinic's events only."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from alliance.web.access import admin_required
from alliance.web.audit import words
from alliance.web.audit.forms import EventFilterForm
from alliance.web.audit.models import Event
from alliance.web.care.models import Client

PER_PAGE = 50

# What happened, in words.
ACTION_WORDS = {
    "read": "Viewed", "create": "Added", "update": "Changed", "delete": "Deleted",
    "export": "Exported", "erase": "Erased", "import": "Imported",
    "login": "Signed in", "login_failed": "Sign-in failed", "lockout": "Locked out",
    "logout": "Signed out", "session_expired": "Signed out (session expired)",
    "otp_verified": "Second factor accepted", "otp_failed": "Second factor refused",
    "otp_enrolled": "Second factor set up", "otp_reset": "Second factor reset",
    "password_changed": "Password changed",
    "password_reset_requested": "Password reset requested",
    "token_invalid": "Link or token refused", "token_created": "Link or token issued",
    "token_revoked": "Token revoked", "token_used": "Token used",
    "backup": "Backup made", "restore": "Backup restored",
}
OUTCOME_WORDS = {"success": "", "failure": "failed", "denied": "refused"}


@admin_required
def event_list(request):
    clinic = request.staff.clinic
    form = EventFilterForm(request.GET or None, clinic=clinic)
    events = Event.objects.filter(clinic_id=clinic.pk).order_by("-id")
    if form.is_bound:
        events = form.filter(events) if form.is_valid() else events.none()
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    names = words.people(rows, clinic)
    records = words.record_names(rows, clinic)
    codes = dict(Client.objects.filter(clinic=clinic, pk__in={r.client_id for r in rows})
                 .values_list("pk", "code"))
    for row in rows:
        row.who = words.who(row, names, codes)
        row.what = ACTION_WORDS.get(row.action, row.action)
        row.outcome_words = OUTCOME_WORDS.get(row.outcome, row.outcome)
        row.record_name = records.get((row.target_type, row.target_id), "")
        row.client_code = codes.get(row.client_id, "")
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/event_list.html", {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(),
    })

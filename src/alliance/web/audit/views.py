"""The clinic administrator's view of the audit trail: their own clinic's events only."""

from __future__ import annotations

import csv
import io

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone

from alliance.core.tables import neutralise_cell
from alliance.web.access import admin_required
from alliance.web.audit import words
from alliance.web.audit.forms import EventFilterForm
from alliance.web.audit.models import Event
from alliance.web.audit.services import record
from alliance.web.downloads import attachment

PER_PAGE = 50
#: Events described (names looked up) at a time when exporting.
EXPORT_CHUNK = 2000
EXPORT_COLUMNS = ("When (UTC)", "Who", "What", "Outcome", "Record", "Client", "Note",
                  "From address")


def _events(request):
    clinic = request.staff.clinic
    form = EventFilterForm(request.GET or None, clinic=clinic)
    events = Event.objects.filter(clinic_id=clinic.pk).order_by("-id")
    if form.is_bound:
        events = form.filter(events) if form.is_valid() else events.none()
    return form, events


@admin_required
def event_list(request):
    form, events = _events(request)
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    words.describe(rows, request.staff.clinic)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/event_list.html", {
        "form": form, "page": page, "rows": rows, "query": query.urlencode(),
    })


@admin_required
def event_export(request):
    """The events the page's filter shows, all pages, as CSV in the page's words.

    People and records are named as on the page; every cell that a spreadsheet could run
    as a formula (a sign-in e-mail someone typed, a note) is neutralised by the core's
    `neutralise_cell`, as in the research export.
    """
    form, events = _events(request)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    chunk = []

    def flush():
        words.describe(chunk, request.staff.clinic)
        writer.writerows([neutralise_cell(str(value)) for value in (
            row.at.isoformat(timespec="seconds"), row.who, row.what, row.outcome_words,
            row.record_name, row.client_code, row.detail, row.address or "")]
            for row in chunk)
        chunk.clear()

    for event in events.iterator(chunk_size=EXPORT_CHUNK):
        chunk.append(event)
        count += 1
        if len(chunk) == EXPORT_CHUNK:
            flush()
    flush()
    record(request, "export", detail=f"audit trail CSV: {count} events"
           + (f" ({request.GET.urlencode()[:200]})" if form.is_bound else ""))
    return attachment(out.getvalue().encode("utf-8"), "text/csv; charset=utf-8",
                      f"audit-{timezone.localdate():%Y-%m-%d}.csv")

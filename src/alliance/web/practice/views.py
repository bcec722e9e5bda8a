"""My practice (a therapist's own figures; their supervisor opens it for each supervisee),
the clinic's aggregates for administrators, and noting a practice focus.

Thin views: who may see whom is `services.practitioner_or_404` (404 out of scope, as the
scoping layer answers); the numbers are `figures` over `data`.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from alliance.web.access import admin_required, staff_required, treating_staff_required
from alliance.web.audit.services import record
from alliance.web.practice import data as practice_data
from alliance.web.practice import figures, services
from alliance.web.practice.forms import FocusForm, PeriodForm
from alliance.web.practice.models import PracticeFocus


#: The clinic-wide models take a few seconds; their results are kept until the data change
#: (the key holds `data.data_version`) or for this long at most.
CACHE_SECONDS = 15 * 60


def _cached(who: str, clinic, start, end, compute):
    version = hashlib.sha256(practice_data.data_version(clinic).encode()).hexdigest()[:16]
    key = f"practice:{clinic.pk}:{who}:{start:%Y%m%d}:{end:%Y%m%d}:{version}"
    sections = cache.get(key)
    if sections is None:
        sections = compute(practice_data.load(clinic, start, end))
        cache.set(key, sections, CACHE_SECONDS)
    return sections


@treating_staff_required
def mine(request):
    return _page(request, request.staff)


@staff_required
def therapist(request, pk):
    return _page(request, services.practitioner_or_404(request.staff, pk))


def _page(request, member, focus_form=None):
    period_form = PeriodForm(request.GET or None)
    start, end = period_form.period()
    sections = _cached(f"therapist:{member.pk}", member.clinic, start, end,
                       lambda loaded: figures.practice_sections(loaded, str(member.pk)))
    foci = list(member.practice_foci.all()[:10])
    current = next((f for f in foci if f.is_current), None)
    comparisons = []
    if current is not None:
        since = current.started_on - dt.timedelta(days=figures.BEFORE_DAYS)
        own = practice_data.load(member.clinic, since, dt.date.max, therapist_id=member.pk)
        comparisons = figures.focus_comparisons(own, current)
    record(request, "read", member, detail=f"practice page {start:%Y-%m-%d} to {end:%Y-%m-%d}")
    return render(request, "practice/practice.html", {
        "member": member, "own": member.pk == request.staff.pk, "period_form": period_form,
        "start": start, "end": end, "sections": sections, "current": current,
        "past": [f for f in foci if not f.is_current], "comparisons": comparisons,
        "focus_form": focus_form or FocusForm(),
    }, status=400 if focus_form is not None else 200)


@require_POST
@staff_required
def start_focus(request, pk):
    member = services.practitioner_or_404(request.staff, pk)
    form = FocusForm(request.POST)
    if form.is_valid():
        try:
            services.start_focus(request, member, by=request.staff, **form.cleaned_data)
        except services.FocusError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Practice focus noted. The figures before and after its "
                                      "start appear here as sessions come in.")
            return redirect("practice:therapist", pk=member.pk)
    return _page(request, member, focus_form=form)


@require_POST
@staff_required
def end_focus(request, pk, focus_pk):
    member = services.practitioner_or_404(request.staff, pk)
    focus = get_object_or_404(PracticeFocus, pk=focus_pk, therapist=member)
    try:
        services.end_focus(request, focus, by=request.staff)
    except services.FocusError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Practice focus ended.")
    return redirect("practice:therapist", pk=member.pk)


@admin_required
def clinic(request):
    """The clinic's aggregates: means and the spread between therapists, no one's figure."""
    period_form = PeriodForm(request.GET or None)
    start, end = period_form.period()
    sections = _cached("clinic", request.staff.clinic, start, end, figures.clinic_sections)
    record(request, "read", detail=f"clinic practice aggregates {start:%Y-%m-%d} to "
                                   f"{end:%Y-%m-%d}")
    return render(request, "practice/clinic.html", {
        "period_form": period_form, "start": start, "end": end,
        "sections": sections})

"""The clinic's safety settings (admins) and a risk alert with its response (the
therapist, their supervisors, the on-call staff)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render

from alliance.web import instruments
from alliance.web.access import admin_required, staff_required
from alliance.web.audit.services import record, record_change
from alliance.web.safety import services
from alliance.web.safety.forms import ResponseForm, SafetyForm
from alliance.web.safety.models import RiskAlert


@admin_required
def clinic_safety(request):
    clinic = request.staff.clinic
    form = SafetyForm(request.POST or None, instance=services.settings_for(clinic),
                      clinic=clinic)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            safety = form.save()
            record_change("update", safety, by=request.staff, detail="safety settings saved")
        messages.success(request, "Saved the safety settings.")
        return redirect("safety:clinic")
    return render(request, "safety/settings.html", {
        "form": form, "default_text": services.crisis_text(None),
        "question": instruments.form_spec(instruments.get_instrument(
            services.SAFETY_QUESTION)).items[0],
    }, status=400 if request.method == "POST" else 200)


@staff_required
def alert(request, pk):
    found = (RiskAlert.objects.select_related(
        "signal__case__client__clinic", "signal__case__therapist", "signal__session",
        "responded_by").filter(pk=pk, clinic=request.staff.clinic).first())
    if found is None or not services.may_respond(found, request.staff):
        raise Http404("No such alert.")
    form = ResponseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_response(found, by=request.staff,
                                     response=form.cleaned_data["response"],
                                     note=form.cleaned_data["note"])
        except services.SafetyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Recorded the response. Escalation has stopped.")
            return redirect("safety:alert", pk=found.pk)
    if request.method != "POST":
        record(request, "read", found.signal, detail="risk alert opened")
    return render(request, "safety/alert.html", {
        "alert": found, "signal": found.signal, "case": found.signal.case, "form": form,
        "client": found.signal.case.client,
    }, status=400 if request.method == "POST" else 200)

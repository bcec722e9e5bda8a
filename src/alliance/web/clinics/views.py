"""Clinic administration: staff accounts and clinic settings (administrators only)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from alliance.web import scoping
from alliance.web.access import admin_required
from alliance.web.audit.services import record
from alliance.web.care.models import Case
from alliance.web.clinics import checklist, services
from alliance.web.clinics.forms import ClinicSettingsForm, StaffCreateForm, StaffEditForm
from alliance.web.errors import DomainError


@admin_required
def staff_list(request):
    members = (scoping.staff_in_clinic(request.user).select_related("user")
               .prefetch_related("supervisees")
               .annotate(active_cases=Count("cases", filter=Q(cases__status=Case.Status.ACTIVE)))
               .order_by("-is_active", "display_name"))
    return render(request, "clinics/staff_list.html", {
        "members": members,
        "checklist": checklist.checklist(request.staff.clinic, request.staff)})


def _invitation_url(request, member) -> str:
    return request.build_absolute_uri(services.set_password_path(member.user))


@admin_required
def staff_create(request):
    form = StaffCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.add_staff(request.staff.clinic, email=form.cleaned_data["email"],
                                        display_name=form.cleaned_data["display_name"],
                                        role=form.cleaned_data["role"])
        except DomainError as exc:
            form.add_error("email", str(exc))
        else:
            record(request, "create", member, detail=f"staff member added as {member.role}")
            url = _invitation_url(request, member)
            if form.cleaned_data["send_email"]:
                services.send_invitation(member, url)
            # The link is shown once, on this response: it is not stored anywhere.
            return render(request, "clinics/staff_invited.html",
                          {"member": member, "url": url,
                           "emailed": form.cleaned_data["send_email"]})
    return render(request, "clinics/staff_create.html", {"form": form})


@admin_required
def staff_edit(request, pk):
    member = scoping.get_staff_member_or_404(request.user, pk)
    initial = {"role": member.role, "supervisees": list(member.supervisees.all())}
    form = StaffEditForm(request.POST or None, initial=initial, member=member)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_role(member, form.cleaned_data["role"], by=request.staff)
            services.set_supervisees(member, form.cleaned_data["supervisees"]
                                     if member.is_supervisor else [])
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            record(request, "update", member, detail=f"role {member.role}, supervisees saved")
            messages.success(request, f"Saved the changes for {member.display_name}.")
            return redirect("clinics:staff")
    return render(request, "clinics/staff_edit.html", {"member": member, "form": form})


@admin_required
@require_POST
def staff_invite(request, pk):
    member = scoping.get_staff_member_or_404(request.user, pk)
    url = _invitation_url(request, member)
    services.send_invitation(member, url)
    record(request, "token_created", member, detail="set-password link sent")
    return render(request, "clinics/staff_invited.html",
                  {"member": member, "url": url, "emailed": True})


@admin_required
@require_POST
def staff_deactivate(request, pk):
    member = scoping.get_staff_member_or_404(request.user, pk)
    try:
        services.deactivate(member, by=request.staff)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        record(request, "update", member, detail="deactivated")
        messages.success(request, f"{member.display_name} can no longer sign in.")
    return redirect("clinics:staff")


@admin_required
@require_POST
def staff_reactivate(request, pk):
    member = scoping.get_staff_member_or_404(request.user, pk)
    services.reactivate(member)
    record(request, "update", member, detail="reactivated")
    messages.success(request, f"{member.display_name} can sign in again.")
    return redirect("clinics:staff")


@admin_required
def clinic_settings(request):
    clinic = request.staff.clinic
    form = ClinicSettingsForm(request.POST or None, instance=clinic)
    if request.method == "POST" and form.is_valid():
        form.save()
        record(request, "update", clinic, detail="clinic settings: " +
               ", ".join(form.changed_data)[:400])
        messages.success(request, "Clinic settings saved.")
        return redirect("clinics:settings")
    return render(request, "clinics/settings.html", {"form": form, "clinic": clinic})

"""Pages of what goes out by itself: the measurement plan, a client's contact and plan,
the worklist and a staff member's notices."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone

from alliance.web import instruments, scoping
from alliance.web.access import admin_required, staff_required
from alliance.web.audit.services import record_change
from alliance.web.outreach import plans, services
from alliance.web.outreach.forms import ContactForm, MessagingForm, NoticeForm, OwnPlanForm, PlanForm
from alliance.web.outreach.models import MeasurementPlan, Message, NoticePreference
from alliance.web.outreach.timing import describe
from alliance.web.outreach.worklist import worklist_for


def _questionnaires(clinic):
    return instruments.administrable(clinic.instruments_in_use, "client")


@admin_required
def clinic_plan(request):
    clinic = request.staff.clinic
    plan = plans.clinic_plan(clinic)
    data = request.POST or None
    form = PlanForm(data, instance=plan, questionnaires=_questionnaires(clinic), prefix="plan")
    sending = MessagingForm(data, instance=plans.messaging(clinic), prefix="sending")
    if request.method == "POST" and form.is_valid() and sending.is_valid():
        with transaction.atomic():
            form.save()
            sending.save()
            record_change("update", plan, by=request.staff, detail="measurement plan saved")
        messages.success(request, "Saved the measurement plan.")
        return redirect("outreach:plan")
    return render(request, "outreach/plan.html", {"form": form, "sending": sending},
                  status=400 if request.method == "POST" else 200)


@staff_required
def case_outreach(request, pk):
    """How check-ins reach this client: contact details, and the case's plan."""
    case = scoping.get_case_or_404(request.user, pk, for_change=request.method == "POST")
    client = case.client
    own = MeasurementPlan.objects.filter(case=case).first()
    part = request.POST.get("part") if request.method == "POST" else None
    contact = ContactForm(request.POST if part == "contact" else None, instance=client,
                          prefix="contact")
    choice = OwnPlanForm(request.POST if part == "choice" else None,
                         initial={"own": "own" if own else "clinic"}, prefix="choice")
    shown = own or plans.clinic_plan(client.clinic)
    plan_form = PlanForm(request.POST if part == "plan" and own else None, instance=shown,
                         questionnaires=_questionnaires(client.clinic), prefix="plan")
    if part == "contact" and contact.is_valid():
        contact.save()
        record_change("update", client, by=request.staff, detail="contact details changed")
        messages.success(request, "Saved how check-ins reach the client.")
        return redirect("outreach:case", pk=case.pk)
    if part == "choice" and choice.is_valid():
        _choose_plan(case, own, choice.cleaned_data["own"], request.staff)
        return redirect("outreach:case", pk=case.pk)
    if part == "plan" and own and plan_form.is_valid():
        plan_form.save()
        record_change("update", own, by=request.staff, detail="the case's measurement plan saved")
        messages.success(request, "Saved this case's measurement plan.")
        return redirect("outreach:case", pk=case.pk)
    sent = (Message.objects.filter(case=case, kind__in=[Message.Kind.CHECKIN,
                                                        Message.Kind.REMINDER])
            .select_related("session")[:20])
    schedule = [(i, describe(shown.schedule.get(i.id))) for i in _questionnaires(client.clinic)]
    return render(request, "outreach/case.html", {
        "case": case, "contact": contact, "choice": choice, "plan_form": plan_form,
        "own": own, "plan": shown, "schedule": schedule, "sent": sent,
    }, status=400 if part else 200)


def _choose_plan(case, own, wants_own: bool, staff) -> None:
    if wants_own and own is None:
        base = plans.clinic_plan(case.client.clinic)
        base.pk, base.case = None, case
        base.save()
        record_change("create", base, by=staff, detail="a measurement plan of the case's own")
    elif not wants_own and own is not None:
        record_change("delete", own, by=staff, detail="the case follows the clinic's plan")
        own.delete()


@staff_required
def worklist(request):
    preference = services.preference(request.staff)
    now = timezone.now()
    work = worklist_for(request.staff, since=preference.worklist_seen_at, now=now)
    NoticePreference.objects.update_or_create(staff=request.staff,
                                              defaults={"worklist_seen_at": now})
    return render(request, "outreach/worklist.html", {"work": work})


@staff_required
def notices(request):
    preference = services.preference(request.staff)
    form = NoticeForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved which notices you receive.")
        return redirect("outreach:notices")
    return render(request, "outreach/notices.html", {"form": form},
                  status=400 if request.method == "POST" else 200)

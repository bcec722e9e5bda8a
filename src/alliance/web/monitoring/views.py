"""Acting on signals (acknowledge, dismiss with a reason, reopen, record a repair), the
supervisor overview and the clinic's signal report.

Thin views: records come through `alliance.web.scoping` (out of scope → 404); only the
case's own therapist changes its signals (a supervisor reads them: 403 on a change);
changes are POST only, with Django's CSRF check.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from alliance.web import scoping
from alliance.web.access import role_required, staff_required
from alliance.web.audit.services import record
from alliance.web.clinics.models import StaffMember
from alliance.web.flow import act, safe_next
from alliance.web.monitoring import repair as repair_reading
from alliance.web.monitoring import actions, overview
from alliance.web.monitoring.forms import DismissForm, RepairForm
from alliance.web.monitoring.models import Signal
from alliance.web.monitoring.prompts import REPAIRABLE
from alliance.web.practice.supervision import add_practice
from alliance.web.safety.services import open_alerts_for_supervisor


def _signal_for_change(request, pk, signal_pk) -> Signal:
    # Read the body first: one that cannot be decoded is refused (400) before anything
    # changes, not after (the "next" address is read once the change is made).
    request.POST.get("next")
    case = scoping.get_case_or_404(request.user, pk, for_change=True)
    try:
        signal = case.signals.select_related("session").get(pk=signal_pk)
    except (Signal.DoesNotExist, ValueError, TypeError):
        raise Http404("No such signal.") from None
    signal.case = case
    return signal


def _back_to(request, signal: Signal) -> str:
    target = safe_next(request) or reverse("care:case", args=[signal.case_id])
    return target.split("#")[0] + f"#signal-{signal.pk}"


def _back(request, signal: Signal):
    return redirect(_back_to(request, signal))


@staff_required
@require_POST
def acknowledge(request, pk, signal_pk):
    signal = _signal_for_change(request, pk, signal_pk)
    return act(request, lambda: actions.acknowledge(signal, by=request.staff),
               f"{actions.VERBS['acknowledge'].done}: {signal.get_type_display().lower()}.", _back_to(request, signal))


@staff_required
@require_POST
def dismiss(request, pk, signal_pk):
    signal = _signal_for_change(request, pk, signal_pk)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            actions.dismiss(signal, by=request.staff, reason=form.cleaned_data["reason"])
        except actions.SignalError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{actions.VERBS['dismiss'].done}: {signal.get_type_display().lower()}.")
            return _back(request, signal)
    # Without JavaScript the reason box is part of the case page; an empty reason comes
    # back here, on a page of its own, with the problem next to the box.
    return render(request, "monitoring/dismiss.html",
                  {"case": signal.case, "signal": signal, "form": form,
                   "next": request.POST.get("next", "")})


@staff_required
@require_POST
def reopen(request, pk, signal_pk):
    signal = _signal_for_change(request, pk, signal_pk)
    return act(request, lambda: actions.reopen(signal, by=request.staff),
               f"{actions.VERBS['reopen'].done}: {signal.get_type_display().lower()}.", _back_to(request, signal))


@staff_required
@require_POST
def repair(request, pk, signal_pk):
    """Record what the therapist did about a signal ("Record what you did" on the case page)."""
    signal = _signal_for_change(request, pk, signal_pk)
    form = RepairForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        session = None
        if data["session"] is not None:
            session = signal.case.sessions.filter(number=data["session"]).first()
            if session is None:
                form.add_error("session", f"This case has no session {data['session']}.")
        if not form.errors:
            try:
                actions.record_repair(signal, by=request.staff, kind=data["kind"],
                                       showed_as=data["showed_as"], note=data["note"],
                                       session=session)
            except actions.SignalError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{actions.VERBS['repair'].done}. The client's next check-ins "
                                          "will show whether the alliance recovers.")
                return _back(request, signal)
    # Without JavaScript the form is part of the case page; a problem comes back here, on a
    # page of its own, with the form as it was sent.
    return render(request, "monitoring/repair.html",
                  {"case": signal.case, "signal": repair_reading.attach_repair([signal])[0],
                   "form": form, "next": request.POST.get("next", "")})


@role_required(StaffMember.Role.ADMIN, StaffMember.Role.SUPERVISOR)
def report(request):
    """How often signals fire and how ruptures turn out: aggregates only."""
    return render(request, "monitoring/report.html",
                  {"report": repair_reading.clinic_report(request.staff),
                   "repairable": REPAIRABLE})


#: Above this many active cases across the supervisees, the supervision page shows each
#: supervisee's figures and opens one supervisee's cases at a time (`?therapist=`): a
#: table of every case of twenty therapists was most of a second to draw.
SUPERVISION_ALL_CASES = 150


@role_required(StaffMember.Role.SUPERVISOR)
def supervision(request):
    """Each supervisee's active cases, with what needs attention and unrepaired ruptures."""
    supervisor = request.staff
    supervisees = list(supervisor.supervisees.filter(clinic_id=supervisor.clinic_id,
                                                     is_active=True)
                       .order_by("display_name"))
    by_therapist = overview.supervisee_cases(request.user, supervisees, supervisor.clinic)
    total = sum(len(cases) for cases in by_therapist.values())
    summarised = total > SUPERVISION_ALL_CASES
    chosen = request.GET.get("therapist", "")
    rows = []
    for member in supervisees:
        member_cases = by_therapist[member.pk]
        rows.append({"therapist": member, "cases": member_cases,
                     "open": not summarised or chosen == str(member.pk),
                     "attention": sum(c.attention for c in member_cases),
                     "ruptures": sum(c.ruptures for c in member_cases),
                     "ruptures_acknowledged": sum(c.ruptures_acknowledged
                                                  for c in member_cases)})
    # The ruptures a supervisor follows, with what was done, for the cases shown.
    followed = repair_reading.supervision_ruptures(
        [c.pk for row in rows if row["open"] for c in row["cases"]])
    for row in rows:
        for case in row["cases"] if row["open"] else ():
            case.followed_ruptures = followed.get(case.pk, [])
        row["followed"] = [c for c in row["cases"] if row["open"] and c.followed_ruptures]
    # Each supervisee's open risk answers (no response recorded yet), first in their section.
    risks: dict[int, list] = {}
    for alert in open_alerts_for_supervisor(supervisor):
        risks.setdefault(alert.signal.case.therapist_id, []).append(alert)
    for row in rows:
        row["risks"] = risks.get(row["therapist"].pk, [])
    # Each supervisee's practice focus and the cases to bring (alliance.web.practice).
    add_practice(rows)
    # One event for the page (not one per case): whose overview, how many cases it showed.
    shown = sum(len(row["cases"]) for row in rows if row["open"])
    record(request, "read", supervisor, detail=f"supervision overview: {shown} cases")
    return render(request, "monitoring/supervision.html",
                  {"rows": rows, "summarised": summarised, "total": total})

"""Caseload, case and session pages for the staff who carry cases.

Every record is fetched through `alliance.web.scoping`; out-of-scope ids answer 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Max, Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from alliance.web import instruments, scoping
from alliance.web.access import staff_required, treating_staff_required
from alliance.web.care import services
from alliance.web.care.forms import EndCaseForm, NewClientForm, SessionForm
from alliance.web.care.models import Case
from alliance.web.checkins.models import Administration
from alliance.web.errors import DomainError


@treating_staff_required
def caseload(request):
    cases = (scoping.cases_for(request.user)
             .filter(status=Case.Status.ACTIVE)
             .select_related("client", "therapist")
             .annotate(session_count=Count("sessions"), last_session=Max("sessions__date"))
             .order_by("therapist__display_name", "client__code"))
    return render(request, "care/caseload.html", {
        "cases": cases,
        "shows_therapist": request.staff.is_supervisor,
    })


@treating_staff_required
def client_new(request):
    clinic = request.staff.clinic
    form = NewClientForm(request.POST or None,
                         initial={"code": services.suggest_client_code(clinic)})
    if request.method == "POST" and form.is_valid():
        try:
            case = services.admit_client(request.staff, **form.cleaned_data)
        except DomainError as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, f"Opened a case for {case.client.code}.")
            return redirect("care:case", pk=case.pk)
    return render(request, "care/client_new.html", {"form": form})


def _sessions_with_forms(case):
    """The case's sessions, newest first, each with its administrations (two queries)."""
    return (case.sessions.order_by("-number")
            .prefetch_related(Prefetch("administrations",
                                       queryset=Administration.objects.order_by("respondent"))))


@staff_required
def case_detail(request, pk):
    case = scoping.get_case_or_404(request.user, pk)
    sessions = list(_sessions_with_forms(case))
    feedback = [
        {"session": s, "answers": a.answers}
        for s in sessions for a in s.administrations.all()
        if a.is_submitted and a.respondent == "client" and a.answers and any(a.answers.values())
    ]
    return render(request, "care/case_detail.html", {
        "case": case,
        "sessions": sessions,
        "feedback": feedback,
        "session_form": SessionForm(),
        "end_form": EndCaseForm(),
        "can_change": case.therapist_id == request.staff.pk,
        # Charts and signals are added to this page as their own sections.
    })


@staff_required
def session_new(request, pk):
    case = scoping.get_case_or_404(request.user, pk, for_change=True)
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.record_session(case, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Recorded session {session.number}.")
            if session.attended:
                return redirect("care:session", pk=case.pk, number=session.number)
            return redirect("care:case", pk=case.pk)
    return render(request, "care/session_new.html", {"case": case, "form": form})


@staff_required
@require_POST
def case_end(request, pk):
    case = scoping.get_case_or_404(request.user, pk, for_change=True)
    form = EndCaseForm(request.POST)
    if form.is_valid():
        try:
            services.end_case(case, **form.cleaned_data)
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "The case is closed.")
    else:
        messages.error(request, "Please choose how the case ended and when.")
    return redirect("care:case", pk=case.pk)


@staff_required
def session_detail(request, pk, number):
    session = scoping.get_session_or_404(request.user, pk, number)
    case = session.case
    clinic = request.staff.clinic
    done = {(a.instrument_id, a.respondent): a for a in session.administrations.all()}

    def entries(respondent):
        for instrument in instruments.administrable(clinic.instruments_in_use, respondent):
            administration = done.get((instrument.id, respondent))
            yield {"instrument": instrument, "administration": administration,
                   "scores": instruments.score_rows(instrument, administration and
                                                    administration.scores)}

    client_forms = list(entries("client"))
    therapist_forms = list(entries("therapist"))
    return render(request, "care/session_detail.html", {
        "case": case,
        "session": session,
        "client_forms": client_forms,
        "therapist_forms": therapist_forms,
        "can_email": bool(case.client.contact_email),
        "can_change": case.therapist_id == request.staff.pk,
    })

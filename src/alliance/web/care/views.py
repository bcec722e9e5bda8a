"""Caseload, case and session pages for the staff who carry cases.

Every record is fetched through `alliance.web.scoping`; out-of-scope ids answer 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from alliance.web import instruments, scoping
from alliance.web.access import staff_required, treating_staff_required
from alliance.web.audit.services import record
from alliance.web.care import services
from alliance.web.care.forms import (CaseloadFilter, ClientNameForm, EndCaseForm, NewClientForm,
                                     SessionForm)
from alliance.web.care.models import Case
from alliance.web.dashboards import attention, brief, casepage, charts
from alliance.web.dashboards.caseload import add_trends, caseload_rows, filter_rows
from alliance.web.errors import DomainError
from alliance.web.goals import services as goal_services
from alliance.web.monitoring.actions import VERBS
from alliance.web.monitoring.models import Signal


#: Cases on one page of the caseload: the order, search and filters run over all of them.
CASELOAD_PAGE = 50


def _caseload_filter(request, rows) -> CaseloadFilter:
    staff = request.staff
    therapists = sorted({r.case.therapist for r in rows}, key=lambda t: t.display_name) \
        if staff.is_supervisor else ()
    data = request.GET.copy()
    data.pop("page", None)
    return CaseloadFilter(data or None, signal_types=Signal.Type.choices,
                          therapists=therapists)


@treating_staff_required
def caseload(request):
    all_rows = caseload_rows(request.user, request.staff.clinic, trends=False)
    form = _caseload_filter(request, all_rows)
    rows = all_rows
    if form.is_bound:
        rows = filter_rows(all_rows, **{
            "needs_attention" if k == "attention" else k: v
            for k, v in form.cleaned_data.items()}) if form.is_valid() else []
    page = Paginator(rows, CASELOAD_PAGE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    add_trends(shown, request.staff.clinic)
    query = request.GET.copy()
    query.pop("page", None)
    # One event for the page (not one per case): whose caseload, how many cases it showed.
    record(request, "read", request.staff, detail=f"caseload: {len(shown)} cases")
    return render(request, "care/caseload.html", {
        "rows": shown,
        "count": len(rows),
        "all_count": len(all_rows),
        "page": page,
        "query": query.urlencode(),
        "filter": form,
        "filtered": form.is_bound,
        "needing_attention": sum(1 for r in rows if r.signals),
        "shows_therapist": request.staff.is_supervisor,
        "levels": attention.LEVELS,
    })


@treating_staff_required
def how_it_works(request):
    """A short page for therapists: the week's rhythm, signals and their actions, in words."""
    return render(request, "care/how_it_works.html", {"verbs": VERBS.values()})


@treating_staff_required
def ended_cases(request):
    """The user's ended cases (closed or ended early), most recently ended first."""
    cases = list(scoping.cases_for(request.user).exclude(status=Case.Status.ACTIVE)
                 .select_related("client", "therapist").order_by("-end_date", "-pk"))
    needle = " ".join(request.GET.get("q", "").split()).casefold()[:120]
    if needle:
        cases = [c for c in cases if needle in c.client.code.casefold()
                 or needle in (c.client.name or "").casefold()]
    record(request, "read", request.staff, detail=f"ended cases: {len(cases)} cases")
    return render(request, "care/ended.html", {
        "cases": cases, "q": request.GET.get("q", "")[:120],
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
            record(request, "create", case, detail="client admitted, case opened")
            messages.success(request, f"Opened a case for {case.client.label}.")
            return redirect("care:case", pk=case.pk)
    return render(request, "care/client_new.html", {"form": form})


@staff_required
def case_detail(request, pk):
    case = scoping.get_case_or_404(request.user, pk)
    data = casepage.load_case(case)
    can_change = case.therapist_id == request.staff.pk
    needing = attention.most_important(data.signals)
    rows = casepage.session_rows(case, data.series)
    return render(request, "care/case_detail.html", {
        "brief": brief.session_brief(data.series, data.signals, goal_services.review_status(case),
                                     today=timezone.localdate()),
        "attention_count": len(needing),
        "top_signal": attention.short_text(needing[0]) if needing else "",
        "case": case,
        "series": data.series,
        "session_rows": rows,
        "sessions": rows[::-1],
        "measures": data.measures,
        "expected": data.expected,
        "summary": casepage.summary(data, own=can_change),
        "signals": data.signals,
        "comments": data.comments,
        "feedback": casepage.client_feedback(data.sessions),
        "session_form": SessionForm(),
        "end_form": EndCaseForm(),
        "name_form": ClientNameForm(initial={"name": case.client.name}),
        "can_change": can_change,
    })


CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


@staff_required
@require_GET
def case_chart(request, pk, chart):
    """A case's chart as SVG, for `<img src>` on the case page (scoped: 404 out of scope).

    The case page's view recorded the read; its two images are not two more."""
    case = scoping.get_case_or_404(request.user, pk, part_of_page=True)
    data = casepage.load_case(case)
    narrow = request.GET.get("size") == "narrow"
    if chart == "alliance":
        svg = charts.alliance_chart(data.series, narrow=narrow)
    elif chart == "wellbeing":
        svg = charts.wellbeing_chart(data.series, data.expected.band, narrow=narrow)
    else:  # pragma: no cover - the URL patterns name only these two
        raise Http404("No such chart.")
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    # Client data: never kept by a browser or a shared cache.
    response["Cache-Control"] = "private, no-store"
    # matplotlib writes its styles inline; the image has no script and loads nothing.
    response["Content-Security-Policy"] = CHART_POLICY
    return response


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
            record(request, "create", session, detail=f"session {session.number} recorded")
            messages.success(request, f"Recorded session {session.number}.")
            if session.attended:
                return redirect("care:session", pk=case.pk, number=session.number)
            return redirect("care:case", pk=case.pk)
    return render(request, "care/session_new.html", {"case": case, "form": form})


@staff_required
@require_POST
def case_reopen(request, pk):
    case = scoping.get_case_or_404(request.user, pk, for_change=True)
    try:
        services.reopen_case(case)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        record(request, "update", case, detail="case reopened")
        messages.success(request, "The case is open again.")
    return redirect("care:case", pk=case.pk)


@staff_required
@require_POST
def client_rename(request, pk):
    """Set or clear the name kept with the case's client (its own therapist)."""
    case = scoping.get_case_or_404(request.user, pk, for_change=True)
    form = ClientNameForm(request.POST)
    if form.is_valid():
        try:
            services.rename_client(case.client, form.cleaned_data["name"])
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            record(request, "update", case.client, detail="client's name changed")
            messages.success(request, "Saved the client's name." if case.client.name
                             else "Removed the client's name.")
    else:
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
    return redirect(reverse("care:case", args=[case.pk]) + "#documents")


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
            record(request, "update", case, detail="case closed")
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
    waiting = [e for e in client_forms if not (e["administration"] and
                                               e["administration"].is_submitted)]
    return render(request, "care/session_detail.html", {
        "case": case,
        "session": session,
        "client_forms": client_forms,
        # One link covers every client form of the session still waiting for answers.
        "link_form": waiting[0]["instrument"] if waiting else None,
        "link_sent": any(e["administration"] for e in waiting),
        "therapist_forms": therapist_forms,
        "can_email": bool(case.client.contact_email),
        "can_change": case.therapist_id == request.staff.pk,
    })

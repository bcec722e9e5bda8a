"""Downloads of the PDF reports. Each is scoped like the page it belongs to and audited.

- the case report: the case page's scoping (therapist and supervisor; 404 out of scope);
- the clinic report: administrators (the clinic) and supervisors (their supervisees).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from alliance.web import scoping
from alliance.web.access import role_required, staff_required
from alliance.web.audit.services import record
from alliance.web.clinics.models import StaffMember
from alliance.web.downloads import attachment
from alliance.web.reports import case as case_report
from alliance.web.reports import clinic as clinic_report


def _pdf(content: bytes, filename: str) -> HttpResponse:
    return attachment(content, "application/pdf", filename)


@staff_required
@require_GET
def case_pdf(request, pk, variant):
    case = scoping.get_case_or_404(request.user, pk)
    content = case_report.render(case_report.load(case, variant))
    record(request, "export", case, detail=f"case report ({variant})",
           clinic=case.client.clinic)
    suffix = "-for-client" if variant == case_report.CLIENT else ""
    return _pdf(content, f"case-{case.client.code}{suffix}.pdf")


@role_required(StaffMember.Role.ADMIN, StaffMember.Role.SUPERVISOR)
@require_GET
def clinic_pdf(request):
    report = clinic_report.load(request.staff)
    content = clinic_report.render(report)
    record(request, "export", None, detail=f"clinic report ({report.scope})",
           clinic=request.staff.clinic)
    return _pdf(content, f"clinic-report-{report.date.isoformat()}.pdf")

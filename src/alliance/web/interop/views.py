"""The case's FHIR Bundle, the history upload (administrators) and the research export.

- the FHIR Bundle is scoped like the case page (therapist and supervisor; 404 out of scope);
- the history upload is an administrator's task: it brings a whole clinic's records in and
  shows only counts and the file's problems;
- the research export is pseudonymised data, which fits what administrators see (docs/design.md
  section 7): administrators export the clinic, supervisors their supervisees' cases.
Every download and import is recorded in the audit trail.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from alliance.web import localtime, scoping
from alliance.web.access import admin_required, role_required, staff_required
from alliance.web.audit.services import record
from alliance.web.clinics.models import StaffMember
from alliance.web.downloads import attachment
from alliance.web.interop import history, research
from alliance.web.interop.fhir import case_bundle
from alliance.web.interop.forms import HistoryUploadForm, ResearchExportForm


@staff_required
@require_GET
def case_fhir(request, pk):
    case = scoping.get_case_or_404(request.user, pk)
    kind = "searchset" if request.GET.get("type") == "searchset" else "collection"
    bundle = case_bundle(case, kind=kind)
    record(request, "export", case, detail=f"FHIR Bundle ({kind})", clinic=case.client.clinic)
    return attachment(json.dumps(bundle, indent=1, ensure_ascii=False).encode("utf-8"),
                     "application/fhir+json", f"case-{case.client.code}-fhir.json")


@admin_required
@require_http_methods(["GET", "POST"])
def import_history(request):
    clinic = request.staff.clinic
    form = (HistoryUploadForm(request.POST, request.FILES) if request.method == "POST"
            else HistoryUploadForm())
    result = problems = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        dry_run = form.cleaned_data["dry_run"]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "upload.csv"
            with path.open("wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            try:
                result = history.import_history(path, clinic, dry_run=dry_run, name=upload.name)
            except history.HistoryImportError as exc:
                problems = exc
            except history.InputError as exc:
                form.add_error("file", str(exc))
        if result is not None or problems is not None:
            record(request, "import", outcome="success" if result else "failure",
                   clinic=clinic,
                   detail=f"history {upload.name}: " + (
                       result.summary() if result else
                       f"{len(problems.problems)} problems, nothing imported"))
    return render(request, "interop/import_history.html", {
        "form": form, "result": result, "problems": problems,
        "max_errors": history.MAX_ERRORS})


@admin_required
@require_GET
def import_help(request):
    """The history file's format, with an example, as a page of the application."""
    return render(request, "interop/import_help.html", {
        "example": history.EXAMPLE, "max_columns": history.MAX_COLUMNS,
        "max_errors": history.MAX_ERRORS})


def _export_scope(staff: StaffMember) -> tuple[list[int] | None, object]:
    """Therapists whose cases the member may export, and the choices of the form."""
    therapists = StaffMember.objects.filter(clinic=staff.clinic).exclude(
        role=StaffMember.Role.ADMIN)
    if staff.is_admin:
        return None, therapists
    ids = scoping.therapist_ids_for(staff)
    return ids, therapists.filter(pk__in=ids)


@role_required(StaffMember.Role.ADMIN, StaffMember.Role.SUPERVISOR)
@require_http_methods(["GET", "POST"])
def research_export(request):
    staff = request.staff
    scope, therapists = _export_scope(staff)
    form = ResearchExportForm(request.POST if request.method == "POST" else None,
                              therapists=therapists)
    if request.method == "POST" and form.is_valid():
        selection = form.selection(scope)
        key = form.cleaned_data["key"]
        include_text = form.cleaned_data["include_text"]
        export = research.build_export(staff.clinic, key=key, selection=selection,
                                       include_text=include_text)
        today = localtime.today(staff.clinic).isoformat()
        files = research.export_files(
            export, form.cleaned_data["format"],
            description=f"Research export of {staff.clinic.name} ({selection.describe()}), "
                        f"key '{key}', {today}.")
        record(request, "export", None, clinic=staff.clinic,
               detail=f"research export ({selection.describe()}; key {key}; "
                      f"{len(export.sessions)} sessions"
                      f"{'; with free text' if include_text else ''})")
        return attachment(research.zip_export(files), "application/zip",
                         f"research-export-{today}.zip")
    return render(request, "interop/research_export.html", {"form": form})

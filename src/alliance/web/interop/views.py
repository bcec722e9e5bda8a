"""The case's FHIR Bundle, the history upload (administrators) and the research export.

- the FHIR Bundle is scoped like the case page (therapist and supervisor; 404 out of scope);
- the history upload is an administrator's task: it brings a whole clinic's records in and
  shows only counts and the file's problems;
- the research export is pseudonymised data, which fits what administrators see (docs/design.md
  section 7): administrators export the clinic, supervisors their supervisees' cases. An
  export of more than `settings.EXPORT_IN_WORKER_SESSIONS` sessions is prepared by the
  worker (`exports`); its page and its download are for the person who asked only.
Every download and import is recorded in the audit trail.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from alliance.web import localtime, scoping
from alliance.web.access import admin_required, role_required, staff_required
from alliance.web.audit.services import record
from alliance.web.clinics.models import StaffMember
from alliance.web.downloads import attachment, file_attachment
from alliance.web.interop import exports, history, research, tasks
from alliance.web.interop.fhir import case_bundle
from alliance.web.interop.forms import HistoryUploadForm, ResearchExportForm
from alliance.web.interop.models import ExportJob


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
        fmt = form.cleaned_data["format"]
        today = localtime.today(staff.clinic).isoformat()
        description = (f"Research export of {staff.clinic.name} ({selection.describe()}), "
                       f"key '{key}', {today}.")
        if research.session_count(staff.clinic, selection) > settings.EXPORT_IN_WORKER_SESSIONS:
            # Too large to write while the browser waits: the worker prepares it.
            job = exports.new_job(staff, selection, key=key, fmt=fmt,
                                  include_text=include_text, description=description)
            tasks.research_export.enqueue(job.pk)
            return redirect("interop:export_job", pk=job.pk)
        # Written to a temporary file a chunk of cases at a time, then sent from it.
        handle = tempfile.TemporaryFile()
        written = research.write_zip(handle, staff.clinic, fmt, key=key, selection=selection,
                                     include_text=include_text, description=description)
        handle.seek(0)
        record(request, "export", None, clinic=staff.clinic,
               detail=f"research export ({selection.describe()}; key {key}; "
                      f"{written.rows['sessions']} sessions"
                      f"{'; with free text' if include_text else ''})")
        return file_attachment(handle, "application/zip", f"research-export-{today}.zip")
    jobs = ExportJob.objects.filter(requested_by=staff)[:10]
    return render(request, "interop/research_export.html", {"form": form, "jobs": jobs})


def _own_job(request, pk) -> ExportJob:
    """A job of the signed-in staff member's (404 for anyone else's, as if it did not exist)."""
    return get_object_or_404(ExportJob, pk=pk, requested_by=request.staff)


@role_required(StaffMember.Role.ADMIN, StaffMember.Role.SUPERVISOR)
@require_GET
def export_job(request, pk):
    return render(request, "interop/export_job.html", {
        "job": _own_job(request, pk), "keep_days": settings.EXPORT_KEEP_DAYS})


@role_required(StaffMember.Role.ADMIN, StaffMember.Role.SUPERVISOR)
@require_GET
def export_download(request, pk):
    job = _own_job(request, pk)
    path = exports.path_of(job) if job.status == ExportJob.Status.DONE else None
    if path is None or not path.is_file():
        raise Http404("This export is not ready, failed or has been deleted.")
    handle = path.open("rb")
    record(request, "export", job, clinic=job.clinic,
           detail=f"research export ({job.summary}; key {job.key}; {job.sessions} sessions"
                  f"{'; with free text' if job.include_text else ''}; prepared by the worker)")
    day = localtime.local(job.created_at, job.clinic).date().isoformat()
    return file_attachment(handle, "application/zip", f"research-export-{day}.zip")

"""Research exports too large for a request: prepared by the background worker, then
downloaded by the person who asked for them.

The page (`views.research_export`) writes a small export straight into the response; one
with more than `settings.EXPORT_IN_WORKER_SESSIONS` sessions becomes an `ExportJob`, which
the worker (`tasks.research_export`) writes as a ZIP file into `settings.EXPORT_DIR`
(owner-only), a chunk of cases at a time (`research.write_zip`). The job's page shows
when it is ready and links the download; only the staff member who asked may open either,
and every download is recorded in the audit trail. Files older than
`settings.EXPORT_KEEP_DAYS` are deleted by a periodic job of the worker.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from alliance.web.clinics.models import StaffMember
from alliance.web.interop import research
from alliance.web.interop.models import ExportJob
from alliance.web.private_files import new_private_file, private_folder

logger = logging.getLogger(__name__)

EXPIRY_JOB = "expire-research-exports"
EXPIRY_EVERY = dt.timedelta(hours=6)


def selection_parameters(selection: research.Selection) -> dict:
    return {"therapist_ids": (None if selection.therapist_ids is None
                              else list(selection.therapist_ids)),
            "date_from": selection.date_from.isoformat() if selection.date_from else None,
            "date_to": selection.date_to.isoformat() if selection.date_to else None,
            "instrument_ids": (list(selection.instrument_ids) if selection.instrument_ids
                               else None)}


def selection_of(parameters: dict) -> research.Selection:
    def day(value):
        return dt.date.fromisoformat(value) if value else None

    therapists, instruments = parameters["therapist_ids"], parameters["instrument_ids"]
    return research.Selection(
        therapist_ids=None if therapists is None else tuple(therapists),
        date_from=day(parameters["date_from"]), date_to=day(parameters["date_to"]),
        instrument_ids=tuple(instruments) if instruments else None)


def new_job(staff: StaffMember, selection: research.Selection, *, key: str, fmt: str,
            include_text: bool, description: str) -> ExportJob:
    """Record the request (the caller hands it to the worker: `tasks.research_export`)."""
    return ExportJob.objects.create(
        clinic=staff.clinic, requested_by=staff, key=key, format=fmt,
        include_text=include_text, description=description,
        selection=selection_parameters(selection), summary=selection.describe()[:200])


def path_of(job: ExportJob) -> Path:
    return Path(settings.EXPORT_DIR) / job.file_name


def run(job_id: int) -> str:
    """Write the job's ZIP file (the worker's side of `request_export`)."""
    claimed = (ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED)
               .update(status=ExportJob.Status.RUNNING, started_at=timezone.now()))
    if not claimed:
        return "not waiting"
    job = ExportJob.objects.select_related("clinic").get(pk=job_id)
    name = f"research-export-{job.pk}-{secrets.token_hex(8)}.zip"
    path = None
    try:
        folder = private_folder(settings.EXPORT_DIR)
        path = new_private_file(folder / name)
        with path.open("wb") as out:
            written = research.write_zip(
                out, job.clinic, job.format, key=job.key, selection=selection_of(job.selection),
                include_text=job.include_text, description=job.description)
    except Exception as exc:  # the job says what went wrong; the worker goes on
        logger.exception("research export %s failed", job_id)
        if path is not None:
            path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job_id).update(
            status=ExportJob.Status.FAILED, finished_at=timezone.now(),
            error=_one_line(exc))
        return "failed"
    ExportJob.objects.filter(pk=job_id).update(
        status=ExportJob.Status.DONE, finished_at=timezone.now(), file_name=name,
        size=path.stat().st_size, sessions=written.rows["sessions"])
    return "done"


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"The export could not be written: {text}"[:500]


def expire(now: dt.datetime) -> str:
    """Delete the files (and jobs) older than EXPORT_KEEP_DAYS."""
    old = ExportJob.objects.filter(
        created_at__lt=now - dt.timedelta(days=settings.EXPORT_KEEP_DAYS))
    removed = 0
    for job in old:
        if job.file_name:
            path_of(job).unlink(missing_ok=True)
        removed += 1
    old.delete()
    return f"{removed} old research exports removed"

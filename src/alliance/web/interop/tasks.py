"""Research exports written by the background worker (see `exports`)."""

from __future__ import annotations

from django_tasks import task

from alliance.web.interop import exports


@task()
def research_export(job_id: int) -> str:
    """Write the ZIP file of a research export someone asked for on the export page."""
    return exports.run(job_id)

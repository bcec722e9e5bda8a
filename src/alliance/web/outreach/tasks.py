"""Sending what is due now as a background task, so that a check-in planned "at once" goes
out within a second of the session being recorded instead of at the next tick."""

from __future__ import annotations

from django_tasks import task

from alliance.web.outreach import services


@task()
def send_due_messages() -> str:
    counts = services.send_due()
    return ", ".join(f"{n} {what}" for what, n in counts.items() if n) or "nothing due"

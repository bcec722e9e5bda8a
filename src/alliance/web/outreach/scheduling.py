"""Asking the worker to send now (kept apart from `services`, which the task calls)."""

from __future__ import annotations

import logging

from alliance.web.outreach import tasks

logger = logging.getLogger(__name__)


def send_soon() -> None:
    """Ask the worker to send the due messages; the periodic tick sends them anyway, so a
    failure to ask is only logged."""
    try:
        tasks.send_due_messages.enqueue()
    except Exception:
        logger.exception("asking the worker to send due messages failed")

"""Plan and cancel messages when care events happen (after their transaction commits)."""

from __future__ import annotations

import logging

from django.dispatch import receiver
from django.utils import timezone

from alliance.web.care.events import case_ended, session_recorded
from alliance.web.checkins.events import administration_submitted
from alliance.web.monitoring.events import signals_found
from alliance.web.outreach import scheduling, services

logger = logging.getLogger(__name__)


@receiver(session_recorded, dispatch_uid="outreach.session_recorded")
def on_session_recorded(sender, session, **kwargs):
    try:
        message = services.plan_checkin(session)
    except Exception:  # the session is recorded; the therapist can still send by hand
        logger.exception("planning the check-in of session %s failed", session.pk)
        return
    if message is not None and message.status == message.Status.PLANNED \
            and message.due_at <= timezone.now():
        scheduling.send_soon()


@receiver(administration_submitted, dispatch_uid="outreach.administration_submitted")
def on_administration_submitted(sender, administration, **kwargs):
    if administration.respondent == "client":
        services.checkin_answered(administration.session)


@receiver(case_ended, dispatch_uid="outreach.case_ended")
def on_case_ended(sender, case, **kwargs):
    try:
        message = services.case_ended(case)
    except Exception:
        logger.exception("planning the closing check-in of case %s failed", case.pk)
        return
    if message is not None and message.status == message.Status.PLANNED:
        scheduling.send_soon()


@receiver(signals_found, dispatch_uid="outreach.signals_found")
def on_signals_found(sender, signals, **kwargs):
    try:
        planned = services.plan_rupture_notices(signals)
    except Exception:  # the signals are stored and shown; only the e-mail notice is lost
        logger.exception("planning rupture notices failed")
        return
    if planned:
        scheduling.send_soon()

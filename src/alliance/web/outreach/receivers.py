"""Plan and cancel messages when care events happen (after their transaction commits)."""

from __future__ import annotations

import logging

from django.dispatch import receiver

from alliance.web.care.events import case_ended, session_recorded
from alliance.web.checkins.events import administration_submitted
from alliance.web.monitoring.events import signals_found
from alliance.web.outreach import services

logger = logging.getLogger(__name__)


@receiver(session_recorded, dispatch_uid="outreach.session_recorded")
def on_session_recorded(sender, session, **kwargs):
    try:
        services.plan_checkin(session)
    except Exception:  # the session is recorded; the therapist can still send by hand
        logger.exception("planning the check-in of session %s failed", session.pk)


@receiver(administration_submitted, dispatch_uid="outreach.administration_submitted")
def on_administration_submitted(sender, administration, **kwargs):
    if administration.respondent == "client":
        services.checkin_answered(administration.session)


@receiver(case_ended, dispatch_uid="outreach.case_ended")
def on_case_ended(sender, case, **kwargs):
    services.case_ended(case)


@receiver(signals_found, dispatch_uid="outreach.signals_found")
def on_signals_found(sender, signals, **kwargs):
    try:
        services.plan_rupture_notices(signals)
    except Exception:  # the signals are stored and shown; only the e-mail notice is lost
        logger.exception("planning rupture notices failed")

"""Recompute signals when their data change.

Connected in `MonitoringConfig.ready()`. Every event arrives after the change committed;
the receivers enqueue the recomputation for the background worker (`tasks`), so it reads
committed data and never slows down or fails what the person just did: a client's answers
are stored even if recomputing the signals hits a bug.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from alliance.web.care.events import case_ended, session_recorded
from alliance.web.checkins.events import administration_submitted
from alliance.web.clinics.models import Clinic
from alliance.web.monitoring import scheduling

logger = logging.getLogger(__name__)


def _safely(what: str, function, *args) -> None:
    try:
        function(*args)
    except Exception:  # never fail the request that sent the event
        logger.exception("asking for a recomputation after %s failed", what)


@receiver(administration_submitted, dispatch_uid="monitoring.administration_submitted")
def on_administration_submitted(sender, administration, **kwargs):
    scheduling.recompute_soon(administration.session.case_id, "a submitted form")


@receiver(session_recorded, dispatch_uid="monitoring.session_recorded")
def on_session_recorded(sender, session, **kwargs):
    scheduling.recompute_soon(session.case_id, "a recorded session")


@receiver(case_ended, dispatch_uid="monitoring.case_ended")
def on_case_ended(sender, case, **kwargs):
    _safely("the end of a case", scheduling.request_case_ended, case)


@receiver(post_save, sender=Clinic, dispatch_uid="monitoring.clinic_saved")
def on_clinic_saved(sender, instance, created, raw=False, **kwargs):
    # The settings page saves the clinic with a model form; recompute once it commits,
    # and only when a rule or threshold changed (not for a new name; the task checks).
    if created or raw:
        return
    transaction.on_commit(lambda: _safely("a change of clinic settings",
                                          scheduling.request_settings_check, instance))

"""Recompute a case's signals when its goals, reviews, tasks or reports change.

Connected in `GoalsConfig.ready()`. The event arrives after the change committed; a
failure is logged without failing the request (as in `monitoring.receivers`).
"""

from __future__ import annotations

import logging

from django.dispatch import receiver

from alliance.web.goals.events import goals_changed

logger = logging.getLogger(__name__)


@receiver(goals_changed, dispatch_uid="goals.goals_changed")
def on_goals_changed(sender, case_id, **kwargs):
    from alliance.web.monitoring import services as monitoring

    try:
        monitoring.request_recompute(case_id)
    except Exception:  # never fail the request that sent the event
        logger.exception("recomputing signals after a change of goals or tasks failed")

"""Recompute a case's signals when its goals, reviews, tasks or reports change.

Connected in `GoalsConfig.ready()`. The event arrives after the change committed; a
failure is logged without failing the request (as in `monitoring.receivers`).
"""

from __future__ import annotations


from django.dispatch import receiver

from alliance.web.goals.events import goals_changed
from alliance.web.monitoring.scheduling import recompute_soon


@receiver(goals_changed, dispatch_uid="goals.goals_changed")
def on_goals_changed(sender, case_id, **kwargs):
    recompute_soon(case_id, "a change of goals or tasks")

"""Events of the goals app, sent after the change commits (like `care.events`).

`goals_changed` (``case_id=``): a goal, a goal review, a task or a task report of the case
was created or changed. Signal recomputation connects here (`goals.receivers`).
"""

from django.dispatch import Signal

goals_changed = Signal()

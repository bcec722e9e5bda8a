"""Events other areas can listen to (extension points).

Both are sent after the transaction that made the change has committed:

- `session_recorded`, with `session=` the new Session;
- `case_ended`, with `case=` the Case that was closed or ended early.

Signal recomputation connects here (`alliance.web.monitoring.receivers`).
"""

from django.dispatch import Signal

session_recorded = Signal()
case_ended = Signal()

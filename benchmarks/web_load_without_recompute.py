"""An experiment for `web_load.py --without-recompute`, not a way to run Alliance.

The production application with the recomputation of a case's signals after a submitted
form switched off, so that the benchmark can show what that synchronous recomputation
costs the requests. Signals would go stale with it: never deploy this.
"""

from alliance.web.checkins.events import administration_submitted
from alliance.web.wsgi import application

administration_submitted.disconnect(dispatch_uid="monitoring.administration_submitted")

__all__ = ["application"]

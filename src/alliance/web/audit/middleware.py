"""Makes the current request known to code that is given only a user (the scoping layer).

`alliance.web.scoping.get_*_or_404(user, pk)` records reads, and an event needs the request's
address; passing the request through every scoping call would change every view. A context
variable is per thread (and per task), so concurrent requests never see each other's.

The reads noted during the view are recorded after it, one event per record, unless the view
recorded another event about the same record (see services.record_read).
"""

from __future__ import annotations

from alliance.web.audit.services import _current_request, record_pending_reads


class AuditRequestMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        if response.status_code < 400:  # the page was shown
            record_pending_reads(request)
        return response

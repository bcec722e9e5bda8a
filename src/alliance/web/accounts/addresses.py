"""The client's address and the username tried, as django-axes and the rate limits see them.

One rule for the audit trail, the lock-out and the rate limits: the audit module's
`client_address` (REMOTE_ADDR, or behind our proxy the address it appended).
"""

from __future__ import annotations

from alliance.web.audit.services import client_address as _audit_address


def client_address(request) -> str | None:
    """The address, or None when there is none (django-axes stores it in an address column)."""
    return _audit_address(request) or None


def username_tried(request, credentials) -> str:
    """The e-mail address typed at sign-in, as the login form normalises it."""
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username", "")
    return (username or "").strip().lower()

"""The client portal's e-mails as background tasks (Django's tasks framework).

"E-mail me a sign-in link" only enqueues: the request does the same work for a known and
an unknown address (one queued task), so neither its answer nor its timing tells whether
the address belongs to a client. The worker looks the address up and sends the link. The
test settings run tasks at once.
"""

from __future__ import annotations

from django_tasks import task

from alliance.web.portal import services


@task()
def send_sign_in_links(email: str, base_url: str) -> int:
    """E-mail a sign-in link to each client account with this address (none if unknown)."""
    return services.request_sign_in_link(email, base_url=base_url)

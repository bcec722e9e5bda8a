"""Content Security Policy header, built from the SECURE_CSP setting.

Django 6.0 ships `django.middleware.csp.ContentSecurityPolicyMiddleware` with the same
setting; this project runs on Django 5.2 LTS (Python 3.11), so this small middleware stands
in for it. It reads the same setting format (a dict of directive → list of sources), so
moving to Django 6 is a one-line change in MIDDLEWARE. Nonces are not needed: our
templates have no inline script or style.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def build_policy(directives: dict[str, list[str] | tuple[str, ...] | str | bool]) -> str:
    """Render a policy dict as a header value, e.g. "default-src 'self'; object-src 'none'"."""
    parts = []
    for directive, sources in directives.items():
        if sources is True:  # a directive without sources, e.g. upgrade-insecure-requests
            parts.append(directive)
        elif isinstance(sources, str):
            parts.append(f"{directive} {sources}")
        elif isinstance(sources, (list, tuple)):
            parts.append(" ".join([directive, *sources]))
        else:
            raise ImproperlyConfigured(f"SECURE_CSP[{directive!r}] must be a list of sources")
    return "; ".join(parts)


class ContentSecurityPolicyMiddleware:
    header = "Content-Security-Policy"
    report_only_header = "Content-Security-Policy-Report-Only"

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = build_policy(getattr(settings, "SECURE_CSP", {}) or {})
        self.report_only = build_policy(getattr(settings, "SECURE_CSP_REPORT_ONLY", {}) or {})

    def __call__(self, request):
        response = self.get_response(request)
        # A view may set a stricter or looser policy of its own.
        if self.policy and self.header not in response:
            response[self.header] = self.policy
        if self.report_only and self.report_only_header not in response:
            response[self.report_only_header] = self.report_only
        return response

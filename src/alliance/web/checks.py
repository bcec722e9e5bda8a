"""System checks that stop a production server whose security headers are misconfigured.

Registered by alliance.web's AppConfig. They run with `manage.py check`, before `migrate`
(so before `alliance serve` starts gunicorn) and before `runserver`. In production (DEBUG
off) an Error stops the command; in development they stay quiet, so a developer can try a
looser policy locally.

- alliance.csp.E001: no Content Security Policy is enforced (the middleware is missing, or only
  a report-only policy is configured);
- alliance.csp.E002: the policy lets scripts or styles run inline or from strings
  ('unsafe-inline', 'unsafe-eval'): that is what a CSP is there to forbid;
- alliance.cache.E001: the no-store middleware is missing, so pages with client data could be
  kept by browser and proxy caches.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

CSP_MIDDLEWARE = "csp.middleware.CSPMiddleware"
NO_STORE_MIDDLEWARE = "alliance.web.headers.NoStoreMiddleware"
UNSAFE = ("'unsafe-inline'", "'unsafe-eval'")
# Each directive that governs scripts or styles, with the directives it falls back to when it
# is not set (CSP level 3): an unsafe source in any of them lets inline code run.
GOVERNING = {
    "script-src": ("default-src",),
    "script-src-elem": ("script-src", "default-src"),
    "script-src-attr": ("script-src", "default-src"),
    "style-src": ("default-src",),
    "style-src-elem": ("style-src", "default-src"),
    "style-src-attr": ("style-src", "default-src"),
}


def _has_middleware(dotted: str) -> bool:
    wanted = import_string(dotted)
    for entry in settings.MIDDLEWARE:
        try:
            found = import_string(entry)
        except ImportError:
            continue
        if isinstance(found, type) and issubclass(found, wanted):
            return True
    return False


def _sources(value) -> list[str]:
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, str):
        return value.split()
    return [str(source) for source in value]


def effective_sources(directives: dict, directive: str) -> tuple[str, list[str]]:
    """The directive that applies to `directive` (itself or the one it falls back to), and
    its sources."""
    for name in (directive, *GOVERNING.get(directive, ())):
        if directives.get(name) is not None:
            return name, _sources(directives[name])
    return directive, []


def unsafe_sources(directives: dict) -> dict[str, list[str]]:
    """{directive: unsafe sources} for each script/style directive that allows inline code."""
    found = {}
    for directive in GOVERNING:
        name, sources = effective_sources(directives, directive)
        bad = [s for s in sources if s.lower() in UNSAFE]
        if bad:
            found[name] = bad
    return found


@checks.register(checks.Tags.security, deploy=False)
def check_content_security_policy(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.DEBUG:
        return []
    errors = []
    policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
    directives = policy.get("DIRECTIVES") or {}
    if not _has_middleware(CSP_MIDDLEWARE):
        errors.append(checks.Error(
            "No Content Security Policy is enforced: csp.middleware.CSPMiddleware is not in "
            "MIDDLEWARE.",
            hint="Keep django-csp's middleware in MIDDLEWARE (see docs/security.md).",
            id="alliance.csp.E001"))
    elif not directives:
        errors.append(checks.Error(
            "No Content Security Policy is enforced: CONTENT_SECURITY_POLICY has no "
            "DIRECTIVES (a report-only policy alone does not protect anyone).",
            hint="Set CONTENT_SECURITY_POLICY = {'DIRECTIVES': {...}} in the settings.",
            id="alliance.csp.E001"))
    for directive, bad in unsafe_sources(directives).items():
        errors.append(checks.Error(
            f"The Content Security Policy allows {' and '.join(bad)} in {directive}: inline "
            "or generated code could run, which the policy is there to forbid.",
            hint="Move the code into a static file (or use a nonce) and remove the source.",
            id="alliance.csp.E002"))
    return errors


@checks.register(checks.Tags.security, deploy=False)
def check_no_store(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.DEBUG or _has_middleware(NO_STORE_MIDDLEWARE):
        return []
    return [checks.Error(
        "Pages with client data could be cached: alliance.web.headers.NoStoreMiddleware is not "
        "in MIDDLEWARE.",
        hint="Keep it after WhiteNoise in MIDDLEWARE, so that static files keep their cache.",
        id="alliance.cache.E001")]

"""Response headers that keep client data out of caches.

Every page of this site that is not a static file may show client data: staff pages, the
client portal, check-in forms, the API and exports. A browser's back-forward or disk cache,
or a proxy between the clinic and the server, must not keep a copy of them, so every
response that reaches a view gets `Cache-Control: no-store`.

The middleware sits below WhiteNoise in MIDDLEWARE: static files are answered by WhiteNoise
before they get here and keep their long, immutable cache lifetime.
"""

from __future__ import annotations

from django.utils.cache import add_never_cache_headers

NO_STORE = "no-store"


def is_no_store(value: str) -> bool:
    return NO_STORE in {part.strip().lower() for part in value.split(",")}


class NoStoreMiddleware:
    """`Cache-Control: no-store` (with `private`, `no-cache`, `must-revalidate`,
    `max-age=0` and an `Expires` in the past) on every dynamic response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A view may have set its own caching (e.g. "private, no-store" on a chart); a view
        # that asked for something cacheable still gets no-store: nothing here is public.
        if not is_no_store(response.get("Cache-Control", "")):
            if "Cache-Control" in response:
                del response["Cache-Control"]
            add_never_cache_headers(response)
        return response

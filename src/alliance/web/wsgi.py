"""WSGI entry point for gunicorn: `gunicorn alliance.web.wsgi`."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.web.settings")

application = get_wsgi_application()

# Import every view now (the URL configuration is otherwise loaded by the first request),
# then move everything loaded so far out of the garbage collector's reach: otherwise a full
# collection walks the hundreds of thousands of objects of Django, pandas and matplotlib,
# stopping the process for 130-170 ms every few hundred requests.
get_resolver().url_patterns
gc.collect()
gc.freeze()

"""WSGI entry point for gunicorn: `gunicorn alliance.web.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.web.settings")

application = get_wsgi_application()

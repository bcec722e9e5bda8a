"""Settings for the test suite: the production settings with fast hashing and a test database.

The SQLite test database is a file in the temporary directory (not in memory) so that it has
the same WAL and locking behaviour as a real deployment and several threads can share it
(the concurrent check-in tests). With DATABASE_URL set (scripts/test-postgres.sh), tests run
on that PostgreSQL server instead.
"""

import os
import tempfile

os.environ.setdefault("ALLIANCE_SECRET_KEY", "test-only-secret-key-" + "0123456789" * 4)
os.environ.setdefault("ALLIANCE_HTTPS", "false")
# A fixed key for tests only (free text at rest, docs/privacy.md).
os.environ.setdefault("ALLIANCE_ENCRYPTION_KEYS", "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTAxMjM0NTY=")

from alliance.web.settings import *  # noqa: E402,F403
from alliance.web.settings import DATABASES, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# New clinics in UTC, so that a test's own dates (timezone.localdate(), UTC outside a
# request) are its clinic's at any hour; the tests of local times give their clinic a zone.
CLINIC_TIME_ZONE = "UTC"
# Staff sign in without a second factor unless a test turns it on (override_settings).
STAFF_2FA = False
# Many tests open link pages from one address (127.0.0.1) and the browser tests' counters
# outlive a test (the cache table is not flushed); the tests of the limits set their own.
TOKEN_REQUESTS_PER_MINUTE = 100_000
TOKEN_INVALID_PER_HOUR = 100_000
LOCKOUT_ADDRESS_FAILURES = 100_000
# Test processes share a temporary folder: the anchor is kept only by the tests of it.
AUDIT_ANCHOR_FILE = None
# Research exports prepared by the worker: a folder per test process, not the checkout's.
EXPORT_DIR = os.path.join(tempfile.gettempdir(), f"alliance-test-exports-{os.getpid()}")
# Asking for a sign-in or reset link answers at once here; the tests of that floor set it.
PASSWORD_RESET_ANSWER_SECONDS = 0
STORAGES = {**STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Background tasks run at once, so a test sees the signals its request caused; the
# worker itself is tested with the database backend (tests/web/test_tasks.py).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
BASE_URL = "http://testserver"
# The fixtures' sessions lie on fixed dates early in 2026, so by today every case would
# look like drifting away; the tests of open gaps turn this on.
OPEN_GAP_SIGNALS = False
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "root": {"handlers": [], "level": "WARNING"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One file per test process (pytest-django adds a suffix per xdist worker).
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"alliance-test-{os.getpid()}.sqlite3")}

# Serve static files straight from the apps (no collectstatic before a test run).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

"""Django settings, read from environment variables (see docs/web.md for the table).

Two modes, chosen by ALLIANCE_DEBUG:
- development (ALLIANCE_DEBUG=true): a built-in secret key, plain HTTP;
- production (the default): ALLIANCE_SECRET_KEY is required, cookies are secure, HSTS is on
  and `manage.py check --deploy` is clean. ALLIANCE_HTTPS=false serves production settings
  over plain HTTP on a private address (the local demo); never on a public network.

The embedded database is one SQLite file in WAL mode under ALLIANCE_DATA_DIR; a real
deployment sets DATABASE_URL to PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from alliance.web.private_files import private_folder
from alliance.web.env import (env_bool, env_choice, env_int, env_list, env_str,
                              env_time_zone)
from alliance.web.privacy.keys import encryption_keys

WEB_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("ALLIANCE_DATA_DIR", str(Path.cwd()))).expanduser().resolve()

DEBUG = env_bool("ALLIANCE_DEBUG", False)
HTTPS = env_bool("ALLIANCE_HTTPS", not DEBUG)

SECRET_KEY = env_str("ALLIANCE_SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured(
            "ALLIANCE_SECRET_KEY is not set. Production settings need a long random secret, "
            "e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'; "
            "for development set ALLIANCE_DEBUG=true")
    SECRET_KEY = "development-only-secret-key-never-use-in-production-0123456789-abcdef"

ALLOWED_HOSTS = env_list("ALLIANCE_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("ALLIANCE_CSRF_TRUSTED_ORIGINS", [])

# The address staff and clients reach the site at; used for links built outside a request
# (e.g. the set-password link printed by `alliance createclinic`).
BASE_URL = env_str("ALLIANCE_BASE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",  # django-csp: the Content Security Policy header, its decorators and checks
    "django_tasks",
    "django_tasks_db",
    "alliance.web.clinics",
    "alliance.web.care",
    "alliance.web.checkins",
    "alliance.web.monitoring",
    "alliance.web.goals",
    "alliance.web.intake",
    "alliance.web.portal",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_ratelimit",
    "alliance.web.accounts",
    "alliance.web.privacy",
    "alliance.web.audit",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the API docs page's assets, from the package (no CDN)
    "alliance.web.api",
    "alliance.web.interop",
    "alliance.web.practice",
    "alliance.web.outreach",
    "alliance.web.safety",
    "alliance.web",  # templates and static files of the site itself
]

# Extension points: a hardening layer (two-factor login, throttling, audit trail) adds its
# middleware after AuthenticationMiddleware and its apps above "alliance.web".
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Above WhiteNoise: static files get the Permissions-Policy header too.
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Below WhiteNoise: static files keep their long cache, everything else is no-store.
    "alliance.web.headers.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # English on staff pages, the client's language on client pages; before the CSRF check,
    # so that its "please try again" page is in the client's language too.
    "alliance.web.languages.ClientLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The audit trail: the request, for events recorded where only the user is at hand.
    "alliance.web.audit.middleware.AuditRequestMiddleware",
    # Times in the clinic's zone: the staff member's or the portal client's clinic.
    "alliance.web.clinics.middleware.ClinicTimeZoneMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Signing in (alliance.web.accounts): idle and absolute timeouts kept on the server, the
    # second factor for staff, the rate limit and audit of link (token) pages.
    "alliance.web.accounts.middleware.SessionTimeoutMiddleware",
    "alliance.web.accounts.middleware.StaffTwoFactorMiddleware",
    "alliance.web.accounts.middleware.TokenEndpointMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-axes comes last: it turns a lock-out during authenticate() into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "alliance.web.urls"
WSGI_APPLICATION = "alliance.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "alliance.web.clinics.context.staff",
                "alliance.web.outreach.context.worklist",
            ],
            # |local_date and |local_datetime on every template (alliance.web.localtime).
            "builtins": ["alliance.web.templatetags.localtime"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
SQLITE_PATH = DATA_DIR / "var" / "alliance.sqlite3"
# The audit trail's latest event, kept outside the database (alliance/web/audit/anchors.py).
AUDIT_ANCHOR_FILE = DATA_DIR / "var" / "audit-anchor"
# Research exports the background worker prepares (owner-only files, docs/interop.md): an
# export of more sessions than this is not written while the browser waits; its file is
# deleted after EXPORT_KEEP_DAYS.
EXPORT_DIR = DATA_DIR / "var" / "exports"
EXPORT_IN_WORKER_SESSIONS = env_int("ALLIANCE_EXPORT_IN_WORKER_SESSIONS", 20_000, minimum=0)
EXPORT_KEEP_DAYS = 7

# WAL lets readers work while one writer writes; IMMEDIATE makes every transaction take the
# write lock when it starts, so two writers queue behind the busy timeout instead of
# deadlocking on a lock upgrade ("database is locked"). synchronous=FULL syncs the WAL at
# every commit: a check-in acknowledged to the client survives a power cut, not only a crash
# of the server process (NORMAL would only promise the latter).
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}

_database_url = env_str("DATABASE_URL")
if _database_url is None:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": SQLITE_PATH}}
    try:
        # Owner-only: the folder holds the database, its backups' anchor and any key files.
        private_folder(SQLITE_PATH.parent)
    except OSError as exc:
        raise ImproperlyConfigured(
            f"cannot create the data folder {SQLITE_PATH.parent} ({exc.strerror}); set "
            "ALLIANCE_DATA_DIR to a writable folder or DATABASE_URL to a database") from None
else:
    try:
        DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60,
                                                      conn_health_checks=True)}
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database address: {exc}") from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Keep each server process's connection between requests, as for PostgreSQL: a new
    # SQLite connection reads the whole schema again before its first query, which made a
    # third of the caseload page's time.
    DATABASES["default"]["CONN_MAX_AGE"] = 600
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------
# Argon2id for new and changed passwords; older hashes still verify and are re-hashed with
# Argon2 at the next successful sign-in (Django upgrades a hash whose hasher is not first).
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# django-axes first: it refuses authenticate() for a locked-out username and address.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Then an address with too many failures for any accounts is refused (before the
    # password is checked).
    "alliance.web.accounts.address_limit.AddressLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Set-password (invitation) links for new staff stay valid this long.
PASSWORD_RESET_TIMEOUT = env_int("ALLIANCE_INVITATION_EXPIRY_HOURS", 72, minimum=1,
                                 maximum=24 * 14) * 3600

# Sessions live in the database, so every server process sees (and can end) them. A session
# ends after ALLIANCE_SESSION_IDLE_MINUTES without a request and ALLIANCE_SESSION_HOURS after
# signing in, whichever comes first (alliance.web.accounts.middleware); the cookie goes with
# the browser.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_MINUTES = env_int("ALLIANCE_SESSION_IDLE_MINUTES", 15, minimum=1, maximum=24 * 60)
SESSION_ABSOLUTE_HOURS = env_int("ALLIANCE_SESSION_HOURS", 12, minimum=1, maximum=24 * 7)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Changing the password or the second factor asks for the password again after this long.
REAUTH_MINUTES = 5

# A "forgot password" link for staff works once, for this many minutes (at most 20).
# Invitations (PASSWORD_RESET_TIMEOUT above) are separate links with their own validity.
STAFF_PASSWORD_RESET_MINUTES = env_int("ALLIANCE_PASSWORD_RESET_MINUTES", 20, minimum=1,
                                       maximum=20)

# Two-factor sign-in (TOTP, django-otp) for staff; client portal accounts never need it.
STAFF_2FA = env_bool("ALLIANCE_STAFF_2FA", True)
OTP_TOTP_ISSUER = env_str("ALLIANCE_OTP_ISSUER", "Alliance")

# Lock-out (django-axes): this many failed sign-ins for one username from one address lock
# that pair for ALLIANCE_LOCKOUT_MINUTES. `alliance manage axes_reset_username EMAIL` unlocks.
AXES_FAILURE_LIMIT = env_int("ALLIANCE_LOCKOUT_FAILURES", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ALLIANCE_LOCKOUT_MINUTES", 15, minimum=1,
                                              maximum=24 * 60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Failed sign-ins from one client address for any e-mail addresses, within the same
# ALLIANCE_LOCKOUT_MINUTES, before that address may try none (accounts/address_limit.py).
LOCKOUT_ADDRESS_FAILURES = env_int("ALLIANCE_LOCKOUT_ADDRESS_FAILURES", 20, minimum=1,
                                   maximum=10_000)
AXES_LOCKOUT_CALLABLE = "alliance.web.accounts.views.locked_out"
AXES_CLIENT_IP_CALLABLE = "alliance.web.accounts.addresses.client_address"
AXES_USERNAME_CALLABLE = "alliance.web.accounts.addresses.username_tried"
AXES_VERBOSE = False

# Link (token) pages, per client address: after this many unknown, used or expired links in
# an hour every link page answers 429 until the hour is over; asking for a sign-in or reset
# link is limited to this many a minute. Counters live in the database cache that all
# server processes share.
TOKEN_REQUESTS_PER_MINUTE = env_int("ALLIANCE_TOKEN_REQUESTS_PER_MINUTE", 10, minimum=1)
TOKEN_INVALID_PER_HOUR = env_int("ALLIANCE_TOKEN_INVALID_PER_HOUR", 20, minimum=1)
CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                      "LOCATION": "alliance_cache"}}
RATELIMIT_USE_CACHE = "default"
# django-ratelimit rejects the database cache because its increment is not atomic: under
# concurrent requests a count can come out a little low. The limits are far from the line
# between a person and a guessing script, so that is accepted for a cache every process shares.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
# "Forgot password" answers no sooner than this, so that its timing does not tell whether an
# address belongs to an account (looking it up and sending the e-mail fit within it).
PASSWORD_RESET_ANSWER_SECONDS = 1.0

# --- Background tasks -----------------------------------------------------------------------
# Signal recomputation runs in a worker (`alliance worker`; `alliance serve` and `alliance
# demo` start one) that takes its tasks from a table in the same database.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Check-ins ------------------------------------------------------------------------------
# Default for new clinics; each clinic can change it in its settings.
# Disengagement counts a gap still open today (the worker looks once a day).
OPEN_GAP_SIGNALS = True
CHECKIN_LINK_EXPIRY_HOURS = env_int("ALLIANCE_CHECKIN_LINK_EXPIRY_HOURS", 72, minimum=1,
                                    maximum=24 * 30)

# --- Client portal ------------------------------------------------------------------------
# A sign-in link e-mailed to a client works once, for this many minutes (at most 20).
PORTAL_SIGN_IN_LINK_MINUTES = env_int("ALLIANCE_PORTAL_SIGN_IN_LINK_MINUTES", 15, minimum=1,
                                      maximum=20)

# --- Encryption of free text at rest (docs/privacy.md) -------------------------------------
# Fernet keys from ALLIANCE_ENCRYPTION_KEYS or ALLIANCE_ENCRYPTION_KEY_FILE, never from the
# database; the first encrypts. Production without a key fails the system check alliance.E001.
ENCRYPTION_KEYS = encryption_keys(debug=DEBUG)

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("ALLIANCE_EMAIL_BACKEND",
                        "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("ALLIANCE_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("ALLIANCE_EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("ALLIANCE_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("ALLIANCE_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("ALLIANCE_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env_str("ALLIANCE_DEFAULT_FROM_EMAIL", "Alliance <alliance@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "var" / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
                    if not DEBUG else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Security -------------------------------------------------------------------------------
# Our templates use no inline script or style, so the policy needs no 'unsafe-inline' (a
# system check, alliance.web.checks, refuses to start production with it). A view that needs
# more uses django-csp's decorators (csp_update) or its nonce (request.csp_nonce).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No page of Alliance uses a device or a powerful browser feature: every one is denied, to
# this site and to anything it could embed (django-permissions-policy, on every response).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer", "ambient-light-sensor", "autoplay", "bluetooth", "browsing-topics",
        "camera", "display-capture", "encrypted-media", "gamepad", "geolocation", "gyroscope",
        "hid", "idle-detection", "interest-cohort", "local-fonts", "magnetometer",
        "microphone", "midi", "payment", "publickey-credentials-get", "screen-wake-lock",
        "serial", "usb", "web-share", "xr-spatial-tracking",
    )
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("ALLIANCE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("ALLIANCE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("ALLIANCE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("ALLIANCE_HSTS_PRELOAD", False)
    # Joining the browsers' preload list binds the whole domain for a long time: that is the
    # domain owner's decision (ALLIANCE_HSTS_PRELOAD=true), not a default.
    SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto (the usual deployment).
    # Off by default: only a proxy that sets these headers itself may be trusted with them;
    # without one a client could name any address in X-Forwarded-For (the lock-out, the
    # rate limits and the audit trail use it).
    if env_bool("ALLIANCE_BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Internationalisation -------------------------------------------------------------------
# The client pages (check-ins, the portal, the client's e-mails) in the client's language;
# staff pages in English (alliance.web.languages, docs/languages.md).
LANGUAGE_CODE = "en"
# Each named in itself, as the language switcher shows them.
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("pt", "Português"),
    ("ar", "العربية"),
]
# The catalogues: src/alliance/web/locale/<language>/LC_MESSAGES/django.po, with the
# compiled .mo beside it (scripts/messages.py).
LOCALE_PATHS = [WEB_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "alliance_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Moments are stored in UTC, and UTC is the zone outside a clinic's requests. Pages, e-mails,
# PDFs and exports show a clinic's times in its own zone (Clinic.time_zone, alliance.web.localtime).
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The time zone of a new clinic (its administrator can change it on the settings page).
CLINIC_TIME_ZONE = env_time_zone("ALLIANCE_TIME_ZONE", "Europe/London")

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_choice("ALLIANCE_LOG_LEVEL", "INFO",
                                                   ["DEBUG", "INFO", "WARNING", "ERROR"])},
}

# --- REST API (docs/api.md) -----------------------------------------------------------------
# JSON only, token authentication only (no session: no CSRF to think about), one error shape.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["alliance.web.api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["alliance.web.api.authentication.TokenScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "alliance.web.api.negotiation.AlwaysJson",
    "DEFAULT_PAGINATION_CLASS": "alliance.web.api.pagination.Pages",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend",
                                "alliance.web.api.filters.StableOrdering"],
    "DEFAULT_SCHEMA_CLASS": "alliance.web.api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "alliance.web.api.errors.handle",
    "UNAUTHENTICATED_USER": None,
    "URL_FORMAT_OVERRIDE": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Alliance API",
    "DESCRIPTION": "Clients, cases, sessions, forms, signals, goals and tasks of one clinic, "
                   "as the token's therapist or supervisor sees them. See docs/api.md.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its page hold no data: anyone may read them, whatever token is sent.
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "alliance.web.care.models.Case.Status",
        "SessionStatusEnum": "alliance.web.care.models.Session.Status",
        "SignalStateEnum": "alliance.web.monitoring.models.Signal.State",
        "GoalStatusEnum": "alliance.web.goals.models.Goal.Status",
        "TaskStatusEnum": "alliance.web.goals.models.Task.Status",
        "SideEnum": "alliance.web.goals.models.Side",
    },
}

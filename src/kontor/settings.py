"""Kontor settings: one file, driven by environment variables with safe defaults.

Every variable is documented in README.md ("Configuration").
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent
# var/ holds the SQLite database, uploads and the development secret; it lives in the
# working directory so that a checkout (or a deployment directory) keeps its own data.
VAR_DIR = Path(os.environ.get("KONTOR_VAR_DIR", Path.cwd() / "var")).resolve()

DEBUG = envbool("DEBUG", False)
# Under pytest the suite needs fast hashing and no var/ side effects.
TESTING = envbool("KONTOR_TESTING", "pytest" in sys.modules)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if TESTING:
        return "kontor-tests-only-" + "x" * 40
    # Without SECRET_KEY, a random key is made once and kept under var/, so that
    # `make run` works out of the box and sessions survive a restart.
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    from django.core.management.utils import get_random_secret_key

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = get_random_secret_key()
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "kontor.core",
    "kontor.customers",
    "kontor.activities",
    "kontor.mail",
    "kontor.processes",
    "kontor.demo",  # the `kontor demo` command; above every domain app
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kontor.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kontor.core.middleware.RequestSizeLimitMiddleware",
    "kontor.core.nul_guard.DropNulCookiesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "kontor.core.middleware.UserPreferencesMiddleware",
    "kontor.core.nul_guard.RefuseNulMiddleware",
    "kontor.core.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kontor.core.middleware.PrivateResponseHeadersMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kontor.urls"
WSGI_APPLICATION = "kontor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kontor.core.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "") or f"sqlite:///{VAR_DIR / 'kontor.sqlite3'}"
DATABASES = {
    # conn_health_checks: a connection that died with a PostgreSQL restart is replaced
    # at the start of the next request instead of failing it.
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while one writer writes; IMMEDIATE avoids
        # "database is locked" on upgrade from read to write inside a transaction.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
            "PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    if not TESTING:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -----------------------------------------------------------------------------
# "default" is shared by all processes (the workers' periodic-task claims): the database
# cache unless CACHE_BACKEND names another. "ratelimit" counts API requests, which must
# not write to the database on every read: local memory of each process by default (N
# web processes then let up to N x API_RATE_LIMIT_PER_MINUTE through), the shared cache
# when CACHE_BACKEND is set (exact across processes; use Redis or memcached then, the
# database cache would bring the writes back).
_SHARED_CACHE = {
    "BACKEND": os.environ.get("CACHE_BACKEND", "django.core.cache.backends.db.DatabaseCache"),
    "LOCATION": os.environ.get("CACHE_LOCATION", "kontor_cache"),
}
_LOCAL_CACHE = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "kontor-ratelimit",
}
CACHES = {
    "default": _SHARED_CACHE,
    "ratelimit": _SHARED_CACHE if os.environ.get("CACHE_BACKEND") else _LOCAL_CACHE,
}

# --- Background tasks -----------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# --- Authentication -------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests create hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "login"

# Lock-out after repeated failed logins (django-axes): per user name and address.
AXES_ENABLED = envbool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = envint("LOGIN_LOCKOUT_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

SESSION_COOKIE_AGE = envint("SESSION_AGE_HOURS", 12) * 3600
SESSION_SAVE_EVERY_REQUEST = False
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
CSRF_FAILURE_VIEW = "kontor.core.views.csrf_failure"

OTP_TOTP_ISSUER = "Kontor"

# --- Security -------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
HTTPS = envbool("HTTPS", not DEBUG and not TESTING)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if envbool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The same policy as Django 6's built-in SECURE_CSP, so the switch is a rename.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    "object-src": ["'none'"],
}
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("MAX_REQUEST_MB", 10) * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "de")
LANGUAGES = [("de", _("German")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True
LANGUAGE_COOKIE_NAME = "kontor_language"

# --- Static files (served by the application itself through whitenoise) --------------
STATIC_URL = "/static/"
STATIC_ROOT = None if TESTING else Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# --- E-mail ---------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", False)
# A mail server that does not answer must not hold a worker forever.
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Kontor <kontor@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- API ------------------------------------------------------------------------------
API_RATE_LIMIT_PER_MINUTE = envint("API_RATE_LIMIT_PER_MINUTE", 600)

# --- Attachments and mail in ----------------------------------------------------------
# Files on activities and filed e-mails live under MEDIA_ROOT and are served only
# through views that check who may see them (never by the web server directly).
ATTACHMENT_MAX_MB = envint("ATTACHMENT_MAX_MB", 20)
# Extensions refused everywhere (executables and scripts), whatever the content type says.
ATTACHMENT_FORBIDDEN_EXTENSIONS = envlist(
    "ATTACHMENT_FORBIDDEN_EXTENSIONS",
    "exe,com,bat,cmd,msi,scr,pif,js,jse,vbs,vbe,wsf,wsh,ps1,jar,app,dll,sh,hta,cpl,lnk,reg",
)
# An incoming e-mail larger than this is not filed; it waits in review with a note.
MAIL_MAX_MB = envint("MAIL_MAX_MB", 40)
# How often the worker polls IMAP mailboxes and sends reminders (seconds).
MAIL_POLL_SECONDS = envint("MAIL_POLL_SECONDS", 120)
REMINDER_SECONDS = envint("REMINDER_SECONDS", 60)
# IMAP servers users without mail.manage may use for a personal mailbox (exact names;
# ".firma.de" allows firma.de and every name below it). Empty: only mail managers add
# mailboxes. See kontor.mail.servers.
MAIL_IMAP_ALLOWED_HOSTS = envlist("MAIL_IMAP_ALLOWED_HOSTS", "")
# Connect to loopback, private and link-local addresses (a mail server on the company
# network). Off by default: a mailbox must not become a way into the internal network.
MAIL_IMAP_ALLOW_PRIVATE = envbool("MAIL_IMAP_ALLOW_PRIVATE", False)
# Work the worker enqueues periodically (kontor.core.scheduler): (dotted path of a
# django-tasks task, interval in seconds). `kontor tick` enqueues them all once, for cron.
# How often the worker looks for overdue process steps (warn the assignee, escalate to
# the team lead ESCALATE_AFTER_DAYS business days later) and for customers inactive long
# enough to start a process with the "customer inactive" trigger.
PROCESS_DEADLINE_SECONDS = int(os.environ.get("PROCESS_DEADLINE_SECONDS", "900"))
PROCESS_ESCALATE_AFTER_DAYS = int(os.environ.get("PROCESS_ESCALATE_AFTER_DAYS", "1"))
PROCESS_INACTIVITY_SECONDS = int(os.environ.get("PROCESS_INACTIVITY_SECONDS", "86400"))
# A running background job whose heartbeat (one per committed chunk) is older than
# this lost its worker: it is queued again to resume, or failed after this many runs.
JOB_STALE_SECONDS = envint("JOB_STALE_SECONDS", 120)
JOB_MAX_ATTEMPTS = envint("JOB_MAX_ATTEMPTS", 3)
JOB_SWEEP_SECONDS = envint("JOB_SWEEP_SECONDS", 60)
PERIODIC_TASKS = [
    ("kontor.activities.tasks.send_reminders", REMINDER_SECONDS),
    ("kontor.mail.tasks.poll_mailboxes", MAIL_POLL_SECONDS),
    ("kontor.processes.tasks.check_deadlines", PROCESS_DEADLINE_SECONDS),
    ("kontor.processes.tasks.check_inactive_customers", PROCESS_INACTIVITY_SECONDS),
    ("kontor.core.tasks.sweep_stale_jobs", JOB_SWEEP_SECONDS),
]
# Process deadlines count business days without German public holidays; a state code
# ("BY", "NW" …) adds that state's holidays.
PROCESS_HOLIDAY_STATE = os.environ.get("PROCESS_HOLIDAY_STATE", "")
# The address links in e-mails (reminders, feed URLs) point to.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

TWO_FACTOR_VERIFY_URL = "/accounts/two-factor/verify/"
TWO_FACTOR_SETUP_URL = "/accounts/two-factor/setup/"

"""Django settings, all read from :mod:`personvern.config` (one documented source)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF

from personvern.config import load_config

CONFIG = load_config()
BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(CONFIG["DATA_DIR"])
PERSONVERN_ENV = CONFIG["ENV"]

SECRET_KEY = CONFIG["SECRET_KEY"]
PERSONVERN_AUDIT_KEY = CONFIG["AUDIT_KEY"]
PERSONVERN_AUDIT_ANCHOR = Path(CONFIG["AUDIT_ANCHOR"] or DATA_DIR / "audit-anchor")
PERSONVERN_POLICY = CONFIG["POLICY"] or None
PERSONVERN_BATCH_SIZE = CONFIG.integer("BATCH_SIZE")
PERSONVERN_SQLITE_RETENTION_WAL_PAGES = CONFIG.integer("SQLITE_RETENTION_WAL_PAGES")
PERSONVERN_BASE_URL = CONFIG["BASE_URL"]
PERSONVERN_INTAKE_IMAP_URL = CONFIG["INTAKE_IMAP_URL"]
PERSONVERN_INTAKE_IMAP_PASSWORD = CONFIG["INTAKE_IMAP_PASSWORD"]
# The mailbox sweep (R19): staff mailboxes, their password, where due mail goes, our domains.
PERSONVERN_MAILBOX_IMAP_URLS = [u.strip() for u in CONFIG["MAILBOX_IMAP_URLS"].split(",")
                                if u.strip()]
PERSONVERN_MAILBOX_IMAP_PASSWORD = CONFIG["MAILBOX_IMAP_PASSWORD"]
PERSONVERN_MAILBOX_MOVE_TO = CONFIG["MAILBOX_MOVE_TO"].strip()
PERSONVERN_MAILBOX_OWN_DOMAINS = [
    d.strip().lower()
    for d in (CONFIG["MAILBOX_OWN_DOMAINS"] or CONFIG["DEFAULT_FROM_EMAIL"].rsplit("@", 1)[-1])
    .split(",")
    if d.strip()
]
PERSONVERN_CLAMD_URL = CONFIG["CLAMD_URL"]
PERSONVERN_WORKER_STALE_SECONDS = CONFIG.integer("WORKER_STALE_SECONDS")
PERSONVERN_DPO_EMAIL = CONFIG["DPO_EMAIL"]
# Min side: sign-in link and session lifetimes, how long a fulfilled request's file is kept.
PORTAL_LINK_MINUTES = CONFIG.integer("PORTAL_LINK_MINUTES")
PORTAL_SESSION_MINUTES = CONFIG.integer("PORTAL_SESSION_MINUTES")
PORTAL_BUNDLE_DAYS = CONFIG.integer("PORTAL_BUNDLE_DAYS")
# Continuing legal education on Min side (see config.py): period and requirement.
PERSONVERN_CLE_PERIOD_YEARS = CONFIG.integer("CLE_PERIOD_YEARS")
PERSONVERN_CLE_PERIOD_START_YEAR = CONFIG.integer("CLE_PERIOD_START_YEAR")
PERSONVERN_CLE_REQUIRED_HOURS = CONFIG.integer("CLE_REQUIRED_HOURS")
PERSONVERN_CLE_MIN_ETHICS_HOURS = CONFIG.integer("CLE_MIN_ETHICS_HOURS")
PERSONVERN_CLE_MAX_NON_LEGAL_HOURS = CONFIG.integer("CLE_MAX_NON_LEGAL_HOURS")
DEBUG = CONFIG.flag("DEBUG")
ALLOWED_HOSTS = [h.strip() for h in CONFIG["ALLOWED_HOSTS"].split(",") if h.strip()]
if PERSONVERN_ENV == "test":
    ALLOWED_HOSTS.append("testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "ninja",
    "axes",
    "django_ratelimit",
    "django_tasks",
    "django_tasks_db",
    "personvern.core",
    "personvern.worker",
    "personvern.policy",
    "personvern.courses",
    "personvern.retention",
    "personvern.rights",
    "personvern.newsletter",
    "personvern.members",
    "personvern.inquiries",
    "personvern.recruitment",
    "personvern.competitions",
    "personvern.customers",
    "personvern.mailbox",
    "personvern.webstats",
    "personvern.site",
    "personvern.portal",
    "personvern.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything reads the body: an over-large upload gets 413, unread.
    "personvern.site.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "personvern.webstats.middleware.WebStatsMiddleware",
    # Turns django-ratelimit's Ratelimited into the 429 page (RATELIMIT_VIEW).
    "django_ratelimit.middleware.RatelimitMiddleware",
    # Last, as django-axes requires: turns a locked-out admin login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out user name and address before the
# password is even checked, so the right password does not open a lock-out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "personvern.urls"
WSGI_APPLICATION = "personvern.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The back office's own admin templates (base_site.html and the like): a
        # directory is searched before the apps, and django.contrib.admin comes first
        # in INSTALLED_APPS, so an app could not override them.
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]


def _databases() -> dict[str, dict[str, object]]:
    url = CONFIG["DATABASE_URL"]
    if url and not url.startswith("sqlite"):
        db: dict[str, Any] = dict(
            dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        )
        if CONFIG["TEST_DATABASE_NAME"]:
            db["TEST"] = {"NAME": CONFIG["TEST_DATABASE_NAME"]}
        return {"default": db}
    if url:
        name = dj_database_url.parse(url)["NAME"]
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        name = str(DATA_DIR / "personvern.sqlite3")
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            "OPTIONS": {
                # WAL lets readers go on while one writer writes; IMMEDIATE takes the
                # write lock at BEGIN so two writers never deadlock on lock upgrade;
                # secure_delete overwrites freed pages so erased data leaves no bytes.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON; "
                    # After a checkpoint a larger WAL (a retention run's) shrinks to 64 MiB.
                    "PRAGMA journal_size_limit=67108864;"
                ),
            },
            "TEST": {
                "NAME": str(DATA_DIR / (CONFIG["TEST_DATABASE_NAME"] or "test") )
                + ".sqlite3"
            },
        }
    }


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work: Django's task framework (the django-tasks backport) with its
# database queue, so tasks commit or roll back with the change that queues them
# and run on SQLite and PostgreSQL alike. `personvern worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

if PERSONVERN_ENV == "test":
    # Tests create many staff users; a slow hash buys them nothing.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "nb"
# Norwegian for the admin strings Django's own nb catalogue lacks ("Show counts",
# "Start typing to filter…"): LOCALE_PATHS wins over every app's catalogue.
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGES = [("nb", "Norsk bokmål"), ("en", "English")]
TIME_ZONE = CONFIG["TIME_ZONE"]
USE_I18N = True
USE_TZ = True
# Dates in words and a 24-hour clock in both languages (site/formats; the filters
# of site_tags use them): "3. desember 2026 kl. 09:00", "3 December 2026, 09:00".
FORMAT_MODULE_PATH = ["personvern.site.formats"]
# Every {{ form }} and field.as_field_group in Designsystemet markup (site/forms/).
FORM_RENDERER = "personvern.site.forms_renderer.SiteFormRenderer"
# A refused form (CSRF) answers with a translated page in the site frame.
CSRF_FAILURE_VIEW = "personvern.site.errors.csrf_failure"

# A request body read into memory (a form, the API's JSON: a member feed of some 90,000
# members) may be as large as the site takes at all (site.uploads.MAX_REQUEST_BYTES,
# which site.middleware enforces unread); Django's 2.5 MB would refuse a full feed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 11 * 1024 * 1024

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

# Security by default: secure cookies everywhere but the local development server.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PERSONVERN_ENV == "production":
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Joining the HSTS preload list is a one-way commitment for the whole domain;
    # the operator makes it at the web server, not this application.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

_email = urlsplit(CONFIG["EMAIL_URL"])
if _email.scheme == "file":
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = _email.path
elif _email.scheme == "console":
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = _email.hostname or "localhost"
EMAIL_PORT = _email.port or 25
#: Seconds before a mail server that stops answering fails the send (smtplib waits forever).
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = CONFIG["DEFAULT_FROM_EMAIL"]

LOGIN_URL = "admin:login"

# The shared cache (rate-limit counters): a database table by default, Redis when
# PERSONVERN_CACHE_URL names one; never process memory, since limits must hold
# across every web process (docs/decisions/0016-rate-limits.md).
CACHES: dict[str, dict[str, Any]]
if CONFIG["CACHE_URL"]:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CONFIG["CACHE_URL"],
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "personvern.core.ratelimits.DatabaseCache",
            "LOCATION": "personvern_cache",  # personvern.site.models.CacheEntry
            # Expired counters are culled past this many rows; live ones only far beyond.
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }

# Rate limits of the public forms and the API (django-ratelimit), from PERSONVERN_RATE_LIMIT_*.
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "personvern.site.views.rate_limited"
RATELIMIT_IP_META_KEY = "personvern.core.ratelimits.client_ip"
RATELIMIT_CLIENT_IP_HEADER = (
    "HTTP_" + CONFIG["CLIENT_IP_HEADER"].strip().upper().replace("-", "_")
    if CONFIG["CLIENT_IP_HEADER"].strip() else ""
)
RATELIMIT_HASH_ALGORITHM = "personvern.core.ratelimits.keyed_digest"
# django-ratelimit warns about any cache outside its short list (memcached,
# django-redis); Django's own Redis cache and our database cache both count atomically.
SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "django_ratelimit.W001"]
RATELIMIT_RATES = {
    "registration": CONFIG["RATE_LIMIT_REGISTRATION"],
    "repeat-notice": CONFIG["RATE_LIMIT_REPEAT_NOTICE"],
    "secure-message": CONFIG["RATE_LIMIT_SECURE_MESSAGE"],
    "cookie-choice": CONFIG["RATE_LIMIT_COOKIE_CHOICE"],
    "newsletter-subscribe": CONFIG["RATE_LIMIT_NEWSLETTER_SUBSCRIBE"],
    "newsletter-confirmation": CONFIG["RATE_LIMIT_NEWSLETTER_CONFIRMATION"],
    "competition-entry": CONFIG["RATE_LIMIT_COMPETITION_ENTRY"],
    "job-application": CONFIG["RATE_LIMIT_JOB_APPLICATION"],
    "portal-sign-in": CONFIG["RATE_LIMIT_PORTAL_SIGN_IN"],
    "portal-link": CONFIG["RATE_LIMIT_PORTAL_LINK"],
    "verify-code": CONFIG["RATE_LIMIT_VERIFY_CODE"],
    "api-auth-failures": CONFIG["RATE_LIMIT_API_AUTH_FAILURES"],
}

# Back-office login lock-out (django-axes): failures counted per user name and
# client address in the database, so every web process sees them.
AXES_FAILURE_LIMIT = CONFIG.integer("ADMIN_LOGIN_FAILURE_LIMIT")
AXES_COOLOFF_TIME = timedelta(minutes=CONFIG.integer("ADMIN_LOGIN_COOLOFF_MINUTES"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "personvern.core.ratelimits.login_client_ip"
AXES_LOCKOUT_CALLABLE = "personvern.site.views.login_locked_out"
AXES_RESET_ON_SUCCESS = True
# No record of successful logins, and a failure's record is kept only for the
# cool-off period (deleted at the next login attempt after it): addresses and user
# names of staff are personal data, and the lock-out needs nothing more.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

"""Django settings, all read from :mod:`personvern.config` (one documented source)."""

from __future__ import annotations

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
PERSONVERN_POLICY = CONFIG["POLICY"] or None
PERSONVERN_BATCH_SIZE = CONFIG.integer("BATCH_SIZE")
PERSONVERN_SQLITE_RETENTION_WAL_PAGES = CONFIG.integer("SQLITE_RETENTION_WAL_PAGES")
PERSONVERN_BASE_URL = CONFIG["BASE_URL"]
PERSONVERN_INTAKE_IMAP_PASSWORD = CONFIG["INTAKE_IMAP_PASSWORD"]
PERSONVERN_CLAMD_URL = CONFIG["CLAMD_URL"]
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
    "personvern.core",
    "personvern.policy",
    "personvern.courses",
    "personvern.retention",
    "personvern.rights",
    "personvern.newsletter",
    "personvern.inquiries",
    "personvern.recruitment",
    "personvern.competitions",
    "personvern.customers",
    "personvern.mailbox",
    "personvern.webstats",
    "personvern.site",
    "personvern.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "personvern.webstats.middleware.WebStatsMiddleware",
]

ROOT_URLCONF = "personvern.urls"
WSGI_APPLICATION = "personvern.wsgi.application"

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

if PERSONVERN_ENV == "test":
    # Tests create many staff users; a slow hash buys them nothing.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", "Norsk bokmål"), ("en", "English")]
TIME_ZONE = CONFIG["TIME_ZONE"]
USE_I18N = True
USE_TZ = True

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

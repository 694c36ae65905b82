"""The one configuration source.

Every key has a documented default below. An optional TOML file named by
``PERSONVERN_CONFIG`` may override any of them, and every key can be overridden
again by an environment variable ``PERSONVERN_<KEY>`` (upper case). The
precedence is: environment > config file > default.

Keys (see docs/operations.md for the operator's view):

``ENV``            ``development`` (default), ``production`` or ``test``.
``SECRET_KEY``     Django's secret. Required in production: a missing one is a
                   hard error. In development it is generated once and kept in
                   ``DATA_DIR/secret_key``.
``AUDIT_KEY``      Key of the audit-log pseudonyms and of its hash chain (HMAC).
                   Required in production; derived from SECRET_KEY in development.
``AUDIT_ANCHOR``   File the audit sealer appends each sealed head of the chain to
                   (``audit verify`` compares the chain with it, so removing the
                   newest entries is detected). Empty means
                   ``DATA_DIR/audit-anchor``; production should name storage the
                   database's writers cannot rewrite (append-only, another host).
``DATABASE_URL``   ``postgres://…`` selects PostgreSQL; empty means the
                   embedded SQLite file ``DATA_DIR/personvern.sqlite3``.
``DATA_DIR``       Where SQLite, generated exports and the dev secret live.
``POLICY``         Path of the policy file; empty means the shipped default.
``ALLOWED_HOSTS``  Comma-separated host names.
``BASE_URL``       The site's public address (``https://www.jus.no``), for links in
                   e-mails such as the newsletter's unsubscribe link. Required
                   in production, where it must be ``https://``; elsewhere it
                   defaults to ``http://127.0.0.1:8000``.
``DEBUG``          ``true``/``false``; default true only in development.
``TIME_ZONE``      Default ``Europe/Oslo``.
``EMAIL_URL``      Where outgoing mail goes: ``smtp://host:port`` (a mail server),
                   ``file:///path/to/dir`` (each message written as a file) or
                   ``console://`` (printed). Empty means ``smtp://localhost:25``,
                   except in development, where mail is written to
                   ``DATA_DIR/outbox`` so the demo needs no mail server.
``DEFAULT_FROM_EMAIL``  Sender of outgoing mail.
``CLAMD_URL``      The ClamAV daemon that scans every received file (R21):
                   ``unix:///run/clamav/clamd.ctl`` or ``tcp://127.0.0.1:3310``.
                   Required in production (start-up fails without it); a file
                   that cannot be scanned is refused. Empty elsewhere disables
                   scanning: files are kept as "not scanned" and cannot be
                   downloaded (ADR 0011).
``INTAKE_IMAP_URL``  The mailbox the worker's ``rights-intake`` job reads privacy
                   requests from every 5 minutes: ``imaps://user@host[:port]/INBOX``
                   (no password in it). Empty (the default) leaves the job
                   disabled; ``personvern rights intake URL`` still works by hand.
``INTAKE_IMAP_PASSWORD``  Password of that mailbox (and of the one ``personvern
                   rights intake imaps://user@host/mailbox`` reads).
``MAILBOX_IMAP_URLS``  The staff mailboxes the nightly ``mailbox-sweep`` job
                   (and ``personvern mailbox sweep``) keeps e-mail retention in (R19):
                   ``imaps://user@host[:port]/INBOX`` addresses, separated by commas
                   (no password in them; one address per folder: ``…/INBOX``,
                   ``…/Sent``). Empty (the default) leaves the job disabled.
``MAILBOX_IMAP_PASSWORD``  Password the sweep logs in to each of them with (a
                   service account with access to the staff mailboxes, or a Dovecot
                   master user written ``user*master`` in each address).
``MAILBOX_MOVE_TO``  Empty (default): the sweep deletes due mail (``UID EXPUNGE``).
                   A folder name: due mail is moved there instead, and the mail
                   server's own policy must empty that folder (Dovecot ``autoexpunge``).
``MAILBOX_OWN_DOMAINS``  Our e-mail domains, separated by commas: mail from them is
                   "sent", its recipients are the correspondents. Empty means the
                   domain of ``DEFAULT_FROM_EMAIL``.
``BATCH_SIZE``     Rows per transaction in bulk engines (retention, exports).
``SQLITE_RETENTION_WAL_PAGES``  SQLite only: during a retention run the
                   write-ahead log may grow to this many pages (4 KiB each;
                   default 50,000, about 200 MB) before it is checkpointed into
                   the database file; 0 keeps SQLite's 1,000 (ADR 0010).
``WORKER_STALE_SECONDS``  Seconds without a heartbeat after which a worker
                   counts as stopped and its unfinished task is handed to another
                   worker (default 120).
``DPO_EMAIL``      Where the worker sends the data protection officer's reminders
                   (deadlines, processor audits, hotel follow-ups) when no staff
                   user in that role has an address; empty means the policy's
                   controller contact address.
``TEST_DATABASE_NAME``  Name of the database the test suite creates (lets two
                   test runs share one server); empty means Django's default.
``CACHE_URL``      The cache every web process shares; the rate-limit counters
                   live there. Empty (default) means a table of the database
                   (``personvern_cache``, created by the migrations), which holds
                   across processes on SQLite and PostgreSQL alike;
                   ``redis://host:6379/0`` (or ``rediss://``) selects Redis, which
                   needs the ``redis`` package (``pip install personvern[redis]``).
``CLIENT_IP_HEADER``  Behind a reverse proxy: the header it sets to the client's
                   address (``X-Forwarded-For``: the right-most address is used,
                   the one the proxy appended; or ``X-Real-IP``). Empty (default)
                   means the TCP peer's address. Set it only when every request
                   comes through that proxy: any client can send the header.
``RATE_LIMIT_REGISTRATION``  Course registration form posts per client address
                   (default ``30/10m``: 30 per 10 minutes; ``N/s``, ``N/m``,
                   ``N/h``, ``N/d``, ``N/<k><unit>``).
``RATE_LIMIT_REPEAT_NOTICE``  "Registered again" e-mails to one address (default
                   ``1/h``); the form answers alike, the repeat is not mailed.
``RATE_LIMIT_SECURE_MESSAGE``  Secure-message posts per client (default ``10/h``).
``RATE_LIMIT_COOKIE_CHOICE``  Cookie choices recorded per client (default ``100/10m``).
``RATE_LIMIT_NEWSLETTER_SUBSCRIBE``  Newsletter sign-up posts per client (default ``10/h``).
``RATE_LIMIT_NEWSLETTER_CONFIRMATION``  Newsletter confirmation mails to one address
                   (default ``1/10m``); the form answers alike, the extra mail is not sent.
``RATE_LIMIT_COMPETITION_ENTRY``  Competition entry posts per client (default ``20/h``).
``RATE_LIMIT_JOB_APPLICATION``  Open job application posts per client (default ``10/h``).
``RATE_LIMIT_PORTAL_SIGN_IN``  Min side sign-in link requests per client (default ``10/h``).
``RATE_LIMIT_PORTAL_LINK``  Min side sign-in links mailed to one address (default
                   ``1/5m``); the form answers alike, the extra link is not mailed.
``RATE_LIMIT_VERIFY_CODE``  Privacy-request confirmation codes entered per client
                   (default ``20/h``; wrong codes are also counted per request).
``RATE_LIMIT_API_AUTH_FAILURES``  API calls with a wrong token per client
                   (default ``20/10m``); after that every token is refused with
                   429 until the window ends.
``ADMIN_LOGIN_FAILURE_LIMIT``  Failed back-office logins per user name and
                   client address before that pair is locked out (default 5).
``ADMIN_LOGIN_COOLOFF_MINUTES``  How long the lock-out lasts (default 15).
``PORTAL_LINK_MINUTES``  How long a Min side sign-in link is valid (default 15);
                   each link can be used once.
``PORTAL_SESSION_MINUTES``  How long a Min side sign-in lasts (default 30).
``PORTAL_BUNDLE_DAYS``  Days a fulfilled access or portability request's file stays
                   downloadable in Min side before the worker deletes it (default 30).
``CLE_PERIOD_YEARS``  Continuing legal education (Min side's record): length of a
                   period in whole calendar years (default 5).
``CLE_PERIOD_START_YEAR``  The year the first period begins on 1 January (default
                   2020): periods are fixed, back to back, aligned to calendar
                   years in Norwegian time (2020–2024, 2025–2029, …), as the
                   Bar Association counts them; a course counts in the period
                   of the day it ends.
``CLE_REQUIRED_HOURS``  Hours needed in a period (default 80).
``CLE_MIN_ETHICS_HOURS``  Of those, at least this many in legal ethics (default 5).
``CLE_MAX_NON_LEGAL_HOURS``  Non-legal hours count towards the requirement up to
                   this many a period (default 25); more are shown but not counted.
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "SECRET_KEY": "",
    "AUDIT_KEY": "",
    "AUDIT_ANCHOR": "",
    "DATABASE_URL": "",
    "DATA_DIR": "",
    "POLICY": "",
    "ALLOWED_HOSTS": "localhost,127.0.0.1,[::1]",
    "BASE_URL": "",
    "DEBUG": "",
    "TIME_ZONE": "Europe/Oslo",
    "EMAIL_URL": "",
    "DEFAULT_FROM_EMAIL": "juspost@jus.no",
    "CLAMD_URL": "",
    "INTAKE_IMAP_URL": "",
    "INTAKE_IMAP_PASSWORD": "",
    "MAILBOX_IMAP_URLS": "",
    "MAILBOX_IMAP_PASSWORD": "",
    "MAILBOX_MOVE_TO": "",
    "MAILBOX_OWN_DOMAINS": "",
    "BATCH_SIZE": "5000",
    "SQLITE_RETENTION_WAL_PAGES": "50000",
    "WORKER_STALE_SECONDS": "120",
    "DPO_EMAIL": "",
    "TEST_DATABASE_NAME": "",
    "CACHE_URL": "",
    "CLIENT_IP_HEADER": "",
    "RATE_LIMIT_REGISTRATION": "30/10m",
    "RATE_LIMIT_REPEAT_NOTICE": "1/h",
    "RATE_LIMIT_SECURE_MESSAGE": "10/h",
    "RATE_LIMIT_COOKIE_CHOICE": "100/10m",
    "RATE_LIMIT_NEWSLETTER_SUBSCRIBE": "10/h",
    "RATE_LIMIT_NEWSLETTER_CONFIRMATION": "1/10m",
    "RATE_LIMIT_COMPETITION_ENTRY": "20/h",
    "RATE_LIMIT_JOB_APPLICATION": "10/h",
    "RATE_LIMIT_PORTAL_SIGN_IN": "10/h",
    "RATE_LIMIT_PORTAL_LINK": "1/5m",
    "RATE_LIMIT_VERIFY_CODE": "20/h",
    "RATE_LIMIT_API_AUTH_FAILURES": "20/10m",
    "PORTAL_LINK_MINUTES": "15",
    "PORTAL_SESSION_MINUTES": "30",
    "PORTAL_BUNDLE_DAYS": "30",
    "ADMIN_LOGIN_FAILURE_LIMIT": "5",
    "ADMIN_LOGIN_COOLOFF_MINUTES": "15",
    "CLE_PERIOD_YEARS": "5",
    "CLE_PERIOD_START_YEAR": "2020",
    "CLE_REQUIRED_HOURS": "80",
    "CLE_MIN_ETHICS_HOURS": "5",
    "CLE_MAX_NON_LEGAL_HOURS": "25",
}


class ConfigurationError(RuntimeError):
    """Raised when the configuration cannot run the system safely."""


@dataclass(frozen=True)
class Config:
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.values[key]

    def flag(self, key: str) -> bool:
        return self.values[key].strip().lower() in {"1", "true", "yes", "on"}

    def integer(self, key: str) -> int:
        try:
            return int(self.values[key])
        except ValueError as exc:
            raise ConfigurationError(
                f"PERSONVERN_{key} must be an integer, got {self.values[key]!r}"
            ) from exc

    @property
    def production(self) -> bool:
        return self.values["ENV"] == "production"


def load_config(environ: dict[str, str] | None = None) -> Config:
    """Merge defaults, the optional config file and the environment."""
    env = dict(os.environ if environ is None else environ)
    values = {k: str(v) for k, v in DEFAULTS.items()}
    file = env.get("PERSONVERN_CONFIG")
    if file:
        path = Path(file)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"{path}: cannot read configuration: {exc}") from exc
        for key, value in data.items():
            if key.upper() not in DEFAULTS:
                raise ConfigurationError(f"{path}: unknown configuration key {key!r}")
            values[key.upper()] = str(value)
    for key in DEFAULTS:
        if f"PERSONVERN_{key}" in env:
            values[key] = env[f"PERSONVERN_{key}"]
    if values["ENV"] not in {"development", "production", "test"}:
        raise ConfigurationError(
            f"PERSONVERN_ENV must be development, production or test, not {values['ENV']!r}"
        )
    if not values["DATA_DIR"]:
        values["DATA_DIR"] = str(Path.cwd() / "var")
    if not values["DEBUG"]:
        values["DEBUG"] = "true" if values["ENV"] == "development" else "false"
    values["SECRET_KEY"] = _secret(values, "SECRET_KEY")
    values["AUDIT_KEY"] = values["AUDIT_KEY"] or _derived_audit_key(values)
    values["BASE_URL"] = _base_url(values)
    if not values["EMAIL_URL"]:
        values["EMAIL_URL"] = (
            (Path(values["DATA_DIR"]) / "outbox").as_uri()
            if values["ENV"] == "development" else "smtp://localhost:25"
        )
    if values["EMAIL_URL"].split("://", 1)[0] not in {"smtp", "file", "console"}:
        raise ConfigurationError(
            "PERSONVERN_EMAIL_URL must start with smtp://, file:// or console://, "
            f"not {values['EMAIL_URL']!r}."
        )
    values["CLAMD_URL"] = _clamd_url(values)
    _check_rate_limits(values)
    return Config(values)


#: A rate as django-ratelimit reads it: a count, "/", an optional multiplier and a unit.
RATE_PATTERN = re.compile(r"[1-9][0-9]*/(?:[1-9][0-9]*)?[smhd]")


def _check_rate_limits(values: dict[str, str]) -> None:
    for key in DEFAULTS:
        if key.startswith("RATE_LIMIT_") and not RATE_PATTERN.fullmatch(values[key].strip()):
            raise ConfigurationError(
                f"PERSONVERN_{key} must be a rate such as 30/10m (30 per 10 minutes; units "
                f"s, m, h, d), not {values[key]!r}."
            )
        values[key] = values[key].strip()
    for key in ("CLE_PERIOD_YEARS", "CLE_PERIOD_START_YEAR"):
        if not values[key].strip().isdigit() or int(values[key]) < 1:
            raise ConfigurationError(
                f"PERSONVERN_{key} must be a whole number of at least 1, not {values[key]!r}."
            )
    for key in ("CLE_REQUIRED_HOURS", "CLE_MIN_ETHICS_HOURS", "CLE_MAX_NON_LEGAL_HOURS"):
        if not values[key].strip().isdigit():
            raise ConfigurationError(
                f"PERSONVERN_{key} must be a whole number of hours, not {values[key]!r}."
            )
    for key in ("ADMIN_LOGIN_FAILURE_LIMIT", "ADMIN_LOGIN_COOLOFF_MINUTES"):
        if not values[key].strip().isdigit() or int(values[key]) < 1:
            raise ConfigurationError(
                f"PERSONVERN_{key} must be a whole number of at least 1, not {values[key]!r}."
            )
    url = values["CACHE_URL"].strip()
    if url and url.split("://", 1)[0] not in {"redis", "rediss"}:
        raise ConfigurationError(
            "PERSONVERN_CACHE_URL must be empty (a table of the database) or redis://… "
            f"or rediss://…, not {url!r}."
        )
    if url and importlib.util.find_spec("redis") is None:
        raise ConfigurationError(
            "PERSONVERN_CACHE_URL names Redis, but the redis package is not installed "
            "(pip install 'personvern[redis]')."
        )
    values["CACHE_URL"] = url


def _clamd_url(values: dict[str, str]) -> str:
    url = values["CLAMD_URL"].strip()
    if not url and values["ENV"] == "production":
        raise ConfigurationError(
            "PERSONVERN_CLAMD_URL is not set: production scans every received file for "
            "malware (R21); name the ClamAV daemon, e.g. unix:///run/clamav/clamd.ctl."
        )
    if url and not (url.startswith("unix:///") or url.startswith("tcp://")):
        raise ConfigurationError(
            f"PERSONVERN_CLAMD_URL must be unix:///path/to/socket or tcp://host:port, not {url!r}."
        )
    return url


def _base_url(values: dict[str, str]) -> str:
    url = values["BASE_URL"].strip().rstrip("/")
    if values["ENV"] != "production":
        return url or "http://127.0.0.1:8000"
    if not url.startswith("https://") or len(url) <= len("https://"):
        raise ConfigurationError(
            "PERSONVERN_BASE_URL must be the site's https:// address in production "
            f"(links in e-mails point there), not {url!r}."
        )
    return url


def _secret(values: dict[str, str], key: str) -> str:
    if values[key]:
        return values[key]
    if values["ENV"] == "production":
        raise ConfigurationError(
            f"PERSONVERN_{key} is not set: a production deployment needs its own secret."
        )
    # Development and tests: generate once, keep it beside the data so sessions survive.
    path = Path(values["DATA_DIR"]) / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(50)
    path.write_text(secret, encoding="utf-8")
    path.chmod(0o600)
    return secret


def _derived_audit_key(values: dict[str, str]) -> str:
    if values["ENV"] == "production":
        raise ConfigurationError(
            "PERSONVERN_AUDIT_KEY is not set: a production deployment needs its own key "
            "for audit pseudonyms."
        )
    import hashlib

    return hashlib.sha256(b"audit-key:" + values["SECRET_KEY"].encode()).hexdigest()

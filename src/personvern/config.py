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
``AUDIT_KEY``      Key of the audit-log pseudonyms (HMAC). Required in
                   production; derived from SECRET_KEY in development.
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
``INTAKE_IMAP_PASSWORD``  Password of the mailbox ``personvern rights intake
                   imaps://user@host/mailbox`` reads privacy requests from.
``BATCH_SIZE``     Rows per transaction in bulk engines (retention, exports).
``SQLITE_RETENTION_WAL_PAGES``  SQLite only: during a retention run the
                   write-ahead log may grow to this many pages (4 KiB each;
                   default 50,000, about 200 MB) before it is checkpointed into
                   the database file; 0 keeps SQLite's 1,000 (ADR 0010).
``TEST_DATABASE_NAME``  Name of the database the test suite creates (lets two
                   test runs share one server); empty means Django's default.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "SECRET_KEY": "",
    "AUDIT_KEY": "",
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
    "INTAKE_IMAP_PASSWORD": "",
    "BATCH_SIZE": "5000",
    "SQLITE_RETENTION_WAL_PAGES": "50000",
    "TEST_DATABASE_NAME": "",
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
    return Config(values)


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

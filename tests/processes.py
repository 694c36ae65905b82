"""For tests that start other processes (workers, web servers) against the test database."""

from __future__ import annotations

from pathlib import Path

from django.db import connection


def database_url() -> str:
    """The test database as a ``PERSONVERN_DATABASE_URL`` another process can use."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"

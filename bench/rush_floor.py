"""The floor of the registration rush (bench/rush.py): only the seat claim, in raw SQL.

A bare WSGI application served by the same gunicorn as the system: it reads the
posted e-mail address and, in one transaction, locks the course row, counts the
confirmed seats and inserts a confirmed or wait-listed row into a table of its own
(``rush_floor``). No form, no template, no session, no audit, no mail: what is
left of a registration when everything but the capacity guarantee is taken away.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

import psycopg

_connection: psycopg.Connection[Any] | None = None


def _db() -> psycopg.Connection[Any]:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["RUSH_FLOOR_DATABASE_URL"])
    return _connection


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["REQUEST_METHOD"] != "POST":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"floor"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    form = parse_qs(environ["wsgi.input"].read(length).decode())
    email = form.get("email", [""])[0]
    course = int(os.environ["RUSH_FLOOR_COURSE"])
    conn = _db()
    with conn.transaction():
        capacity = conn.execute(
            "SELECT capacity FROM courses_course WHERE id = %s FOR UPDATE", [course]
        ).fetchone()[0]  # type: ignore[index]
        taken = conn.execute(
            "SELECT count(*) FROM rush_floor WHERE course_id = %s AND status = 'confirmed'",
            [course],
        ).fetchone()[0]  # type: ignore[index]
        status = "confirmed" if taken < capacity else "waitlisted"
        conn.execute(
            "INSERT INTO rush_floor (course_id, email, status) VALUES (%s, %s, %s)",
            [course, email, status],
        )
    start_response("302 Found", [("Location", "/registered/"), ("Content-Length", "0")])
    return [b""]

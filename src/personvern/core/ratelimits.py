"""Rate limits of the public doors, shared by every web process (docs/decisions/0016).

The counting is django-ratelimit's (fixed windows, counters in the cache named
by ``RATELIMIT_USE_CACHE``); admin logins are limited by django-axes. This
module holds what those libraries leave to the project:

- :func:`client_ip`: whose request it is. The TCP peer (``REMOTE_ADDR``),
  unless the operator names the header a trusted reverse proxy sets
  (``PERSONVERN_CLIENT_IP_HEADER``); a header no proxy vouches for is never
  read, since any client can send one.
- :func:`keyed_digest`: counters are stored under an HMAC of the client address
  or e-mail address, keyed with the secret key, so the cache table holds no
  address and no hash that could be reversed by trying all IPv4 addresses.
- :class:`DatabaseCache`: Django's database cache with an atomic ``incr`` that
  keeps the key's expiry. Django's own ``incr`` is a read then a write (two
  processes can both count 4 → 5) that also resets the expiry to the default
  timeout; django-ratelimit refuses it for that reason (``E003``). Ours writes
  only where the row still holds what it read (compare and set), trying again
  when another process counted in between. Its ``add``
  (the first count of a window) is one ``INSERT … ON CONFLICT`` statement, and
  the table is counted for culling on one ``add`` in :data:`CULL_EVERY`, not on
  every write as Django's does (ADR 0031). It is the
  embedded default, so that limits hold across processes on SQLite and
  PostgreSQL without another server; ``PERSONVERN_CACHE_URL=redis://…`` selects
  Django's Redis cache instead.
- :func:`configured_rate` and :func:`allow`: the rates come from the settings
  (``RATELIMIT_RATES``, from ``PERSONVERN_RATE_LIMIT_*``), read per request so
  that tests and operators can change them; :func:`allow` counts an event that
  is not a request, such as a mail to one address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import pickle
import random
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_ratelimit.core import get_usage


def client_ip(request: HttpRequest) -> str:
    """The client's address: the configured proxy header's, else the TCP peer's.

    ``RATELIMIT_CLIENT_IP_HEADER`` is the ``request.META`` key of the header
    (``HTTP_X_FORWARDED_FOR``); empty means no proxy is trusted. From a list
    (``X-Forwarded-For: spoofed, real``) the right-most address is taken: the
    one the operator's proxy appended, not one the client wrote. A missing or
    malformed header value falls back to the peer address.
    """
    header = getattr(settings, "RATELIMIT_CLIENT_IP_HEADER", "")
    if header:
        candidate = request.META.get(header, "").rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    peer = request.META.get("REMOTE_ADDR", "")
    if not peer:
        raise ImproperlyConfigured(
            "The request has no client address (REMOTE_ADDR is empty, as behind a proxy on a "
            "Unix socket): set PERSONVERN_CLIENT_IP_HEADER to the header the proxy sets."
        )
    return str(peer)


def login_client_ip(request: HttpRequest) -> str | None:
    """:func:`client_ip` for django-axes, which also sees logins made without a request
    from a client (``Client.force_login``, management commands): those have none."""
    try:
        return client_ip(request)
    except ImproperlyConfigured:
        return None


def keyed_digest(data: bytes) -> hmac.HMAC:
    """The digest counters are stored under (``RATELIMIT_HASH_ALGORITHM``): HMAC-SHA-256."""
    return hmac.new(settings.SECRET_KEY.encode(), data, hashlib.sha256)


def configured_rate(group: str, request: HttpRequest | None = None) -> str:
    """The rate (``"30/10m"``) configured for ``group`` (a key of ``RATELIMIT_RATES``)."""
    rate: str = settings.RATELIMIT_RATES[group]
    return rate


def allow(group: str, value: str) -> bool:
    """Count one event for ``value`` (an address) in ``group``; False once over its limit."""
    usage = get_usage(
        None, group=group, key=lambda _group, _request: value, rate=configured_rate,
        increment=True,
    )
    return usage is None or not usage["should_limit"]


def usage(request: HttpRequest, group: str, *, increment: bool) -> dict[str, Any] | None:
    """django-ratelimit's usage of ``group`` by the request's client (count, limit, time_left)."""
    result: dict[str, Any] | None = get_usage(
        request, group=group, key="ip", rate=configured_rate, increment=increment
    )
    return result


#: ``add`` counts the table (and culls expired rows past ``MAX_ENTRIES``) about
#: once in this many calls, not on every write as Django's database cache does:
#: a ``COUNT(*)`` of the table on every counted request was a fifth of a
#: registration's statements. Between two counts the table can outgrow its limit
#: by about this many rows.
CULL_EVERY = 200
#: Compare-and-set tries of :meth:`DatabaseCache.incr` before it takes the row lock.
INCR_TRIES = 3


class DatabaseCache(DjangoDatabaseCache):
    """Django's database cache whose ``incr`` is atomic and keeps the key's expiry.

    ``incr`` reads the count and writes the next one with ``WHERE value = <read>``:
    a count another process wrote in between makes the write miss, and the read
    is done again, so concurrent requests in several processes never lose a
    count. After :data:`INCR_TRIES` misses it locks the row (``SELECT … FOR
    UPDATE`` on PostgreSQL; on SQLite the transaction's write lock).
    ``add`` is one statement (an upsert that replaces only an expired row) and
    culls only now and then (:data:`CULL_EVERY`).
    """

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT,
            version: int | None = None) -> bool:
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        if connection.vendor not in ("postgresql", "sqlite"):
            return bool(super().add(key, value, timeout, version))
        key = self.make_and_validate_key(key, version=version)
        seconds = self.get_backend_timeout(timeout)
        now = timezone.now().replace(microsecond=0)
        expires = datetime.max.replace(tzinfo=UTC) if seconds is None \
            else datetime.fromtimestamp(seconds, tz=UTC)
        quote = connection.ops.quote_name
        table = quote(self._table)  # type: ignore[attr-defined]  # set by BaseDatabaseCache
        encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
        with connection.cursor() as cursor:
            if random.random() * CULL_EVERY < 1:  # noqa: S311 - not a secret
                cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
                count = cursor.fetchone()[0]
                if count > self._max_entries:
                    self._cull(db, cursor, now, count)  # type: ignore[attr-defined]
            # Inserted, or an expired row replaced: a row comes back; a live one: none.
            cursor.execute(
                f"INSERT INTO {table} ({quote('cache_key')}, {quote('value')}, "  # noqa: S608
                f"{quote('expires')}) VALUES (%s, %s, %s) ON CONFLICT ({quote('cache_key')}) "
                f"DO UPDATE SET {quote('value')} = EXCLUDED.{quote('value')}, "
                f"{quote('expires')} = EXCLUDED.{quote('expires')} "
                f"WHERE {table}.{quote('expires')} < %s RETURNING {quote('cache_key')}",
                [key, encoded,
                 connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0)),
                 connection.ops.adapt_datetimefield_value(now)],
            )
            return cursor.fetchone() is not None

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self._table)  # type: ignore[attr-defined]  # set by BaseDatabaseCache
        value_col, key_col, expires_col = quote("value"), quote("cache_key"), quote("expires")
        now = connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))
        # Compare and set: read the count, write the next one only where the row still
        # holds what was read. Two statements and no transaction; a count that another
        # process changed in between is read again, so none is lost (ADR 0036).
        with connection.cursor() as cursor:
            for _attempt in range(INCR_TRIES):
                cursor.execute(
                    f"SELECT {value_col}, {expires_col} FROM {table} "  # noqa: S608
                    f"WHERE {key_col} = %s AND {expires_col} >= %s",
                    [key, now],
                )
                row = cursor.fetchone()
                if row is None:
                    raise ValueError(f"Key {key!r} not found")
                stored, expires = row
                value = pickle.loads(base64.b64decode(stored.encode())) + delta  # noqa: S301
                encoded = base64.b64encode(
                    pickle.dumps(value, self.pickle_protocol)).decode("latin1")
                cursor.execute(
                    f"UPDATE {table} SET {value_col} = %s "  # noqa: S608
                    f"WHERE {key_col} = %s AND {value_col} = %s AND {expires_col} = %s",
                    [encoded, key, stored, expires],
                )
                if cursor.rowcount == 1:
                    return value
        return self._incr_locked(key, delta, connection, db)

    def _incr_locked(self, key: str, delta: int, connection: Any, db: str) -> Any:
        """:meth:`incr` under a row lock, after :data:`INCR_TRIES` lost races."""
        quote = connection.ops.quote_name
        table = quote(self._table)  # type: ignore[attr-defined]  # set by BaseDatabaseCache
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        now = connection.ops.adapt_datetimefield_value(timezone.now().replace(microsecond=0))
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('value')} FROM {table} "  # noqa: S608 - quoted identifiers
                f"WHERE {quote('cache_key')} = %s AND {quote('expires')} >= %s{lock}",
                [key, now],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key {key!r} not found")
            value = pickle.loads(base64.b64decode(row[0].encode())) + delta  # noqa: S301
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {quote('value')} = %s "  # noqa: S608
                f"WHERE {quote('cache_key')} = %s",
                [encoded, key],
            )
        return value

"""The shared database cache's ``add`` (core/ratelimits.py, ADR 0016, ADR 0031).

One upsert: a new key is added, a live key is left alone, an expired key is
replaced. Rate limits count on this; the two-server tests in
tests/test_rate_limits.py show the counters shared across processes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache, caches
from django.utils import timezone

from personvern.core import ratelimits
from personvern.site.models import CacheEntry

pytestmark = pytest.mark.django_db


def test_add_adds_a_new_key_and_leaves_a_live_one_alone() -> None:
    assert cache.add("k", 1, 60) is True
    assert cache.add("k", 5, 60) is False
    assert cache.get("k") == 1
    assert cache.incr("k") == 2


def test_add_replaces_an_expired_key() -> None:
    assert cache.add("k", 1, 60) is True
    CacheEntry.objects.update(expires=timezone.now() - timedelta(seconds=5))

    assert cache.add("k", 7, 60) is True
    assert cache.get("k") == 7


def test_add_culls_expired_rows_past_the_limit_when_it_counts(monkeypatch) -> None:
    backend = caches["default"]
    monkeypatch.setattr(ratelimits, "CULL_EVERY", 1)  # count on every add
    monkeypatch.setattr(backend, "_max_entries", 3)
    monkeypatch.setattr(backend, "_cull_frequency", 1)  # cull everything expired, then all
    for key in "abcd":
        cache.add(key, 1, 60)
    CacheEntry.objects.update(expires=timezone.now() - timedelta(seconds=5))

    cache.add("e", 1, 60)

    assert list(CacheEntry.objects.values_list("cache_key", flat=True)) == [
        cache.make_key("e")
    ]


def test_incr_counts_on_and_keeps_the_expiry_of_the_window() -> None:
    cache.add("k", 1, 60)
    expires = CacheEntry.objects.get().expires
    assert [cache.incr("k") for _ in range(3)] == [2, 3, 4]
    assert cache.incr("k", 10) == 14
    assert CacheEntry.objects.get().expires == expires  # the window is not lengthened
    assert cache.get("k") == 14


def test_incr_of_an_expired_or_missing_key_is_refused() -> None:
    with pytest.raises(ValueError, match="not found"):
        cache.incr("missing")
    cache.add("k", 1, 60)
    CacheEntry.objects.update(expires=timezone.now() - timedelta(seconds=5))
    with pytest.raises(ValueError, match="not found"):
        cache.incr("k")


def test_incr_that_keeps_losing_its_race_takes_the_row_lock(monkeypatch) -> None:
    """The compare-and-set misses when another process wrote in between; after
    ``INCR_TRIES`` misses the count is made under the row lock, never lost."""
    monkeypatch.setattr(ratelimits, "INCR_TRIES", 0)  # every try "lost": straight to the lock
    cache.add("k", 1, 60)
    assert cache.incr("k") == 2
    assert cache.get("k") == 2

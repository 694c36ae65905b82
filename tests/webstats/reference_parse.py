"""The access log parser as it was before issue 10's rewrite (commit 5ad1dd8), kept
unchanged as the oracle of the equivalence tests: one regular expression per
line, per-distinct-value caches. The shipped parser
(:mod:`personvern.webstats.logs`) must give the same :class:`ParsedLog`.
"""

# ruff: noqa
from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.utils import timezone as django_timezone

from personvern.webstats.classify import (
    PATH_MAX,
    browser_family,
    clean_search_term,
    device_class,
    is_bot,
)
from personvern.webstats.middleware import EXCLUDED_PREFIXES, counted_path
from personvern.webstats.services import Bucket

# The first field (the client address) is skipped with \S+, not captured.
_LINE = re.compile(
    r'^\S+ \S+ \S+ \[(?P<time>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] '
    r'"(?P<method>[A-Z]+) (?P<target>\S+) [^"]*" '
    r'(?P<status>\d{3}) \S+(?: "[^"]*" "(?P<agent>[^"]*)")?'
)
#: Requests for files rather than pages are not page views.
_ASSET = re.compile(r"\.(css|js|png|jpe?g|gif|svg|ico|webp|woff2?|map|txt|xml)$", re.I)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
#: How many malformed line numbers a report lists (it always gives the total).
MALFORMED_SHOWN = 10


@dataclass
class ParsedLog:
    """What a log yields.

    ``counts``: page views per bucket, of the lines after ``already_imported``
    (the longest start of the log recorded as imported before); ``lines``: lines
    read; ``counted``: page views counted; ``bots``: page requests left out as
    crawlers'; ``malformed``: the first :data:`MALFORMED_SHOWN` numbers of lines
    not in the log format, ``malformed_total`` all of them (they are not counted,
    the rest is); ``digest``: the keyed digest of all lines read.
    """

    counts: Counter[Bucket] = field(default_factory=Counter)
    lines: int = 0
    counted: int = 0
    bots: int = 0
    malformed: list[int] = field(default_factory=list)
    malformed_total: int = 0
    already_imported: int = 0
    digest: str = ""
    #: The last line had no line end (the server was writing it): left for the next import.
    incomplete_last_line: bool = False


def log_digest_key() -> bytes:
    """The key of :attr:`ImportedLog.digest <personvern.webstats.models.ImportedLog.digest>`."""
    label = b"personvern.webstats.imported-log:"
    return hashlib.sha256(label + settings.SECRET_KEY.encode()).digest()


def _hour_bucket(stamp: str) -> tuple[date, int]:
    """The (day, hour) in the site's time zone of ``dd/Mon/yyyy:HH:MM[:SS] +hhmm``.

    Raises ``ValueError`` (or ``KeyError`` for an unknown month) if it is no time.
    """
    day, month, rest = stamp.split("/", 2)
    year, hour, minute = rest[0:4], rest[5:7], rest[8:10]
    offset = rest[-5:]
    sign = -1 if offset[0] == "-" else 1
    tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
    at = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), tzinfo=tz)
    local = django_timezone.localtime(at)
    return local.date(), local.hour


class _Classifier:
    """Per-log memory of what each distinct time, User-Agent and target came to."""

    def __init__(self) -> None:
        self.hours: dict[str, tuple[date, int]] = {}
        self.agents: dict[str, tuple[str, str] | None] = {}
        self.targets: dict[str, tuple[str, str] | None] = {}

    def hour(self, stamp: str) -> tuple[date, int]:
        # To the minute with the offset: a half-hour offset splits a log hour in two.
        key = stamp[:17] + stamp[-5:]
        found = self.hours.get(key)
        if found is None:
            found = self.hours[key] = _hour_bucket(key)
        if int(stamp[18:20]) > 60:  # 60: a leap second
            raise ValueError(stamp)
        return found

    def agent(self, agent: str) -> tuple[str, str] | None:
        """(device class, browser family), or ``None`` for a crawler."""
        if agent not in self.agents:
            self.agents[agent] = (
                None if is_bot(agent) else (device_class(agent), browser_family(agent))
            )
        return self.agents[agent]

    def target(self, target: str) -> tuple[str, str] | None:
        """(counted path, cleaned search term), or ``None`` if the target is no page."""
        if target not in self.targets:
            parts = urlsplit(target)
            path = parts.path or "/"
            if path.startswith(EXCLUDED_PREFIXES) or _ASSET.search(path):
                self.targets[target] = None
            else:
                term = parse_qs(parts.query).get("q", [""])[0]
                self.targets[target] = (counted_path(path)[:PATH_MAX], clean_search_term(term))
        return self.targets[target]


def parse_access_log(
    lines: Iterable[str], *, imported: Mapping[int, Collection[str]] | None = None
) -> ParsedLog:
    """Aggregate successful page GETs of an access log into page view buckets.

    ``imported`` maps a number of lines to the digests of the logs of that
    length imported before (see
    :class:`~personvern.webstats.models.ImportedLog`): when the log's first
    ``n`` lines have a recorded digest, those lines were counted already and
    only the lines after the longest such start are counted now. A last line
    without a line end is being written: it is neither counted nor part of the
    digest, so the next import of the grown log counts it once, whole.
    """
    known = imported or {}
    result = ParsedLog()
    seen = _Classifier()
    running = hmac.new(log_digest_key(), digestmod=hashlib.sha256)
    for number, line in enumerate(lines, start=1):
        if not line.endswith("\n"):
            result.incomplete_last_line = True
            break
        result.lines = number
        running.update(line.encode("utf-8", "surrogateescape"))
        if number in known and running.copy().hexdigest() in known[number]:
            # Everything up to here was counted by an earlier import: start again.
            result.counts.clear()
            result.counted = result.bots = result.malformed_total = 0
            result.malformed.clear()
            result.already_imported = number
            continue
        if not line.strip():
            continue
        match = _LINE.match(line)
        bucket_hour: tuple[date, int] | None = None
        if match:
            try:
                bucket_hour = seen.hour(match["time"])
            except (ValueError, KeyError):
                bucket_hour = None
        if match is None or bucket_hour is None:
            result.malformed_total += 1
            if len(result.malformed) < MALFORMED_SHOWN:
                result.malformed.append(number)
            continue
        if match["method"] != "GET" or match["status"] != "200":
            continue
        page = seen.target(match["target"])
        if page is None:
            continue
        client = seen.agent(match["agent"] or "")
        if client is None:
            result.bots += 1
            continue
        day, hour = bucket_hour
        result.counts[Bucket(day, hour, page[0], page[1], client[0], client[1])] += 1
        result.counted += 1
    result.digest = running.hexdigest()
    return result

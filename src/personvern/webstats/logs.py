"""Reading web server access logs into anonymous statistics (R30).

Lines in the Common/Combined Log Format::

    203.0.113.7 - - [03/Mar/2025:14:05:09 +0100] "GET /?q=arv HTTP/1.1" 200 512 "-" "Mozilla/5.0"

The client address (the first field) is matched but never captured: it is
dropped as the line is read, so no part of it reaches memory we keep, the
database, or an error message (errors name the file and line number only).

The rules are the live counter's (:mod:`personvern.webstats.middleware`):
successful page GETs only, crawlers and scripts left out
(:func:`~personvern.webstats.classify.is_bot`), a path that carries a token
counted under its route pattern (:func:`~personvern.webstats.middleware.counted_path`).

A log may hold millions of lines, so the per-line work is kept small: the
time stamp is parsed by hand (not ``strptime``) and its hour bucket, the
User-Agent's classification and the path's masking are each worked out once
per distinct value and remembered for the rest of the log.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import islice
from operator import methodcaller
from typing import Any
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

# One line, whole, with its line end: either a request, whose first field (the
# client address) is skipped with \S+, never captured, or anything else (``other``:
# a blank or malformed line). Matched over a block of lines at once (findall), so
# each line costs one tuple of its fields. A minute and an offset are captured (the
# hour bucket is worked out once per distinct pair); the seconds only checked
# (00-59, or 60 for a leap second).
_LINES = re.compile(
    r'^(?:\S+ \S+ \S+ \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}):(?:[0-5]\d|60) ([+-]\d{4})\] '
    r'"([A-Z]+) (\S+) [^"]*" (\d{3}) \S+(?: "[^"]*" "([^"]*)")?[^\n]*|([^\n]*))\n',
    re.MULTILINE,
)
#: About how many characters of log are matched at once.
BLOCK_SIZE = 1 << 16
#: Distinct targets or User-Agents remembered before the memory is emptied.
CACHE_MAX = 4_000
#: Distinct minutes remembered (a log is in time order: it needs the last few).
MINUTES_MAX = 1_000
_ENDS_LINE = methodcaller("endswith", "\n")
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

    counts: Mapping[Bucket, int] = field(default_factory=dict)
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
    """Per-log memory of what each distinct minute, User-Agent and target came to.

    Each distinct value is worked out once and given a number, and a line is
    counted under one integer made of three: its page's number shifted left by
    32 bits, its hour bucket's by 8, and its client class's (device and browser,
    fewer than 256). The integers become
    :class:`~personvern.webstats.services.Bucket` keys once, at the end. Memories
    are emptied when they grow past :data:`CACHE_MAX` (a log of unique tokens or
    agents must not grow memory with its length); the numbers stay valid.
    """

    def __init__(self) -> None:
        #: (``dd/Mon/yyyy:HH:MM``, ``+hhmm``) → hour number << 8, or -1: no time.
        self.minutes: dict[tuple[str, str], int] = {}
        #: User-Agent → client number, or -1: a crawler.
        self.agents: dict[str, int] = {}
        #: Request target → page number << 32, or -1: no page.
        self.targets: dict[str, int] = {}
        self.hour_ids: dict[tuple[date, int], int] = {}
        self.page_ids: dict[tuple[str, str], int] = {}
        self.client_ids: dict[tuple[str, str], int] = {}

    @staticmethod
    def _number(table: dict[Any, int], value: Any) -> int:
        found = table.get(value)
        if found is None:
            found = table[value] = len(table)
        return found

    def minute(self, minute: str, offset: str) -> int:
        if len(self.minutes) >= MINUTES_MAX:
            self.minutes.clear()
        try:
            bucket = _hour_bucket(f"{minute} {offset}")
        except (ValueError, KeyError):
            found = -1
        else:
            found = self._number(self.hour_ids, bucket) << 8
        self.minutes[(minute, offset)] = found
        return found

    def agent(self, agent: str) -> int:
        if len(self.agents) >= CACHE_MAX:
            self.agents.clear()
        found = -1
        if not is_bot(agent):
            found = self._number(self.client_ids, (device_class(agent), browser_family(agent)))
            assert found < 256, "4 device classes × 7 browser families"  # noqa: S101
        self.agents[agent] = found
        return found

    def target(self, target: str) -> int:
        if len(self.targets) >= CACHE_MAX:
            self.targets.clear()
        parts = urlsplit(target)
        path = parts.path or "/"
        found = -1
        if not (path.startswith(EXCLUDED_PREFIXES) or _ASSET.search(path)):
            term = parse_qs(parts.query).get("q", [""])[0]
            page = (counted_path(path)[:PATH_MAX], clean_search_term(term))
            found = self._number(self.page_ids, page) << 32
        self.targets[target] = found
        return found


class BucketCounts(Mapping[Bucket, int]):
    """Page views by :class:`~personvern.webstats.services.Bucket`, read-only.

    Kept by packed number (see :class:`_Classifier`), so a log's hundreds of
    thousands of buckets are not held twice; each bucket is built as it is read.
    """

    def __init__(self, counts: dict[int, int], seen: _Classifier) -> None:
        self._counts = counts
        self._hours = list(seen.hour_ids)
        self._pages = list(seen.page_ids)
        self._clients = list(seen.client_ids)
        self._ids = (seen.hour_ids, seen.page_ids, seen.client_ids)

    def _bucket(self, key: int) -> Bucket:
        return Bucket(*self._hours[(key >> 8) & 0xFFFFFF], *self._pages[key >> 32],
                      *self._clients[key & 0xFF])

    def __getitem__(self, bucket: Bucket) -> int:
        hours, pages, clients = self._ids
        try:
            key = pages[bucket[2:4]] << 32 | hours[bucket[:2]] << 8 | clients[bucket[4:]]
            return self._counts[key]
        except (KeyError, TypeError):
            raise KeyError(bucket) from None

    def __iter__(self) -> Iterator[Bucket]:
        return map(self._bucket, self._counts)

    def __len__(self) -> int:
        return len(self._counts)

    def items(self) -> Iterator[tuple[Bucket, int]]:  # type: ignore[override]
        bucket = self._bucket
        return ((bucket(key), n) for key, n in self._counts.items())

    def __repr__(self) -> str:
        return f"BucketCounts({dict(self.items())!r})"


class _Reader:
    """The state of one read: counts, caches, the running digest and the line number."""

    def __init__(self, known: Mapping[int, Collection[str]]) -> None:
        self.known = known
        self.result = ParsedLog()
        self.seen = _Classifier()
        self.counts: dict[int, int] = {}
        self.running = hmac.new(log_digest_key(), digestmod=hashlib.sha256)

    def block(self, lines: list[str]) -> bool:
        """Read a block of lines; ``False`` once a line without a line end stopped the read."""
        text = "".join(lines)
        whole = text.count("\n") == len(lines) and all(map(_ENDS_LINE, lines))
        if not whole:
            for index, one in enumerate(lines):
                if not one.endswith("\n"):
                    # A line without its line end (the last line of a log being written,
                    # or a lone CR, which a text stream takes for a line end): the lines
                    # before it are read, then the read stops.
                    if index:
                        self.block(lines[:index])
                    self.result.incomplete_last_line = True
                    return False
            # Every item ends with a line end but some hold several lines: read those.
            return self.block([part + "\n" for part in text.split("\n")[:-1]])
        first = self.result.lines + 1
        last = self.result.lines + len(lines)
        cuts = sorted(n for n in self.known if first <= n <= last)
        if not cuts:
            self._segment(text, lines, first)
            return True
        # A recorded prefix may end inside this block: hash up to it, then compare.
        done = first - 1
        for cut in cuts:
            if cut > done:
                part = lines[done - first + 1 : cut - first + 1]
                self._segment("".join(part), part, done + 1)
                done = cut
            if self.running.copy().hexdigest() in self.known[cut]:
                # Everything up to here was counted by an earlier import: start again.
                self.counts.clear()
                result = self.result
                result.counted = result.bots = result.malformed_total = 0
                result.malformed.clear()
                result.already_imported = cut
        if done < last:
            part = lines[done - first + 1 :]
            self._segment("".join(part), part, done + 1)
        return True

    def _segment(self, text: str, lines: list[str], first: int) -> None:
        """Count whole ``lines`` (joined: ``text``), the first of which is line ``first``."""
        self.running.update(text.encode("utf-8", "surrogateescape"))
        self.result.lines = first + len(lines) - 1
        rows = _LINES.findall(text)
        if len(rows) != len(lines):
            # A line without the request's or the agent's closing quote let a match run
            # on into the next line: match this block line by line instead.
            rows = [row for one in lines for row in _LINES.findall(one)]
        self._count(rows, first)

    def _count(self, rows: list[tuple[str, ...]], first: int) -> None:
        result = self.result
        seen = self.seen
        minutes, targets, agents = seen.minutes.get, seen.targets.get, seen.agents.get
        counts = self.counts
        counted = counts.get
        bots = 0
        for number, (minute, offset, method, target, status, agent, other) in enumerate(
            rows, first
        ):
            if method:
                hour = minutes((minute, offset))
                if hour is None:
                    hour = seen.minute(minute, offset)
                if hour >= 0:
                    if method != "GET" or status != "200":
                        continue
                    page = targets(target)
                    if page is None:
                        page = seen.target(target)
                    if page < 0:
                        continue
                    client = agents(agent)
                    if client is None:
                        client = seen.agent(agent)
                    if client < 0:
                        bots += 1
                        continue
                    key = page | hour | client
                    counts[key] = counted(key, 0) + 1
                    continue
            elif not other.strip():
                continue  # a blank line is no request
            result.malformed_total += 1
            if len(result.malformed) < MALFORMED_SHOWN:
                result.malformed.append(number)
        result.bots += bots

    def finish(self) -> ParsedLog:
        # The per-value memories are done with: free them before the counts are written.
        self.seen.minutes.clear()
        self.seen.targets.clear()
        self.seen.agents.clear()
        result = self.result
        result.counts = BucketCounts(self.counts, self.seen)
        result.counted = sum(self.counts.values())
        result.digest = self.running.hexdigest()
        return result


def _blocks(lines: Iterable[str], size: int) -> Iterator[list[str]]:
    """The lines in blocks of about ``size`` characters (a text file) or ``size // 200`` lines."""
    readlines = getattr(lines, "readlines", None)
    if readlines is not None:
        while block := readlines(size):
            yield block
        return
    iterator = iter(lines)
    while block := list(islice(iterator, max(1, size // 200))):
        yield block


def parse_access_log(
    lines: Iterable[str],
    *,
    imported: Mapping[int, Collection[str]] | None = None,
    block_size: int = BLOCK_SIZE,
) -> ParsedLog:
    """Aggregate successful page GETs of an access log into page view buckets.

    ``imported`` maps a number of lines to the digests of the logs of that
    length imported before (see
    :class:`~personvern.webstats.models.ImportedLog`): when the log's first
    ``n`` lines have a recorded digest, those lines were counted already and
    only the lines after the longest such start are counted now. A last line
    without a line end is being written: it is neither counted nor part of the
    digest, so the next import of the grown log counts it once, whole.

    The log is read in blocks of about ``block_size`` characters, each matched
    by one regular expression pass, so memory stays flat in the log's length.
    """
    reader = _Reader(imported or {})
    for block in _blocks(lines, block_size):
        if not reader.block(block):
            break
    return reader.finish()

"""Reading web server access logs into anonymous statistics (R30).

Lines in the Common/Combined Log Format::

    203.0.113.7 - - [03/Mar/2025:14:05:09 +0100] "GET /?q=arv HTTP/1.1" 200 512 "-" "Mozilla/5.0"

The client address (the first field) is matched but never captured: it is
dropped as the line is read, so no part of it reaches memory we keep, the
database, or an error message (errors name the file and line number only).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from personvern.webstats.classify import PATH_MAX, browser_family, clean_search_term, device_class
from personvern.webstats.middleware import EXCLUDED_PREFIXES
from personvern.webstats.services import Bucket, bucket_for

# The first field (the client address) is skipped with \S+, not captured.
_LINE = re.compile(
    r'^\S+ \S+ \S+ \[(?P<time>[^\]]+)\] "(?P<method>[A-Z]+) (?P<target>\S+) [^"]*" '
    r'(?P<status>\d{3}) \S+(?: "[^"]*" "(?P<agent>[^"]*)")?'
)
#: Requests for files rather than pages are not page views.
_ASSET = re.compile(r"\.(css|js|png|jpe?g|gif|svg|ico|webp|woff2?|map|txt|xml)$", re.I)


@dataclass
class ParsedLog:
    """What a log yields: counts per bucket, lines read, and malformed line numbers."""

    counts: Counter[Bucket] = field(default_factory=Counter)
    lines: int = 0
    counted: int = 0
    malformed: list[int] = field(default_factory=list)


def parse_access_log(lines: Iterable[str]) -> ParsedLog:
    """Aggregate successful page GETs of an access log into page view buckets."""
    result = ParsedLog()
    for number, line in enumerate(lines, start=1):
        result.lines += 1
        if not line.strip():
            continue
        match = _LINE.match(line)
        if not match:
            result.malformed.append(number)
            continue
        try:
            at = datetime.strptime(match["time"], "%d/%b/%Y:%H:%M:%S %z")
        except ValueError:
            result.malformed.append(number)
            continue
        if match["method"] != "GET" or match["status"] != "200":
            continue
        target = urlsplit(match["target"])
        path = target.path or "/"
        if path.startswith(EXCLUDED_PREFIXES) or _ASSET.search(path):
            continue
        term = parse_qs(target.query).get("q", [""])[0]
        agent = match["agent"] or ""
        bucket = bucket_for(
            at=at,
            path=path[:PATH_MAX],
            search_term=clean_search_term(term),
            device=device_class(agent),
            browser=browser_family(agent),
        )
        result.counts[bucket] += 1
        result.counted += 1
    return result

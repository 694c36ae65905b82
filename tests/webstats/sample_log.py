"""A fixed access log for the import's equivalence tests (issue 10).

Built by arithmetic on the line number (no random generator, so it is the same
on every Python), with the edge cases the fast parser must treat as the old one
did: time zone offsets other than Oslo's, the nights the clocks change, IPv6
clients, leap seconds, impossible dates, blank and CRLF lines, Common Log Format
lines without a User-Agent, crawlers, static files, token paths and searches.
Only documentation addresses (RFC 5737, RFC 3849) appear.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0",
    "",
    "Mozilla/5.0 (Linux; Android 14) SamsungBrowser/26.0 Chrome/122.0 Mobile Safari/537.36",
    "Opera/9.80 (Windows NT 6.1) Presto/2.12 Version/12.16 \ufffd",
)
TARGETS = (
    "/", "/?q=Arverett", "/?q=arve+rett&q=second", "/?q=kari%40example.no", "/?q=22+33+44+55",
    "/?q=" + "x" * 150, "/courses/", "/courses/kurs-arverett-1/", "/privacy/",
    "/courses/cancel/Zm9vYmFyLXNlY3JldA/", "/newsletter/unsubscribe/dG9rZW4tMQ/?u=x",
    "/static/site/site.css", "/favicon.ico", "/admin/", "/api/v1/courses/",
    "/p/" + "y" * 250, "/%C3%A6rlig/?q=%C3%86RLIG", "/Robots.TXT",
)
#: Offsets written in the log (minutes east of UTC): Oslo's two, UTC, and others.
OFFSETS = (60, 120, 0, -300, 330, 345, 825, -570)
#: Instants around the changes of clock in Europe/Oslo in 2025.
CHANGES = (
    datetime(2025, 3, 30, 0, 30, tzinfo=UTC),  # 01:30 +0100, the hour before the gap
    datetime(2025, 3, 30, 1, 0, tzinfo=UTC),   # 03:00 +0200, straight after it
    datetime(2025, 10, 26, 0, 30, tzinfo=UTC),  # 02:30 +0200, the first 02:xx
    datetime(2025, 10, 26, 1, 30, tzinfo=UTC),  # 02:30 +0100, the second 02:xx
    datetime(2025, 12, 31, 22, 59, 59, tzinfo=UTC),  # new year in Oslo
)
#: Lines that are not in the format, or whose time is no time (each malformed).
BROKEN = (
    '203.0.113.9 - - [31/Feb/2025:10:00:00 +0100] "GET / HTTP/1.1" 200 1 "-" "x"',
    '203.0.113.9 - - [03/Foo/2025:10:00:00 +0100] "GET / HTTP/1.1" 200 1 "-" "x"',
    '203.0.113.9 - - [03/Mar/2025:24:00:00 +0100] "GET / HTTP/1.1" 200 1 "-" "x"',
    '203.0.113.9 - - [03/Mar/2025:10:60:00 +0100] "GET / HTTP/1.1" 200 1 "-" "x"',
    '203.0.113.9 - - [03/Mar/2025:10:00:61 +0100] "GET / HTTP/1.1" 200 1 "-" "x"',
    '203.0.113.9 - - [03/Mar/2025:10:00:00 +2400] "GET / HTTP/1.1" 200 1 "-" "x"',
    '203.0.113.9 - - [03/Mar/2025:10:00:00] "GET / HTTP/1.1" 200 1 "-" "x"',
    '203.0.113.9 - - [03/Mar/2025:10:00:00 +0100] "get / HTTP/1.1" 200 1 "-" "x"',
    '2001:db8::9 - - [03/Mar/2025:10:00:00 +0100] GET / HTTP/1.1 200 1',
    "garbage",
    "\t",
    "",
)


def _stamp(at: datetime, offset_minutes: int) -> str:
    return at.astimezone(timezone(timedelta(minutes=offset_minutes))).strftime(
        "%d/%b/%Y:%H:%M:%S %z"
    )


def sample_lines(count: int = 3000) -> list[str]:
    """``count`` log lines, each with its line end (the last one too)."""
    start = datetime(2025, 3, 29, 21, 0, tzinfo=UTC)
    lines: list[str] = []
    for n in range(count):
        if n % 97 == 41:
            lines.append(BROKEN[(n // 97) % len(BROKEN)] + "\n")
            continue
        if n % 53 == 7:
            at = CHANGES[(n // 53) % len(CHANGES)] + timedelta(seconds=n % 7)
        else:
            at = start + timedelta(seconds=n * 37 + (n * n) % 11)
        if n % 331 == 5:
            at = at.replace(second=59)
            stamp = _stamp(at, 60).replace(":59 ", ":60 ")  # a leap second
        else:
            stamp = _stamp(at, OFFSETS[(n * 7) % len(OFFSETS)] if n % 5 == 0 else 60)
        client = f"2001:db8:{n % 13:x}::{n % 251:x}" if n % 5 == 1 else f"198.51.100.{n % 251}"
        target = TARGETS[(n * 11) % len(TARGETS)]
        method = ("GET", "GET", "GET", "POST", "HEAD")[n % 5] if n % 7 == 0 else "GET"
        status = (200, 200, 200, 304, 404, 500)[(n // 19) % 6]
        agent = AGENTS[(n * 5) % len(AGENTS)]
        if n % 89 == 3:
            line = f'{client} - - [{stamp}] "{method} {target} HTTP/1.1" {status} 512'
        else:
            line = (f'{client} - frank [{stamp}] "{method} {target} HTTP/1.1" {status} 512 '
                    f'"https://example.org/" "{agent}"')
            if n % 61 == 9:
                line += ' "extra field" 0.002'
        lines.append(line + ("\r\n" if n % 43 == 2 else "\n"))
    return lines

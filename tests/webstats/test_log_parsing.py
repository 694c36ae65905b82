"""The access log parser (R30, issue 10): the fast parser counts exactly what the old one did.

``reference_parse`` is the parser as it was before the rewrite (one regular
expression per line); ``data/sample-log-counts.json`` is what it made of the
fixed sample log (``sample_log``), recorded before the rewrite.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from personvern.webstats.logs import ParsedLog, log_digest_key, parse_access_log
from personvern.webstats.services import Bucket
from tests.webstats import reference_parse
from tests.webstats.sample_log import sample_lines

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
RECORDED = Path(__file__).parent / "data" / "sample-log-counts.json"


def line(stamp: str, target: str = "/", client: str = "203.0.113.7", agent: str = FIREFOX) -> str:
    return f'{client} - - [{stamp}] "GET {target} HTTP/1.1" 200 512 "-" "{agent}"\n'


def hours(parsed: ParsedLog) -> dict[tuple[date, int], int]:
    found: dict[tuple[date, int], int] = {}
    for bucket, n in parsed.counts.items():
        found[(bucket.day, bucket.hour)] = found.get((bucket.day, bucket.hour), 0) + n
    return found


def as_dict(parsed: object) -> dict[str, object]:
    fields = dataclasses.asdict(parsed)  # type: ignore[call-overload]
    fields["counts"] = dict(parsed.counts)  # type: ignore[attr-defined]
    return dict(fields)


def digest(lines: list[str]) -> str:
    running = hmac.new(log_digest_key(), digestmod=hashlib.sha256)
    for text in lines:
        running.update(text.encode("utf-8", "surrogateescape"))
    return running.hexdigest()


@pytest.mark.req("R30")
def test_the_sample_log_gives_the_counts_recorded_before_the_rewrite() -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    parsed = parse_access_log(sample_lines())
    assert (parsed.lines, parsed.counted, parsed.bots) == (
        recorded["lines"], recorded["counted"], recorded["bots"]
    )
    assert parsed.malformed == recorded["malformed"]
    assert parsed.malformed_total == recorded["malformed_total"]
    buckets = sorted(
        [b.day.isoformat(), b.hour, b.path, b.search_term, str(b.device), b.browser, n]
        for b, n in parsed.counts.items()
    )
    assert buckets == recorded["buckets"]


def _pieces(lines: list[str]) -> Iterator[str]:
    yield from lines


@pytest.mark.req("R30")
@pytest.mark.parametrize("block", [1, 7, 256, 1 << 16, 1 << 20])
def test_the_parser_agrees_with_the_old_one_whatever_the_block_size(
    tmp_path: Path, block: int
) -> None:
    lines = sample_lines()
    # An incomplete last line (the server is writing it) and a lone CR line end.
    lines[-1] = lines[-1].rstrip("\n")
    old = as_dict(reference_parse.parse_access_log(lines))
    assert as_dict(parse_access_log(lines, block_size=block)) == old
    assert as_dict(parse_access_log(_pieces(lines), block_size=block)) == old
    log = tmp_path / "access.log"
    log.write_text("".join(lines), encoding="utf-8", newline="")
    with log.open(encoding="utf-8", errors="replace", newline="") as stream:  # as the CLI
        assert as_dict(parse_access_log(stream, block_size=block)) == old


@pytest.mark.req("R30")
@pytest.mark.parametrize("block", [5, 4096, 1 << 20])
def test_a_log_imported_before_counts_only_its_new_lines_at_any_block_size(block: int) -> None:
    lines = sample_lines()
    for prefix in (1, 41, 42, 1000, 2047, 2999, 3000):
        imported = {prefix: {digest(lines[:prefix]), "0" * 64}, 17: {"f" * 64}}
        old = as_dict(reference_parse.parse_access_log(lines, imported=imported))
        new = parse_access_log(lines, imported=imported, block_size=block)
        assert as_dict(new) == old
        assert new.already_imported == prefix


@pytest.mark.req("R30")
def test_lines_with_a_lone_carriage_return_end_the_read_as_before() -> None:
    lines = sample_lines(200)
    lines[50] = lines[50].rstrip("\n") + "\r"  # a text stream ends a line at a lone CR
    old = as_dict(reference_parse.parse_access_log(lines))
    assert as_dict(parse_access_log(lines)) == old
    assert old["incomplete_last_line"] and old["lines"] == 50


@pytest.mark.req("R30")
def test_offsets_other_than_oslos_are_converted_to_the_oslo_hour() -> None:
    parsed = parse_access_log([
        line("03/Mar/2025:10:00:00 +0000"),  # 11:00 in Oslo
        line("03/Mar/2025:10:00:00 -0500"),  # 15:00 UTC, 16:00 in Oslo
        line("03/Mar/2025:10:00:00 +0530"),  # 04:30 UTC, 05:30 in Oslo
        line("03/Mar/2025:10:10:00 +0545"),  # 04:25 UTC, 05:25 in Oslo
        line("03/Mar/2025:10:00:00 +1345"),  # 20:15 UTC the day before, 21:15 in Oslo
        line("02/Mar/2025:23:59:59 -0930"),  # 09:29 UTC on 3 March, 10:29 in Oslo
    ])
    assert hours(parsed) == {
        (date(2025, 3, 3), 11): 1, (date(2025, 3, 3), 16): 1, (date(2025, 3, 3), 5): 2,
        (date(2025, 3, 2), 21): 1, (date(2025, 3, 3), 10): 1,
    }


@pytest.mark.req("R30")
def test_the_nights_the_clocks_change_fall_in_oslos_hours() -> None:
    parsed = parse_access_log([
        line("30/Mar/2025:01:59:59 +0100"),  # the last second of winter time
        line("30/Mar/2025:03:00:00 +0200"),  # the first of summer time: no 02:xx that night
        line("30/Mar/2025:00:30:00 +0000"),  # 01:30 in Oslo
        line("30/Mar/2025:01:30:00 +0000"),  # 03:30 in Oslo
        line("26/Oct/2025:02:30:00 +0200"),  # the first 02:30 …
        line("26/Oct/2025:02:30:00 +0100"),  # … and the second: one hour bucket, as before
        line("26/Oct/2025:01:15:00 +0000"),  # 02:15 winter time
    ])
    assert hours(parsed) == {
        (date(2025, 3, 30), 1): 2, (date(2025, 3, 30), 3): 2, (date(2025, 10, 26), 2): 3,
    }


@pytest.mark.req("R30")
def test_malformed_lines_are_named_by_their_number_and_the_rest_counted() -> None:
    good = line("03/Mar/2025:10:00:00 +0100")
    lines = [
        good,
        line("31/Feb/2025:10:00:00 +0100"),  # 2: no such day
        line("03/Mar/2025:24:00:00 +0100"),  # 3: no such hour
        line("03/Mar/2025:10:00:61 +0100"),  # 4: no such second
        line("03/Mar/2025:10:00:60 +0100"),  # a leap second: counted
        line("03/Mar/2025:10:00:00 +2400"),  # 6: no such offset
        "\n",  # blank: neither counted nor malformed
        "203.0.113.7 - - [03/Mar/2025:10:00:00 +0100] GET / 200 1\n",  # 8: no quotes
        good.replace("\n", "\r\n"),  # a CRLF line end: counted
        good,
    ]
    parsed = parse_access_log(lines, block_size=3)
    assert parsed.malformed == [2, 3, 4, 6, 8]
    assert (parsed.malformed_total, parsed.counted, parsed.lines) == (5, 4, 10)
    assert as_dict(parsed) == as_dict(reference_parse.parse_access_log(lines))


@pytest.mark.req("R30")
def test_ipv6_and_ipv4_clients_are_read_and_no_part_of_an_address_is_kept() -> None:
    clients = ["2001:db8:85a3::8a2e:370:7334", "::1", "::ffff:198.51.100.23", "fe80::1%eth0",
               "198.51.100.24", "2001:0db8:0000:0000:0000:ff00:0042:8329"]
    parsed = parse_access_log([line("03/Mar/2025:10:00:00 +0100", client=c) for c in clients])
    assert parsed.counted == len(clients) and parsed.malformed_total == 0
    kept = repr(dataclasses.replace(parsed, digest=""))
    for fragment in ("2001", "db8", "::1", "ffff", "198.51", "fe80", "eth0", "8329"):
        assert fragment not in kept


@pytest.mark.req("R30")
def test_a_quote_left_open_does_not_join_a_line_to_the_next() -> None:
    good = line("03/Mar/2025:10:00:00 +0100")
    lines = [
        good,
        '203.0.113.7 - - [03/Mar/2025:10:00:00 +0100] "GET /a HTTP/1.1\n',  # 2: quote open
        'x" 200 5 "-" "Firefox/128.0"\n',  # 3: the rest of it, on its own line
        '203.0.113.7 - - [03/Mar/2025:10:00:00 +0100] "GET /b HTTP/1.1" 200 5 "-" "Firefox\n',
        good,  # 4 left its agent's quote open: counted as a Common Log Format line
    ]
    parsed = parse_access_log(lines)
    assert as_dict(parsed) == as_dict(reference_parse.parse_access_log(lines))
    assert (parsed.malformed, parsed.counted) == ([2, 3], 3)
    assert {b.path: b.browser for b in parsed.counts} == {"/": "firefox", "/b": "other"}


@pytest.mark.req("R30")
def test_the_counts_read_as_a_mapping_of_buckets() -> None:
    parsed = parse_access_log([line("03/Mar/2025:10:00:00 +0100")] * 2
                              + [line("03/Mar/2025:11:00:00 +0100", target="/?q=Arv")])
    first = Bucket(date(2025, 3, 3), 10, "/", "", "desktop", "firefox")
    assert parsed.counts[first] == 2 and len(parsed.counts) == 2
    assert dict(parsed.counts) == {first: 2, first._replace(hour=11, search_term="arv"): 1}
    for missing in (first._replace(hour=9), first._replace(path="/x"), ("no", "bucket")):
        assert missing not in parsed.counts

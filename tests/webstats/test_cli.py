"""`personvern webstats import-log | report`: web server logs feed the statistics (R30)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from personvern.core.models import AuditEntry
from personvern.webstats import cli
from personvern.webstats.models import PageView

pytestmark = pytest.mark.django_db

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
T = "[03/Mar/2025:15:01:00 +0100]"
LOG = "\n".join(
    [
        f'203.0.113.77 - - [03/Mar/2025:14:05:09 +0100] "GET /?q=Arverett HTTP/1.0" 200 5'
        f' "-" "{UA}"',
        f'203.0.113.78 - - [03/Mar/2025:14:59:59 +0100] "GET /?q=arverett HTTP/1.1" 200 5'
        f' "-" "{UA}"',
        f'2001:db8::1 - - [03/Mar/2025:15:00:00 +0100] "GET /privacy/ HTTP/2.0" 200 99 "-" "{UA}"',
        f'198.51.100.9 - - {T} "GET /static/site/site.css HTTP/1.1" 200 1 "-" "x"',
        f'198.51.100.9 - - {T} "GET /missing/ HTTP/1.1" 404 1 "-" "x"',
        f'198.51.100.9 - - {T} "POST /secure-message/ HTTP/1.1" 200 1',
        "",
    ]
)


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="personvern")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


@pytest.mark.req("R30")
def test_import_log_counts_page_views_and_drops_the_addresses(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(LOG)
    assert run("webstats", "import-log", str(log)) == 0
    rows = {
        (r.day.isoformat(), r.hour, r.path, r.search_term): r.count
        for r in PageView.objects.all()
    }
    assert rows == {
        ("2025-03-03", 14, "/", "arverett"): 2,
        ("2025-03-03", 15, "/privacy/", ""): 1,
    }
    stored = " ".join(str(v) for row in PageView.objects.values() for v in row.values())
    audit = str(AuditEntry.objects.get(action="webstats.log_imported").data)
    for fragment in ("203.0.113", "2001:db8", "198.51.100"):
        assert fragment not in stored and fragment not in audit


def test_a_malformed_line_fails_the_import_naming_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "access.log"
    log.write_text(LOG.replace("[03/Mar/2025:15:00:00 +0100]", "[yesterday]"))
    assert run("webstats", "import-log", str(log)) == 1
    err = capsys.readouterr().err
    assert "access.log: line 3 " in err and "2001:db8" not in err
    assert not PageView.objects.exists()
    assert run("webstats", "import-log", "--skip-malformed", str(log)) == 0
    assert sum(PageView.objects.values_list("count", flat=True)) == 2


def test_report_prints_pages_and_search_terms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "access.log"
    log.write_text(LOG)
    run("webstats", "import-log", str(log))
    capsys.readouterr()
    assert run("webstats", "report", "--from", "2025-03-01", "--to", "2025-03-31") == 0
    out = capsys.readouterr().out
    assert "/privacy/" in out and "arverett" in out and "firefox" in out

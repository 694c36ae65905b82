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


@pytest.mark.req("R30")
def test_malformed_lines_are_reported_by_number_and_the_rest_is_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "access.log"
    log.write_text(LOG.replace("[03/Mar/2025:15:00:00 +0100]", "[yesterday]"))
    assert run("webstats", "import-log", str(log)) == 0
    err = capsys.readouterr().err
    assert "access.log: line 3 " in err and "2001:db8" not in err
    assert sum(PageView.objects.values_list("count", flat=True)) == 2
    # The old flag still parses (it is what happens anyway now).
    assert run("webstats", "import-log", "--skip-malformed", str(log)) == 0


@pytest.mark.req("R30")
def test_many_malformed_lines_list_the_first_ten_and_the_total(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = LOG.splitlines()[0]
    bad = [f"garbage {i}" for i in range(25)] + ["1.2.3.4 - - [31/Feb/2025:10:00:00 +0100] "
                                                  '"GET / HTTP/1.1" 200 1 "-" "x"']
    log = tmp_path / "access.log"
    log.write_text("\n".join([good, *bad, good, ""]))
    assert run("webstats", "import-log", str(log)) == 0
    err = capsys.readouterr().err
    assert "line 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 16 more" in err
    assert sum(PageView.objects.values_list("count", flat=True)) == 2


@pytest.mark.req("R30")
def test_importing_the_same_log_again_adds_nothing_and_a_grown_log_only_its_new_lines(
    tmp_path: Path,
) -> None:
    log = tmp_path / "access.log"
    log.write_text(LOG)
    assert run("webstats", "import-log", str(log)) == 0
    assert run("webstats", "import-log", str(log)) == 0
    rotated = tmp_path / "access.log.1"
    rotated.write_text(LOG)
    assert run("webstats", "import-log", str(rotated)) == 0
    assert sum(PageView.objects.values_list("count", flat=True)) == 3

    with log.open("a") as grown:
        grown.write(f'203.0.113.9 - - [03/Mar/2025:16:10:00 +0100] "GET /privacy/ HTTP/1.1" 200 5'
                    f' "-" "{UA}"\n')
        grown.write(f'203.0.113.9 - - [03/Mar/2025:16:11:00 +0100] "GET /privacy/ HTTP/1.1" 200 5'
                    f' "-" "{UA}"')  # no line end yet: the server is still writing it
    assert run("webstats", "import-log", str(log)) == 0
    assert PageView.objects.get(hour=16).count == 1
    with log.open("a") as grown:
        grown.write("\n")
    assert run("webstats", "import-log", str(log)) == 0
    assert run("webstats", "import-log", str(log)) == 0
    assert PageView.objects.get(hour=16).count == 2
    assert sum(PageView.objects.values_list("count", flat=True)) == 5


@pytest.mark.req("R30")
def test_two_logs_of_the_same_length_are_each_recognised_when_imported_again(
    tmp_path: Path,
) -> None:
    first, second = tmp_path / "a.log", tmp_path / "b.log"
    first.write_text(LOG)
    second.write_text(LOG.replace("/privacy/", "/courses/"))
    for log in (first, second, first, second):
        assert run("webstats", "import-log", str(log)) == 0
    assert dict(PageView.objects.values_list("path", "count")) == {
        "/": 4, "/privacy/": 1, "/courses/": 1
    }


@pytest.mark.req("R30")
def test_paths_with_tokens_are_masked_as_the_live_counter_masks_them(tmp_path: Path) -> None:
    secrets = ["/newsletter/unsubscribe/Zm9vYmFyLXNlY3JldA/", "/newsletter/c/dG9rZW4tMQ/?u=x",
               "/newsletter/o/dG9rZW4tMg/"]
    log = tmp_path / "access.log"
    log.write_text("".join(
        f'203.0.113.5 - - {T} "GET {target} HTTP/1.1" 200 5 "-" "{UA}"\n' for target in secrets
    ))
    assert run("webstats", "import-log", str(log)) == 0
    paths = set(PageView.objects.values_list("path", flat=True))
    assert paths == {"/newsletter/unsubscribe/<str:token>/", "/newsletter/c/<str:token>/",
                     "/newsletter/o/<str:token>/"}


@pytest.mark.req("R30")
def test_crawlers_are_left_out_of_an_imported_log(tmp_path: Path) -> None:
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    log = tmp_path / "access.log"
    log.write_text(
        f'66.249.66.1 - - {T} "GET /privacy/ HTTP/1.1" 200 5 "-" "{bot}"\n'
        f'203.0.113.5 - - {T} "GET /privacy/ HTTP/1.1" 200 5 "-" "curl/8.5.0"\n'
        f'203.0.113.6 - - {T} "GET /privacy/ HTTP/1.1" 200 5 "-" "{UA}"\n'
    )
    assert run("webstats", "import-log", str(log)) == 0
    assert list(PageView.objects.values_list("device", "count")) == [("desktop", 1)]


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

"""``personvern policy …`` through the real command line, and the public pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings
from django.utils import translation
from openpyxl import load_workbook

from personvern.cli import main
from personvern.policy.views import cookie_policy_view, notice_view
from tests.policy.helpers import DEFAULT_TEXT, edit, line_of, write


def test_check_valid_policy_exits_0_and_prints_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, DEFAULT_TEXT)

    code = main(["policy", "check", str(path), "--as-of", "2030-01-01"])

    out, err = capsys.readouterr()
    assert code == 0
    assert f"{path}: valid (version 2022.1" in out
    assert "warning: processor[0].dpa_date: the audit of processor 'FINN.no AS' is overdue" in err


@pytest.mark.req("R2")
@pytest.mark.req("R7")
def test_check_invalid_policy_exits_1_with_every_error_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = edit(DEFAULT_TEXT, 'basis = "b"\n', "", after='id = "course-participation"')
    text = edit(text, 'country = "NO"', 'country = "US"', after='id = "finn"')
    path = write(tmp_path, text)

    code = main(["policy", "check", str(path)])

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert f"{path}:{line_of(text, '[[activity]]')}: error: activity[0].basis:" in err
    country_line = line_of(text, 'country = "US"')
    assert f"{path}:{country_line}: error: processor[0].country:" in err
    assert "2 errors; the policy is not valid" in err


@pytest.mark.req("R41")
@pytest.mark.parametrize("lang", ["nb", "en"])
def test_render_writes_the_notice(tmp_path: Path, lang: str) -> None:
    out = tmp_path / f"notice.{lang}.md"

    code = main(["policy", "render", "--lang", lang, "--format", "md", "--out", str(out)])

    text = out.read_text(encoding="utf-8")
    assert code == 0
    assert text.startswith("# Personvernerklæring" if lang == "nb" else "# Privacy notice")
    assert "2022" in text and "Datatilsynet" in text


@pytest.mark.req("R28")
def test_render_cookie_page_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["policy", "render", "--lang", "en", "--page", "cookies"])

    out, _ = capsys.readouterr()
    assert code == 0
    assert "<h1>Cookie policy</h1>" in out and "csrftoken" in out


def test_render_refuses_an_invalid_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, edit(DEFAULT_TEXT, 'keep = "10y"', 'keep = "ten years"'))
    out = tmp_path / "notice.html"

    code = main(["policy", "render", "--policy", str(path), "--out", str(out)])

    assert code == 1
    assert not out.exists()
    assert "malformed duration 'ten years'" in capsys.readouterr().err


@pytest.mark.req("R3")
def test_ropa_in_all_three_formats(tmp_path: Path) -> None:
    for fmt, name in (("csv", "ropa.csv"), ("xlsx", "ropa.xlsx"), ("json-ld", "ropa.jsonld")):
        assert main(["policy", "ropa", "--format", fmt, "--out", str(tmp_path / name)]) == 0

    assert "Art. 30(2) processor" in (tmp_path / "ropa.csv").read_text(encoding="utf-8")
    assert "Art. 30(2) processor" in load_workbook(tmp_path / "ropa.xlsx").sheetnames
    document = json.loads((tmp_path / "ropa.jsonld").read_text(encoding="utf-8"))
    assert any(node.get("@type") == "dpv:ROPA" for node in document["@graph"])
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.req("R41")
def test_notice_view_serves_the_language_asked_for() -> None:
    factory = RequestFactory()

    english = notice_view(factory.get("/privacy/", {"lang": "en"}))
    with translation.override("nb"):
        norwegian = notice_view(factory.get("/privacy/"))

    assert english.status_code == 200
    assert english["Content-Language"] == "en"
    assert "Last updated 5 April 2022" in english.content.decode()
    assert norwegian["Content-Language"] == "nb"
    assert "Sist oppdatert 5. april 2022" in norwegian.content.decode()


@pytest.mark.req("R28")
def test_cookie_policy_view_is_its_own_page() -> None:
    response = cookie_policy_view(RequestFactory().get("/privacy/cookies/", {"lang": "en"}))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Cookie policy" in page and "sessionid" in page


def test_views_follow_the_configured_policy_file(tmp_path: Path) -> None:
    text = edit(DEFAULT_TEXT, 'name = "django_language"', 'name = "site_language"')
    path = write(tmp_path, text)

    with override_settings(PERSONVERN_POLICY=str(path)):
        response = cookie_policy_view(RequestFactory().get("/privacy/cookies/", {"lang": "en"}))

    assert "site_language" in response.content.decode()


def test_views_accept_only_get() -> None:
    assert notice_view(RequestFactory().post("/privacy/")).status_code == 405

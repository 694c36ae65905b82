"""Designsystemet and its font come from our own static files; the error pages speak nb and en."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client, override_settings
from django.urls import path

STYLESHEETS = [
    "vendor/designsystemet/index.css",
    "vendor/designsystemet/designsystemet.css",
    "site/fonts.css",
    "site/site.css",
]
pytestmark = pytest.mark.django_db



def _read(name: str) -> str:
    found = finders.find(name)
    assert isinstance(found, str), f"{name} is missing: run ./run (it installs it with npm)"
    return Path(found).read_text(encoding="utf-8")


FOREIGN_URL = re.compile(r"url\(\s*['\"]?(?!data:)(?:https?:)?//", re.I)


def test_the_design_system_is_installed_into_our_static_files() -> None:
    """./run installs it (npm, frontend/package-lock.json); without it pages are unstyled."""
    for name in STYLESHEETS:
        found = finders.find(name)
        assert found, f"{name} is missing: run ./run (it installs the design system with npm)"
    text = _read(STYLESHEETS[0])
    assert ".ds-button" in text and ".ds-field" in text and ".ds-validation-message" in text


def test_no_stylesheet_loads_anything_from_another_origin() -> None:
    for name in STYLESHEETS:
        text = _read(name)
        assert not FOREIGN_URL.search(text), f"{name} loads from another origin"
        assert not re.search(r"@import\s+(url\()?['\"]?(https?:)?//", text), name


def test_every_font_the_font_css_names_is_ours() -> None:
    text = _read("site/fonts.css")
    files = re.findall(r"url\('\.\./(vendor/inter/[^']+\.woff2)'\)", text)
    assert len(files) == 6
    for name in files:
        assert finders.find(name), name


@pytest.mark.parametrize("url", ["/", "/privacy/", "/privacy/cookies/choice/", "/nowhere/"])
def test_pages_link_only_our_own_stylesheets(client: Client, url: str) -> None:
    html = client.get(url).content.decode()
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert links == [f"/static/{name}" for name in STYLESHEETS]
    # Nothing is loaded from elsewhere (links to other sites are fine: they load nothing).
    assert not re.search(r'src="(https?:)?//', html)
    assert not re.search(r'<link[^>]+href="(https?:)?//', html)


def test_the_live_server_serves_the_css_and_the_font(live_server: Any) -> None:
    for name in [*STYLESHEETS, "vendor/inter/inter-latin-400-normal.woff2"]:
        with urllib.request.urlopen(f"{live_server.url}/static/{name}") as response:  # noqa: S310
            assert response.status == 200
            assert len(response.read()) > 500


# ---- The 500 and CSRF pages ----------------------------------------------------------


def _boom(request: Any) -> Any:
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", _boom), *__import__("personvern.urls").urls.urlpatterns]


@pytest.mark.parametrize(("lang", "words"), [
    ("nb", ["Noe gikk galt", "Tilbake til forsiden"]),
    ("en", ["Something went wrong", "Back to the front page"]),
])
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_the_500_page_is_in_the_visitors_language(lang: str, words: list[str]) -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", headers={"accept-language": lang})
    html = response.content.decode()
    assert response.status_code == 500
    assert f'<html lang="{lang}">' in html
    for word in words:
        assert word in html
    assert "/static/vendor/designsystemet/index.css" in html


@pytest.mark.parametrize(("lang", "words"), [
    ("nb", ["Skjemaet kunne ikke tas imot", "Ingenting ble sendt eller lagret"]),
    ("en", ["The form could not be accepted", "Nothing was sent or stored"]),
])
def test_a_refused_csrf_check_gets_a_translated_page(lang: str, words: list[str]) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/privacy/cookies/choice/", {"choice": "granted"},
                           headers={"accept-language": lang})
    html = response.content.decode()
    assert response.status_code == 403
    assert f'<html lang="{lang}">' in html
    for word in words:
        assert word in html
    assert 'class="site-nav"' in html  # the site frame, not Django's bare page

"""Public pages: home with courses, privacy notice, cookie policy, language switch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from personvern.core.policy import current_policy
from personvern.courses.services import course_create

pytestmark = pytest.mark.django_db


def _course(slug: str, *, days: int, title: str = "Arverett i praksis", **kw: object) -> None:
    starts = timezone.now() + timedelta(days=days)
    course_create(
        title=title,
        slug=slug,
        kind="digital",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        capacity=20,
        actor="test",
        **kw,  # type: ignore[arg-type]
    )


def test_home_lists_upcoming_courses_with_links_to_their_pages(client: Client) -> None:
    """Each card links to the course page, where the registration form is."""
    _course("arv-2", days=20)
    _course("arv-1", days=10, title="Selskapsrett")
    _course("gammel", days=-30, title="Gammelt kurs")
    _course("stengt", days=5, title="Stengt kurs", registration_open=False)
    html = client.get("/").content.decode()
    assert 'href="/courses/arv-1/"' in html
    assert 'href="/courses/arv-2/"' in html
    assert html.index("Selskapsrett") < html.index("Arverett i praksis")
    assert "Gammelt kurs" not in html
    assert "Stengt kurs" in html and "/courses/stengt/register/" not in html


def test_home_search_filters_course_titles(client: Client) -> None:
    _course("arv", days=10)
    _course("sel", days=10, title="Selskapsrett")
    html = client.get("/?q=selskap").content.decode()
    assert "Selskapsrett" in html and "Arverett i praksis" not in html


@pytest.mark.req("R41")
def test_notice_page_shows_last_updated_and_version_history(client: Client) -> None:
    policy = current_policy()
    response = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="last-updated"' in html and f"(version {policy.version})" in html
    for entry in policy.changelog:
        assert entry.summary.get("en") in html
    assert 'href="/privacy/cookies/"' in html
    assert 'id="cookie-banner"' in html  # a public page like any other


@pytest.mark.req("R41")
@pytest.mark.req("R28")
def test_cookie_policy_is_its_own_page_listing_every_cookie_by_category(client: Client) -> None:
    policy = current_policy()
    response = client.get("/privacy/cookies/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Cookie policy</h1>" in html and "<h1>Privacy notice</h1>" not in html
    categories = {c.category for c in policy.cookies}
    assert {"necessary", "analytics"} <= categories
    for cookie in policy.cookies:
        row = html[html.index(f'id="cookie-{cookie.name}"') :]
        row = row[: row.index("</tr>")]
        assert ("Only with your consent" in row) == cookie.consent_required
    assert "Change your cookie choice" in html


@pytest.mark.req("R28")
def test_the_cookies_the_banner_sets_are_the_ones_the_policy_lists(client: Client) -> None:
    listed = {c.name: c for c in current_policy().cookies}
    client.get("/")
    response = client.post("/privacy/cookies/choice/", {"choice": "granted", "next": "/"})
    set_now = set(response.cookies) | set(client.cookies)
    assert {"personvern_consent", "_pk_id", "csrftoken"} <= set_now
    for name in set_now:
        assert name in listed, f"cookie {name} is set but the cookie policy does not list it"
    assert listed["personvern_consent"].category == "necessary"
    assert not listed["personvern_consent"].consent_required
    assert listed["_pk_id"].category == "analytics" and listed["_pk_id"].consent_required


def test_pages_use_no_inline_script_and_send_a_strict_csp(client: Client) -> None:
    for url in ("/", "/privacy/", "/privacy/cookies/", "/privacy/cookies/choice/",
                "/secure-message/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "<script" not in response.content.decode(), url
        assert "script-src 'self'" in response["Content-Security-Policy"], url


def test_language_switcher_changes_page_language(client: Client) -> None:
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert '<html lang="nb">' in html and "Kommende kurs" in html
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert '<html lang="en">' in html and "Upcoming courses" in html
    notice = client.get("/privacy/")
    assert notice["Content-Language"] == "en"

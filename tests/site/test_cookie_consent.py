"""The cookie banner and the choice page (R28, R29)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from personvern.webstats.models import AnalyticsConsent, ConsentChoice

pytestmark = pytest.mark.django_db


def _banner(html: str) -> str:
    start = html.index('id="cookie-banner"')
    return html[start : html.index("</section>", start)]


@pytest.mark.req("R29")
def test_banner_asks_with_two_equal_buttons_and_no_preselection(client: Client) -> None:
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    banner = _banner(html)
    accept = banner[banner.index('value="granted"') - 60 : banner.index("Accept")]
    decline = banner[banner.index('value="declined"') - 60 : banner.index("Decline")]
    # The same classes (the same look): neither answer is the highlighted one.
    classes = [re.search(r'class="([^"]*)"', button).group(1)  # type: ignore[union-attr]
               for button in (accept, decline)]
    assert classes[0] == classes[1] and "choice" in classes[0].split()
    assert "checked" not in banner
    assert 'name="csrfmiddlewaretoken"' in banner
    assert "_pk_id" not in client.cookies  # nothing analytic before a choice


@pytest.mark.req("R29")
def test_declining_first_sets_no_analytics_cookie_and_stores_nothing(client: Client) -> None:
    response = client.post("/privacy/cookies/choice/", {"choice": "declined", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert response.cookies["personvern_consent"].value == "declined"
    assert response.cookies["_pk_id"]["max-age"] == 0  # deleted, never set
    assert not AnalyticsConsent.objects.exists()
    assert 'id="cookie-banner"' not in client.get("/").content.decode()


@pytest.mark.req("R29")
def test_accepting_records_proof_and_declining_later_withdraws(client: Client) -> None:
    response = client.post("/privacy/cookies/choice/", {"choice": "granted", "next": "/"})
    visitor = uuid.UUID(response.cookies["_pk_id"].value)
    assert response.cookies["personvern_consent"].value == "granted"
    row = AnalyticsConsent.objects.get(visitor_id=visitor)
    assert row.choice == ConsentChoice.GRANTED and row.text_version == "cookie-banner-1"
    assert 'id="cookie-banner"' not in client.get("/").content.decode()

    page = client.get("/privacy/cookies/choice/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You have accepted analytics cookies." in page
    response = client.post("/privacy/cookies/choice/", {"choice": "declined"})
    assert response["Location"] == "/privacy/cookies/choice/"
    assert response.cookies["_pk_id"]["max-age"] == 0
    assert list(
        AnalyticsConsent.objects.filter(visitor_id=visitor).order_by("at").values_list("choice")
    ) == [("granted",), ("withdrawn",)]


@pytest.mark.req("R29")
def test_global_privacy_control_replaces_the_banner(client: Client) -> None:
    html = client.get("/", HTTP_SEC_GPC="1", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="cookie-banner"' not in html
    assert 'id="gpc-notice"' in html and "Global Privacy Control" in html
    choice = client.get(
        "/privacy/cookies/choice/", HTTP_SEC_GPC="1", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "no analytics cookies are used, whatever you choose here" in choice


def test_choice_redirects_only_to_this_site(client: Client) -> None:
    response = client.post(
        "/privacy/cookies/choice/", {"choice": "declined", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/privacy/cookies/choice/"


def test_an_unknown_choice_is_refused(client: Client) -> None:
    response = client.post("/privacy/cookies/choice/", {"choice": "maybe"})
    assert response.status_code == 400
    assert "personvern_consent" not in response.cookies


def test_choice_requires_csrf() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/privacy/cookies/choice/", {"choice": "granted"})
    assert response.status_code == 403
    assert not AnalyticsConsent.objects.exists()

"""Anonymous visit statistics (R30) and consent-gated analytics events (R29)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.test import Client

from personvern.webstats.classify import (
    browser_family,
    clean_search_term,
    device_class,
    is_bot,
)
from personvern.webstats.consent import CONSENT_COOKIE, VISITOR_COOKIE
from personvern.webstats.models import AnalyticsEvent, PageView
from personvern.webstats.services import Bucket, analytics_consent_grant, pageviews_add

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stats_middleware")]

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
CLIENT_IP = "203.0.113.77"
FORWARDED_IP = "2001:db8:85a3::8a2e:370:7334"


def _all_stored_values() -> str:
    """Every value of every row of every webstats table, as one string."""
    parts: list[str] = []
    for model in apps.get_app_config("webstats").get_models():
        for row in model._default_manager.values():
            parts.extend(str(v) for v in row.values())
    return " ".join(parts)


@pytest.mark.req("R30")
def test_page_views_are_counted_per_hour_page_and_device_without_the_ip(client: Client) -> None:
    headers = {"REMOTE_ADDR": CLIENT_IP, "HTTP_X_FORWARDED_FOR": FORWARDED_IP}
    for _ in range(3):
        assert client.get("/", HTTP_USER_AGENT=FIREFOX, **headers).status_code == 200
    client.get("/", HTTP_USER_AGENT=IPHONE, **headers)
    client.get("/privacy/", HTTP_USER_AGENT=FIREFOX, **headers)
    rows = {
        (r.path, r.device, r.browser): r.count for r in PageView.objects.all()
    }
    assert rows == {
        ("/", "desktop", "firefox"): 3,
        ("/", "mobile", "safari"): 1,
        ("/privacy/", "desktop", "firefox"): 1,
    }
    stored = _all_stored_values()
    for fragment in ("203.0.113", ".77", "2001:db8", "8a2e", "7334"):
        assert fragment not in stored
    assert "Firefox/128" not in stored  # only the family, no version


@pytest.mark.req("R30")
def test_site_search_terms_are_counted_and_masked(client: Client) -> None:
    client.get("/?q=  Arverett  ", HTTP_USER_AGENT=FIREFOX)
    client.get("/?q=arverett", HTTP_USER_AGENT=FIREFOX)
    client.get("/?q=ola@example.no 12345678", HTTP_USER_AGENT=FIREFOX)
    terms = dict(PageView.objects.values_list("search_term", "count"))
    assert terms == {"arverett": 2, "[e-mail] [number]": 1}


def test_only_successful_public_html_get_requests_are_counted(client: Client) -> None:
    client.get("/no-such-page/")
    client.get("/admin/login/")
    client.post("/privacy/cookies/choice/", {"choice": "declined"})
    assert not PageView.objects.exists()


@pytest.mark.req("R30")
def test_the_live_counter_leaves_out_crawlers_by_the_rule_the_import_uses(client: Client) -> None:
    client.get("/privacy/", HTTP_USER_AGENT=GOOGLEBOT)
    client.get("/privacy/", HTTP_USER_AGENT="python-requests/2.32")
    client.get("/privacy/", HTTP_USER_AGENT=FIREFOX)
    assert list(PageView.objects.values_list("device", "count")) == [("desktop", 1)]
    assert is_bot(GOOGLEBOT) and not is_bot(FIREFOX)


def test_counts_add_up_atomically_in_the_database() -> None:
    bucket = Bucket(date(2025, 3, 3), 14, "/", "", "desktop", "chrome")
    pageviews_add(counts={bucket: 5})
    pageviews_add(counts={bucket: 2, bucket._replace(hour=15): 1})
    assert dict(PageView.objects.values_list("hour", "count")) == {14: 7, 15: 1}


def test_counting_one_view_is_one_statement(django_assert_num_queries: object) -> None:
    bucket = Bucket(date(2025, 3, 3), 14, "/", "", "desktop", "chrome")
    with django_assert_num_queries(1):  # type: ignore[operator]
        pageviews_add(counts={bucket: 1})


def test_hour_bucket_is_the_oslo_hour() -> None:
    from personvern.webstats.services import bucket_for

    at = datetime(2025, 6, 30, 22, 30, tzinfo=ZoneInfo("UTC"))
    bucket = bucket_for(at=at, path="/", search_term="", device="desktop", browser="other")
    assert (bucket.day, bucket.hour) == (date(2025, 7, 1), 0)


def test_user_agents_are_reduced_to_device_class_and_browser_family() -> None:
    assert (device_class(FIREFOX), browser_family(FIREFOX)) == ("desktop", "firefox")
    assert (device_class(IPHONE), browser_family(IPHONE)) == ("mobile", "safari")
    assert (device_class(EDGE), browser_family(EDGE)) == ("desktop", "edge")
    assert device_class(GOOGLEBOT) == "bot"
    assert device_class("") == "other"
    assert clean_search_term("Call 22 33 44 55 now") == "call [number] now"


def _consenting_client(client: Client) -> uuid.UUID:
    row = analytics_consent_grant(
        visitor_id=None, policy_version="2.0", text_version="banner-1", actor="test"
    )
    client.cookies[CONSENT_COOKIE] = "granted"
    client.cookies[VISITOR_COOKIE] = str(row.visitor_id)
    return row.visitor_id


@pytest.mark.req("R29")
def test_analytics_events_are_recorded_for_consenting_visitors_only(client: Client) -> None:
    client.get("/", HTTP_USER_AGENT=FIREFOX)
    assert not AnalyticsEvent.objects.exists()
    visitor = _consenting_client(client)
    client.get("/privacy/", HTTP_USER_AGENT=FIREFOX)
    assert list(AnalyticsEvent.objects.values_list("visitor_id", "path")) == [
        (visitor, "/privacy/")
    ]


@pytest.mark.req("R29")
def test_global_privacy_control_stops_analytics_even_with_consent(client: Client) -> None:
    _consenting_client(client)
    client.get("/", HTTP_USER_AGENT=FIREFOX, HTTP_SEC_GPC="1")
    assert not AnalyticsEvent.objects.exists()
    assert PageView.objects.get().count == 1  # anonymous statistics need no consent


@pytest.mark.req("R29")
def test_a_forged_consent_cookie_records_nothing(client: Client) -> None:
    client.cookies[CONSENT_COOKIE] = "granted"
    client.cookies[VISITOR_COOKIE] = str(uuid.uuid4())
    client.get("/", HTTP_USER_AGENT=FIREFOX)
    assert not AnalyticsEvent.objects.exists()

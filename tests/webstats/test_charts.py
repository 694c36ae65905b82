"""Web statistics as charts in the back office (R30): the selectors behind them and the page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from personvern.webstats import selectors
from personvern.webstats.services import Bucket, pageviews_add

pytestmark = pytest.mark.django_db

DAY = date(2026, 11, 20)


def _add(day: date, hour: int, path: str, n: int, *, device: str = "desktop",
         search: str = "", browser: str = "firefox") -> None:
    pageviews_add(counts={Bucket(day, hour, path, search, device, browser): n})


@pytest.mark.req("R30")
def test_views_by_day_lists_every_day_of_the_period_with_zero_for_a_quiet_one() -> None:
    _add(DAY, 9, "/", 3)
    _add(DAY, 10, "/courses/", 2, device="mobile")
    _add(DAY + timedelta(days=2), 9, "/", 4)
    _add(DAY + timedelta(days=5), 9, "/", 100)  # after the period

    rows = selectors.views_by_day(start=DAY, end=DAY + timedelta(days=2))

    assert rows == [(DAY, 5), (DAY + timedelta(days=1), 0), (DAY + timedelta(days=2), 4)]


@pytest.mark.req("R30")
def test_views_by_hour_has_all_24_hours_and_device_classes_all_four() -> None:
    _add(DAY, 9, "/", 3)
    _add(DAY, 9, "/courses/", 2, device="mobile", browser="safari")
    _add(DAY, 23, "/", 1, device="bot", browser="bot")

    hours = selectors.views_by_hour(start=DAY, end=DAY)
    devices = selectors.device_class_totals(start=DAY, end=DAY)

    assert len(hours) == 24 and hours[9] == (9, 5) and hours[23] == (23, 1) and hours[0] == (0, 0)
    assert devices == [("desktop", 3), ("mobile", 2), ("bot", 1), ("other", 0)]
    assert selectors.total_views(start=DAY, end=DAY) == 6


def _marketing_client() -> Client:
    user = User.objects.create_user("marked", password="a-Long-test-passw0rd", is_staff=True)
    user.groups.add(Group.objects.get(name="marketing"))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.req("R30")
def test_marketing_sees_the_charts_with_their_numbers_for_the_chosen_period() -> None:
    today = timezone.localdate()
    _add(today, 9, "/courses/", 7)
    _add(today, 9, "/search/", 2, search="personvern", device="mobile")
    _add(today - timedelta(days=20), 14, "/old-page/", 5)

    client = _marketing_client()
    week = client.get("/admin/webstats/pageview/charts/?days=7",
                      headers={"accept-language": "en"}).content.decode()
    month = client.get("/admin/webstats/pageview/charts/",
                       headers={"accept-language": "en"}).content.decode()

    assert "9 page views from" in week
    assert "/old-page/" not in week and "/old-page/" in month
    assert "14 page views from" in month
    for title in ("Views by day", "Views by hour of the day", "Most viewed pages",
                  "Most frequent site searches", "Views by device class"):
        assert title in week
    assert week.count("<svg viewBox") == 5
    assert re.search(r"<td>personvern</td><td class=\"number\">2</td>", week)
    # No inline style anywhere: the CSP would refuse it.
    assert "style=" not in week


def test_charts_page_is_in_norwegian_for_a_norwegian_browser() -> None:
    _add(timezone.localdate(), 9, "/", 1)
    page = _marketing_client().get("/admin/webstats/pageview/charts/",
                                   headers={"accept-language": "nb"}).content.decode()
    assert "Sidevisninger per dag" in page
    assert "Siste 30 dager" in page


def test_staff_without_the_statistics_permission_are_refused_the_charts() -> None:
    user = User.objects.create_user("hr", password="a-Long-test-passw0rd", is_staff=True)
    user.groups.add(Group.objects.get(name="hr"))
    client = Client()
    client.force_login(user)
    assert client.get("/admin/webstats/pageview/charts/").status_code == 403

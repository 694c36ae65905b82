"""Rate limits of the public doors (issue 7, defect 3.5; docs/decisions/0016-rate-limits.md).

The probe found nothing limited: 40 registrations in 6 s, 30 secure messages,
30 wrong admin passwords followed by a successful login, and 20 repeat
registrations mailing the address's owner 20 times. Each surface is tested here
in process, and the counters are shown to live in the shared cache by two real
``personvern serve`` servers answering alternate requests.

Counting windows are fixed (django-ratelimit); tests that use a short window
first wait for a fresh one (:func:`_fresh_window`), so a boundary never falls
inside a test.
"""

from __future__ import annotations

import http.client
import importlib.util
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client, override_settings
from django.utils import timezone
from django_ratelimit.core import _get_window, _split_rate, get_usage

from personvern.api.services import api_token_create
from personvern.config import ConfigurationError, load_config
from personvern.core.models import AuditEntry
from personvern.core.ratelimits import allow, configured_rate
from personvern.courses.models import Course, CourseKind, Registration
from personvern.inquiries.models import Inquiry
from personvern.site.models import CacheEntry
from personvern.webstats.models import AnalyticsConsent
from tests.courses.factories import OSLO, make_course
from tests.processes import database_url

PASSWORD = "riktig-passord-1"  # noqa: S105 - a test user's password


def _rates(**rates: str) -> Any:
    """override_settings for some of ``RATELIMIT_RATES`` (keys with _ for -)."""
    changed = {name.replace("_", "-"): rate for name, rate in rates.items()}
    return override_settings(RATELIMIT_RATES={**settings.RATELIMIT_RATES, **changed})


def _fresh_window(group: str, value: str, needed: float = 30.0) -> None:
    """Wait, if need be, until ``value``'s window of ``group`` has ``needed`` seconds left."""
    _count, period = _split_rate(configured_rate(group))
    left = _get_window(value, period) - time.time()
    if left < needed:
        time.sleep(left + 1)


@pytest.fixture
def course(db: None) -> Course:
    """A digital course that starts in a month (the view uses the real clock)."""
    start = timezone.localtime(timezone.now(), OSLO).date() + timedelta(days=30)
    return make_course(kind=CourseKind.DIGITAL, starts_at=datetime(
        start.year, start.month, start.day, 9, tzinfo=OSLO))


def _registration(n: int, **extra: str) -> dict[str, str]:
    return {"given_name": "Kari", "family_name": f"Nordmann {n}",
            "email": f"kari{n}@example.no", **extra}


def _client(ip: str = "127.0.0.1", lang: str = "en", **meta: str) -> Client:
    return Client(REMOTE_ADDR=ip, headers={"Accept-Language": lang}, **meta)


# --- The registration form -------------------------------------------------------------


def test_the_default_limit_stops_a_burst_of_registrations_from_one_client(course: Course) -> None:
    # The probe: 40 registrations from one address in a few seconds all went through.
    limit, _period = _split_rate(settings.RATELIMIT_RATES["registration"])
    assert limit == 30  # PERSONVERN_RATE_LIMIT_REGISTRATION's default, 30 per 10 minutes
    _fresh_window("registration", "127.0.0.1", needed=60)
    client = _client()
    url = f"/courses/{course.slug}/"
    codes = [client.post(url, _registration(n)).status_code for n in range(40)]
    assert codes == [302] * 30 + [429] * 10
    assert Registration.objects.count() == 30
    # Another client is not held back by this one.
    assert _client("192.0.2.7").post(url, _registration(99)).status_code == 302


@_rates(registration="2/d")
def test_a_limited_registration_gets_a_translated_429_page(course: Course) -> None:
    url = f"/courses/{course.slug}/"
    client = _client()
    assert [client.post(url, _registration(n)).status_code for n in range(2)] == [302, 302]
    english = client.post(url, _registration(3))
    norwegian = _client(lang="nb").post(url, _registration(4))
    assert english.status_code == norwegian.status_code == 429
    assert "Too many attempts" in english.content.decode()
    assert "You have sent this form too many times" in english.content.decode()
    assert "For mange forsøk" in norwegian.content.decode()
    assert "Du har sendt dette skjemaet for mange ganger" in norwegian.content.decode()
    assert Registration.objects.count() == 2
    # Showing the form is not counted.
    assert client.get(url).status_code == 200


@_rates(registration="2/d")
def test_a_forwarded_header_counts_only_when_a_trusted_proxy_is_configured(
    course: Course,
) -> None:
    url = f"/courses/{course.slug}/"
    # No proxy configured: a client cannot escape by writing its own X-Forwarded-For.
    codes = [
        _client(HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").post(url, _registration(n)).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]
    with override_settings(RATELIMIT_CLIENT_IP_HEADER="HTTP_X_FORWARDED_FOR"):
        # Behind the proxy every request comes from the proxy's address; the client is
        # the right-most address, the one the proxy appended (not what the client wrote).
        proxy = "10.0.0.1"
        codes = [
            _client(proxy, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.5")
            .post(url, _registration(10 + n)).status_code
            for n in range(3)
        ]
        assert codes == [302, 302, 429]
        other = _client(proxy, HTTP_X_FORWARDED_FOR="203.0.113.6")
        assert other.post(url, _registration(20)).status_code == 302


def test_config_names_the_proxy_header_and_refuses_a_bad_rate(tmp_path: Path) -> None:
    base = {"PERSONVERN_DATA_DIR": str(tmp_path), "PERSONVERN_ENV": "test"}
    assert load_config(base)["CLIENT_IP_HEADER"] == ""
    with pytest.raises(ConfigurationError, match="PERSONVERN_RATE_LIMIT_REGISTRATION must be"):
        load_config({**base, "PERSONVERN_RATE_LIMIT_REGISTRATION": "many"})
    with pytest.raises(ConfigurationError, match="PERSONVERN_RATE_LIMIT_SECURE_MESSAGE must be"):
        load_config({**base, "PERSONVERN_RATE_LIMIT_SECURE_MESSAGE": "5/0m"})
    with pytest.raises(ConfigurationError, match="PERSONVERN_ADMIN_LOGIN_FAILURE_LIMIT"):
        load_config({**base, "PERSONVERN_ADMIN_LOGIN_FAILURE_LIMIT": "0"})
    with pytest.raises(ConfigurationError, match="PERSONVERN_CACHE_URL must be empty"):
        load_config({**base, "PERSONVERN_CACHE_URL": "memcached://127.0.0.1:11211"})
    assert load_config({**base, "PERSONVERN_RATE_LIMIT_REGISTRATION": "5/15m"})[
        "RATE_LIMIT_REGISTRATION"] == "5/15m"
    if importlib.util.find_spec("redis") is None:
        with pytest.raises(ConfigurationError, match="the redis package is not installed"):
            load_config({**base, "PERSONVERN_CACHE_URL": "redis://127.0.0.1:6379/0"})
    else:
        assert load_config({**base, "PERSONVERN_CACHE_URL": "redis://127.0.0.1:6379/0"})[
            "CACHE_URL"] == "redis://127.0.0.1:6379/0"


# --- Repeat registrations: the owner of the address is mailed once -----------------------


def test_repeat_registrations_mail_the_address_once_and_answer_alike(
    course: Course, smtp_server: Any
) -> None:
    # The probe: 20 posts of an address already registered sent its owner 20 mails.
    _fresh_window("repeat-notice", "kari@example.no", needed=60)
    url = f"/courses/{course.slug}/"
    data = {"given_name": "Kari", "family_name": "Nordmann", "email": "kari@example.no"}
    first = _client().post(url, data)
    smtp_server.wait_for(1)  # the receipt of the registration
    answers = [
        _client(f"192.0.2.{n}").post(url, {**data, "email": "Kari@Example.no "}) for n in range(20)
    ]
    new = _client("192.0.2.200").post(url, _registration(1))
    # Every answer is the same redirect as for a new registration (ADR 0012).
    assert {(a.status_code, a["Location"]) for a in answers} == {
        (first.status_code, first["Location"]), (new.status_code, new["Location"])}
    smtp_server.wait_for(3)
    time.sleep(0.3)
    to_kari = [m for m in smtp_server.messages if m.rcpt_tos[0].lower() == "kari@example.no"]
    assert len(to_kari) == 2  # the receipt and one "registered again" notice, not 20
    assert "for which it was already registered" in to_kari[1].body
    assert AuditEntry.objects.filter(action="registration.duplicate_notice_sent").count() == 1
    assert Registration.objects.filter(person__emails__address="kari@example.no").count() == 1


# --- The secure-message form and the cookie choice ---------------------------------------


def _message(n: int) -> dict[str, str]:
    return {"topic": "other", "given_name": "Kari", "family_name": "Nordmann",
            "email": f"kari{n}@example.no",
            "subject": "Innsyn", "message": "Her er dokumentasjonen dere ba om."}


def test_secure_messages_are_limited_per_client(db: None) -> None:
    # The probe sent 30; the default lets 10 an hour through from one address.
    assert _split_rate(settings.RATELIMIT_RATES["secure-message"]) == (10, 3600)
    _fresh_window("secure-message", "127.0.0.1", needed=60)
    client = _client()
    codes = [client.post("/secure-message/", _message(n)).status_code for n in range(12)]
    assert codes == [302] * 10 + [429] * 2
    assert Inquiry.objects.count() == 10
    norwegian = _client(lang="nb").post("/secure-message/", _message(13))
    assert norwegian.status_code == 429
    assert "For mange forsøk" in norwegian.content.decode()
    assert _client("192.0.2.9").post("/secure-message/", _message(14)).status_code == 302


@_rates(cookie_choice="3/d")
def test_cookie_choices_are_limited_per_client(db: None) -> None:
    client = _client()
    codes = [
        client.post("/privacy/cookies/choice/", {"choice": "granted"}).status_code
        for _n in range(4)
    ]
    assert codes == [302, 302, 302, 429]
    assert AnalyticsConsent.objects.count() == 3
    # Reading the page is not limited.
    assert client.get("/privacy/cookies/choice/").status_code == 200


# --- The back-office login ---------------------------------------------------------------


@pytest.fixture
def staff_user(db: None) -> User:
    return User.objects.create_user("kursadmin", password=PASSWORD, is_staff=True)


def _login(client: Client, password: str, username: str = "kursadmin") -> Any:
    return client.post("/admin/login/?next=/admin/",
                       {"username": username, "password": password, "next": "/admin/"})


def _logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_thirty_wrong_passwords_lock_the_login_even_for_the_right_one(staff_user: User) -> None:
    # The probe: 30 wrong passwords, then the right one logged in.
    client = _client()
    codes = [_login(client, f"feil-{n}").status_code for n in range(30)]
    assert codes == [200] * 4 + [429] * 26  # the 5th failure locks (default limit 5)
    locked = _login(client, PASSWORD)
    assert locked.status_code == 429
    assert not _logged_in(client)
    page = locked.content.decode()
    assert "Login blocked" in page
    assert "is blocked for 15 minutes after too many failed attempts" in page
    norwegian = _login(_client(lang="nb"), PASSWORD)
    assert "Innlogging sperret" in norwegian.content.decode()
    assert "er sperret i 15 minutter" in norwegian.content.decode()
    # The pair user name + address is locked: the user logs in from another address.
    elsewhere = _client("192.0.2.50")
    assert _login(elsewhere, PASSWORD).status_code == 302
    assert _logged_in(elsewhere)


def test_the_lock_out_ends_after_the_cool_off(staff_user: User) -> None:
    client = _client()
    for n in range(5):
        _login(client, f"feil-{n}")
    assert _login(client, PASSWORD).status_code == 429
    # 16 minutes later (the records are moved back rather than the clock forward).
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _login(client, PASSWORD).status_code == 302
    assert _logged_in(client)
    assert not AccessAttempt.objects.exists()  # expired records are removed


def test_an_unknown_user_name_is_locked_out_like_a_known_one(staff_user: User) -> None:
    client = _client()
    known = [_login(client, "feil").status_code for _n in range(6)]
    unknown = [_login(client, "feil", username="finnes-ikke").status_code for _n in range(6)]
    assert known == unknown == [200] * 4 + [429] * 2


# --- API authentication ------------------------------------------------------------------


@pytest.fixture
def api_token(db: None) -> str:
    user = User.objects.create_user("integrasjon", is_staff=True)
    return api_token_create(user=user, name="integration", actor="test")[1]


def _api(token: str, ip: str = "127.0.0.1", lang: str = "en") -> Any:
    return Client(REMOTE_ADDR=ip).get(
        "/api/requests", headers={"Authorization": f"Bearer {token}", "Accept-Language": lang})


def test_failed_api_authentication_is_limited_per_client(api_token: str) -> None:
    assert _split_rate(settings.RATELIMIT_RATES["api-auth-failures"]) == (20, 600)
    _fresh_window("api-auth-failures", "127.0.0.1", needed=60)
    codes = [_api(f"pvt_guess{n}").status_code for n in range(20)]
    assert set(codes) == {401}
    refused = _api("pvt_guess-more")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 600
    assert refused.json()["detail"].startswith(
        "Too many requests with a wrong token came from your address.")
    # Once limited, no token is checked from that address, the right one included …
    assert _api(api_token).status_code == 429
    norwegian = _api("pvt_x", lang="nb")
    assert norwegian.json()["detail"].startswith("For mange forespørsler med feil nøkkel")
    # … while other clients go on.
    assert _api(api_token, ip="192.0.2.77").status_code == 403  # no rights permission
    assert _api("pvt_guess", ip="192.0.2.77").status_code == 401


@_rates(api_auth_failures="3/d")
def test_good_tokens_do_not_count_as_failures(api_token: str) -> None:
    for _n in range(10):
        assert _api(api_token).status_code == 403
    assert [_api("pvt_wrong").status_code for _n in range(4)] == [401, 401, 401, 429]


# --- The counters: a keyed hash in a database table, counted atomically ------------------


@_rates(registration="5/d")
def test_counters_hold_no_address_and_use_the_database_table(course: Course) -> None:
    _client("198.51.100.23").post(f"/courses/{course.slug}/", _registration(1))
    keys = list(CacheEntry.objects.values_list("cache_key", flat=True))
    assert keys, "the counter is stored in the database table"
    assert not [k for k in keys if "198.51.100.23" in k]
    assert settings.CACHES["default"]["BACKEND"] == "personvern.core.ratelimits.DatabaseCache"


@pytest.mark.django_db(transaction=True)
@_rates(repeat_notice="1000/d")
def test_concurrent_counting_loses_no_count() -> None:
    threads, each = 6, 10
    errors: list[BaseException] = []

    def count() -> None:
        try:
            for _n in range(each):
                allow("repeat-notice", "race@example.no")
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=count) for _n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    usage = get_usage(None, group="repeat-notice", key=lambda _g, _r: "race@example.no",
                      rate=configured_rate)
    assert usage["count"] == threads * each


# --- Several web processes share the limits ----------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def two_servers(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[int]]:
    """Two ``personvern serve`` servers (gunicorn, two workers each) on the test database:
    four processes that share nothing but the database and its cache table."""
    with django_db_blocker.unblock():
        url = database_url()
    logs = tmp_path_factory.mktemp("servers")
    env = dict(os.environ)
    env.update(
        PERSONVERN_ENV="test",
        PERSONVERN_DATABASE_URL=url,
        PERSONVERN_DATA_DIR=str(settings.DATA_DIR),
        PERSONVERN_SECRET_KEY=settings.SECRET_KEY,
        PERSONVERN_AUDIT_KEY=settings.PERSONVERN_AUDIT_KEY,
        PERSONVERN_EMAIL_URL=(logs / "outbox").as_uri(),
        PERSONVERN_RATE_LIMIT_REGISTRATION="4/d",
        PERSONVERN_RATE_LIMIT_API_AUTH_FAILURES="3/d",
        PERSONVERN_ADMIN_LOGIN_FAILURE_LIMIT="3",
    )
    ports = [_free_port(), _free_port()]
    processes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "personvern", "serve", "--bind", f"127.0.0.1:{port}",
             "--workers", "2"],
            env=env, stdout=(logs / f"{port}.log").open("wb"), stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + 120  # start-up in a busy CI; never a timing assertion
        for port, process in zip(ports, processes, strict=True):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail((logs / f"{port}.log").read_text())
                    time.sleep(0.2)
        yield ports
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


class _Browser:
    """A client with its own cookies that talks to either server."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(
        self, port: int, method: str, path: str, data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, http.client.HTTPResponse]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        sent = {"Accept-Language": "en", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        for value in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(value).items():
                self.cookies[name] = morsel.value
        text = response.read().decode()
        conn.close()
        return response.status, text, response

    def post_form(self, port: int, path: str, data: dict[str, str]) -> int:
        """GET the form (for its CSRF cookie), then POST it with the token."""
        self.request(port, "GET", path)
        status, _text, _response = self.request(
            port, "POST", path, {**data, "csrfmiddlewaretoken": self.cookies["csrftoken"]})
        return status


def _alternate(ports: list[int], n: int) -> Iterator[int]:
    for i in range(n):
        yield ports[i % 2]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_processes_share_the_registration_limit(two_servers: list[int]) -> None:
    course = make_course(kind=CourseKind.DIGITAL, starts_at=timezone.now() + timedelta(days=30))
    browser = _Browser()
    path = f"/courses/{course.slug}/"
    codes = [browser.post_form(port, path, _registration(n))
             for n, port in enumerate(_alternate(two_servers, 6))]
    assert codes == [302, 302, 302, 302, 429, 429]  # 4 a day, counted by both together
    assert Registration.objects.count() == 4


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_processes_share_the_api_authentication_limit(two_servers: list[int]) -> None:
    browser = _Browser()
    codes = [
        browser.request(port, "GET", "/api/requests",
                        headers={"Authorization": f"Bearer pvt_guess{n}"})[0]
        for n, port in enumerate(_alternate(two_servers, 5))
    ]
    assert codes == [401, 401, 401, 429, 429]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_processes_share_the_admin_lock_out(two_servers: list[int]) -> None:
    User.objects.create_user("kursadmin", password=PASSWORD, is_staff=True)
    browser = _Browser()
    path = "/admin/login/?next=/admin/"
    codes = [
        browser.post_form(port, path, {"username": "kursadmin", "password": f"feil-{n}",
                                       "next": "/admin/"})
        for n, port in enumerate(_alternate(two_servers, 4))
    ]
    assert codes == [200, 200, 429, 429]  # the 3rd failure locks (limit 3 in these servers)
    for port in two_servers:
        status = browser.post_form(port, path, {"username": "kursadmin", "password": PASSWORD,
                                                "next": "/admin/"})
        assert status == 429
        status, _text, response = browser.request(port, "GET", "/admin/")
        assert status == 302 and "/admin/login/" in response.headers["Location"]
    assert AccessAttempt.objects.get().failures_since_start >= 3

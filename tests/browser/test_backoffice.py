"""Staff roles in the real back office, through a real browser."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _staff(username: str, role: str) -> str:
    password = "a-Long-test-passw0rd"
    user = User.objects.create_user(username, password=password, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return password


def _login(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()


def test_course_administrator_sees_courses_but_not_job_applications(
    page: Page, live_server: object
) -> None:
    base = str(live_server)
    password = _staff("kursadmin", "course administrator")
    _login(page, base, "kursadmin", password)
    content = page.locator("#content-main")
    expect(content).to_contain_text("Registrations")
    expect(content).not_to_contain_text("Applications")
    response = page.goto(f"{base}/admin/recruitment/application/")
    assert response is not None and response.status == 403


def test_hr_sees_job_applications_but_not_registrations(page: Page, live_server: object) -> None:
    base = str(live_server)
    password = _staff("hr", "hr")
    _login(page, base, "hr", password)
    content = page.locator("#content-main")
    expect(content).to_contain_text("Applications")
    expect(content).not_to_contain_text("Registrations")
    response = page.goto(f"{base}/admin/courses/registration/")
    assert response is not None and response.status == 403


def test_back_office_sends_security_headers(page: Page, live_server: object) -> None:
    response = page.goto(f"{live_server}/admin/login/")
    assert response is not None
    headers = response.headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"

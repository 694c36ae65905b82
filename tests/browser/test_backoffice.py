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


def test_course_administrator_meets_no_job_applicant_in_the_membership_list(
    page: Page, live_server: object
) -> None:
    from datetime import date

    from personvern.core import services as core
    from personvern.recruitment import services as recruitment
    from tests.courses.factories import make_course, register

    applicant = recruitment.application_receive(
        email="siv.soker@example.no", given_name="Siv", family_name="Søkersen",
        source="direct", actor="t",
    ).person
    participant = register(make_course(), given_name="Kari", family_name="Kursdeltaker").person
    for person in (applicant, participant):
        core.membership_add(person=person, organisation="juristforbundet",
                            valid_from=date(2020, 1, 1), actor="t")
    base = str(live_server)
    password = _staff("kursadmin", "course administrator")
    _login(page, base, "kursadmin", password)
    page.goto(f"{base}/admin/core/membership/")
    results = page.locator("#result_list")
    expect(results).to_contain_text("Kari Kursdeltaker")
    expect(results).not_to_contain_text("Søkersen")

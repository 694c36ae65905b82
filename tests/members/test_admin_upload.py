"""The back office's member-file upload: course administrators, same checks and service."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from personvern.core.models import AuditEntry, Membership, Person
from personvern.core.roles import COURSE_ADMIN, DPO, MARKETING

pytestmark = pytest.mark.django_db

URL = "/admin/core/membership/upload/"
GOOD = (b"member_id,email,given_name,family_name,member_from,member_to\n"
        b"1,ola@example.no,Ola,Nordmann,2020-01-01,\n")
BAD = GOOD + b"2,kari@example.no,Kari,Nordmann,2020-13-01,\n"


def _staff(role: str) -> Client:
    user = User.objects.create_user(username=role.replace(" ", "-"), password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def _upload(client: Client, content: bytes) -> object:
    return client.post(URL, {"organisation": "advokatforeningen", "as_of": "",
                             "file": SimpleUploadedFile("m.csv", content, "text/csv")})


@pytest.mark.req("R14")
def test_a_course_administrator_uploads_a_member_file() -> None:
    client = _staff(COURSE_ADMIN)
    listing = client.get("/admin/core/membership/")
    assert b"Upload a member file" in listing.content
    response = _upload(client, GOOD)
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert b"1 started" in page.content
    membership = Membership.objects.get(member_id="1")
    assert membership.person.given_name == "Ola"
    assert AuditEntry.objects.filter(action="membership.added",
                                     actor="staff:course-administrator").exists()
    again = client.get(_upload(client, GOOD)["Location"])
    assert b"nothing changed" in again.content


def test_a_bad_file_shows_each_problem_by_row_and_column_and_changes_nothing() -> None:
    client = _staff(COURSE_ADMIN)
    response = _upload(client, BAD)
    assert response.status_code == 200
    text = response.content.decode()
    assert "nothing was changed" in text
    assert "<td>3</td><td>member_from</td>" in text
    assert Person.objects.count() == 0


@pytest.mark.parametrize("role", [MARKETING, DPO])
def test_other_roles_cannot_upload(role: str) -> None:
    client = _staff(role)
    assert _upload(client, GOOD).status_code == 403
    assert Membership.objects.count() == 0


def _upload_full(client: Client, content: bytes) -> object:
    return client.post(URL, {"organisation": "advokatforeningen", "as_of": "", "full": "on",
                             "file": SimpleUploadedFile("m.csv", content, "text/csv")})


@pytest.mark.req("R14")
def test_a_full_file_needs_the_organisations_feed_permission() -> None:
    """Ending every membership a file leaves out is the feed's power (ADR 0023): a course
    administrator without it is told so beside the box, and nothing is written."""
    from django.contrib.auth.models import Permission

    client = _staff(COURSE_ADMIN)
    response = _upload_full(client, GOOD)
    assert response.status_code == 200
    text = response.content.decode()
    assert "needs the permission to receive The Norwegian Bar Association" in text
    assert Membership.objects.count() == 0

    user = User.objects.get(username="course-administrator")
    user.user_permissions.add(Permission.objects.get(codename="feed_advokatforeningen"))
    client.force_login(User.objects.get(pk=user.pk))
    assert _upload_full(client, GOOD).status_code == 302
    assert Membership.objects.filter(member_id="1").exists()

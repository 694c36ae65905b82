"""A NUL byte or an over-long value in a public form is a form error, never a 500 (issue 7, 3.2).

PostgreSQL refuses NUL in text and SQLite stores it; both forms (the secure
channel and the course registration) must answer with the form and its error,
and store nothing, on either database.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from personvern.core.models import AuditEntry, Person
from personvern.courses.models import Course, CourseKind, Registration
from personvern.inquiries.models import Inquiry
from personvern.site.models import SecureUpload
from personvern.site.services import secure_message_send
from tests.courses.factories import OSLO, make_course

pytestmark = pytest.mark.django_db

SECURE_MESSAGE = {
    "topic": "other",
    "given_name": "Kari",
    "family_name": "Nordmann",
    "email": "kari@example.no",
    "subject": "Innsyn",
    "message": "Her er dokumentasjonen dere ba om.",
}


def _errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    form = response.context["form"]
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


def _nothing_stored() -> None:
    assert not Inquiry.objects.exists()
    assert not SecureUpload.objects.exists()
    assert not Registration.objects.exists()
    assert not Person.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.req("R20")
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("given_name", "Ka\x00ri"),
        ("family_name", "Nord\x00mann"),
        ("email", "kari\x00@example.no"),
        ("subject", "Inn\x00syn"),
        ("message", "Her\x00er"),
        ("given_name", "K" * 151),
        ("family_name", "N" * 151),
        ("email", "k" * 250 + "@example.no"),
        ("subject", "S" * 161),
        ("message", "M" * 20_001),
    ],
)
def test_secure_message_with_a_nul_or_too_long_field_is_a_form_error(
    client: Client, field: str, value: str
) -> None:
    response = client.post(
        "/secure-message/", {**SECURE_MESSAGE, field: value}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert field in _errors(response)
    _nothing_stored()


@pytest.mark.req("R20")
def test_a_file_name_with_a_nul_byte_is_stored_without_it(client: Client, clamd: str) -> None:
    upload = SimpleUploadedFile("brev\x00.txt", b"Hei\n", "text/plain")

    response = client.post(
        "/secure-message/", {**SECURE_MESSAGE, "attachment": upload}, HTTP_ACCEPT_LANGUAGE="en"
    )
    # The service, called without the form's multipart parser, cleans the name too.
    secure_message_send(
        email="ola@example.no", subject="Vedlegg", message="Se vedlegg.", actor="test",
        attachment=("C:\\fakepath\\svar\x00\x07.txt", b"Hei\n"),
    )

    assert response.status_code == 302
    assert sorted(SecureUpload.objects.values_list("filename", flat=True)) == [
        "brev.txt", "svar.txt"
    ]


@pytest.fixture
def upcoming(db: None) -> Course:
    """A physical course in a month (the view uses the real clock)."""
    start = timezone.localtime(timezone.now(), OSLO).date() + timedelta(days=30)
    return make_course(
        kind=CourseKind.PHYSICAL,
        starts_at=datetime(start.year, start.month, start.day, 9, tzinfo=OSLO),
    )


@pytest.mark.req("R12")
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("given_name", "Gr\x00o"),
        ("family_name", "Gj\x00est"),
        ("email", "gro\x00@example.no"),
        ("employer", "Firma\x00 AS"),
        ("invoice_reference", "PO\x001"),
        ("dietary_needs", "veg\x00an"),
        ("given_name", "G" * 151),
        ("employer", "F" * 201),
        ("invoice_reference", "P" * 101),
    ],
)
def test_registration_with_a_nul_or_too_long_field_is_a_form_error(
    client: Client, upcoming: Course, field: str, value: str
) -> None:
    data = {
        "given_name": "Gro", "family_name": "Gjest", "email": "gro@example.no",
        "employer": "Firma AS", "invoice_reference": "", "dietary_needs": "",
    }

    response = client.post(
        f"/courses/{upcoming.slug}/register/", {**data, field: value}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert field in _errors(response)
    assert not Registration.objects.exists()
    assert not Person.objects.exists()


@pytest.mark.req("R12")
def test_a_nul_byte_in_the_course_search_is_not_a_500(client: Client, upcoming: Course) -> None:
    response = client.get("/", {"q": f"{upcoming.title}\x00"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert upcoming.title in response.content.decode()

"""The open job application on the public site (R24, R27, R21): form, scan, receipt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from personvern.core.models import AuditEntry, Person
from personvern.core.policy import current_policy
from personvern.core.scanning import ScanStatus
from personvern.policy.loader import default_policy_path
from personvern.recruitment.models import Application, ApplicationDocument
from personvern.worker.models import OutgoingMail
from tests.mail import SMTPTestServer
from tests.scanning import SIGNATURE, eicar

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LETTER = "Jeg søker fast stilling som jurist.\n".encode()
URL = "/jobs/apply/"


def _data(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "given_name": "Kari",
        "family_name": "Nordmann",
        "email": "kari@example.no",
        "phone": "+47 22 33 44 55",
        "message": "Jeg ser etter arbeid innen personvernrett.",
        "cv": SimpleUploadedFile("cv.pdf", PDF, "application/pdf"),
        "letter": SimpleUploadedFile("søknad.txt", LETTER, "text/plain"),
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def _errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    return {name: [str(e) for e in errors]
            for name, errors in response.context["form"].errors.items()}


def _nothing_stored() -> None:
    assert not Application.objects.exists()
    assert not ApplicationDocument.objects.exists()
    assert not Person.objects.exists()
    assert not OutgoingMail.objects.exists()


@pytest.mark.req("R24")
@pytest.mark.req("R27")
def test_the_page_shows_the_retention_from_the_policy_and_points_to_the_job_portal(
    client: Client,
) -> None:
    keep = current_policy().activity("recruitment").rule("open-application").keep
    en = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"for {keep.describe('en')} after we receive it" in en
    assert "job portal" in en and 'enctype="multipart/form-data"' in en
    nb = client.get(URL, HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert keep.describe("nb") in nb and "jobbportalen" in nb


@pytest.mark.req("R27")
def test_the_period_shown_follows_the_policy_file(
    client: Client, settings: Any, tmp_path: Path
) -> None:
    text = default_policy_path().read_text(encoding="utf-8")
    rule = 'id = "open-application"\nkeep = "210d"'
    assert rule in text
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(rule, 'id = "open-application"\nkeep = "90d"'), encoding="utf-8")
    settings.PERSONVERN_POLICY = str(path)
    assert "for 90 days after we receive it" in client.get(
        URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()


@pytest.mark.req("R24")
@pytest.mark.req("R27")
@pytest.mark.req("R21")
def test_an_open_application_is_stored_with_its_scanned_documents_and_a_receipt_mailed(
    client: Client, clamd: str, smtp_server: SMTPTestServer
) -> None:
    response = client.post(URL, _data(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response["Location"] == "/jobs/apply/received/"
    application = Application.objects.get()
    assert application.position is None and application.source == "direct"  # open-application
    assert application.letter == "Jeg ser etter arbeid innen personvernrett."
    person = application.person
    assert (person.given_name, person.family_name, person.phone) == (
        "Kari", "Nordmann", "+47 22 33 44 55")
    docs = {d.kind: d for d in application.documents.all()}
    assert set(docs) == {"cv", "letter"}
    assert bytes(docs["cv"].content) == PDF and docs["cv"].content_type == "application/pdf"
    assert docs["letter"].filename == "søknad.txt" and bytes(docs["letter"].content) == LETTER
    assert all(d.scan_status == ScanStatus.CLEAN for d in docs.values())
    assert AuditEntry.objects.filter(action="file.scan_clean").count() == 2

    receipt = client.get("/jobs/apply/received/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "We have received your application" in receipt
    assert "Kari" not in receipt and "kari@example.no" not in receipt

    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["kari@example.no"]
    assert mail.message["Subject"] == "We have received your application"
    assert "210 days" in mail.body
    assert "personvernrett" not in mail.body and "cv.pdf" not in mail.body


@pytest.mark.req("R24")
def test_the_receipt_is_written_in_the_visitors_language(
    client: Client, clamd: str, smtp_server: SMTPTestServer
) -> None:
    assert client.post(URL, _data(), HTTP_ACCEPT_LANGUAGE="nb").status_code == 302
    [mail] = smtp_server.wait_for(1)
    assert mail.message["Subject"] == "Vi har mottatt søknaden din"
    assert "210 dager" in mail.body


@pytest.mark.req("R21")
@pytest.mark.parametrize("field", ["cv", "letter"])
@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "virus scanner found malware"), ("nb", "virusskanneren fant skadevare")],
)
def test_an_infected_document_is_refused_next_to_its_field_and_nothing_is_stored(
    client: Client, clamd: str, field: str, language: str, words: str
) -> None:
    infected = SimpleUploadedFile("vedlegg.txt", eicar(), "text/plain")
    response = client.post(URL, _data(**{field: infected}), HTTP_ACCEPT_LANGUAGE=language)
    errors = _errors(response)
    assert list(errors) == [field]
    assert words in errors[field][0] and SIGNATURE in errors[field][0]
    assert "vedlegg.txt" in errors[field][0]
    _nothing_stored()
    entry = AuditEntry.objects.get(action="file.scan_infected")
    assert entry.data["channel"] == "recruitment" and entry.subject == ""
    # The visitor's text comes back; only the files must be chosen again.
    assert 'value="Kari"' in response.content.decode()


@pytest.mark.req("R21")
def test_without_a_scanner_production_refuses_the_documents(
    client: Client, settings: Any, tmp_path: Any
) -> None:
    settings.PERSONVERN_ENV = "production"
    settings.PERSONVERN_CLAMD_URL = f"unix://{tmp_path}/no-clamd.sock"
    response = client.post(URL, _data(), HTTP_ACCEPT_LANGUAGE="nb", secure=True)
    errors = _errors(response)
    assert "kunne ikke sjekkes for virus" in errors["cv"][0]
    _nothing_stored()


@pytest.mark.req("R24")
@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"given_name": ""}, "given_name", "This field is required."),
        ({"family_name": "N" * 151}, "family_name", "at most 150"),
        ({"email": "not an address"}, "email", "valid email"),
        ({"email": "kari\x00@example.no"}, "email", "Null characters"),
        ({"phone": "ring meg"}, "phone", "Write the phone number with digits"),
        ({"message": ""}, "message", "This field is required."),
        ({"message": "M" * 2001}, "message", "at most 2000"),
        ({"cv": None}, "cv", "Choose a file to upload."),
        ({"letter": None}, "letter", "Choose a file to upload."),
        ({"cv": SimpleUploadedFile("cv.exe", b"MZ\x90\x00")}, "cv", "cannot be sent"),
        ({"letter": SimpleUploadedFile("brev.pdf", b"MZ renamed")}, "letter", "not a valid"),
        ({"cv": SimpleUploadedFile("tom.pdf", b"")}, "cv", "empty"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_stored(
    client: Client, changes: dict[str, Any], field: str, words: str
) -> None:
    response = client.post(URL, _data(**changes), HTTP_ACCEPT_LANGUAGE="en")
    errors = _errors(response)
    assert field in errors and words in " ".join(errors[field]), errors
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    _nothing_stored()


def test_a_file_over_the_size_limit_is_refused(client: Client) -> None:
    from personvern.site.uploads import MAX_UPLOAD_BYTES

    big = SimpleUploadedFile("cv.pdf", PDF + b"0" * MAX_UPLOAD_BYTES)
    errors = _errors(client.post(URL, _data(cv=big), HTTP_ACCEPT_LANGUAGE="en"))
    assert "too large" in errors["cv"][0]
    _nothing_stored()


@pytest.mark.req("R24")
def test_posts_are_rate_limited_per_client(client: Client, settings: Any) -> None:
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "job-application": "2/h"}
    codes = [client.post(URL, _data(email="ugyldig")).status_code for _n in range(3)]
    assert codes == [200, 200, 429]
    assert client.get(URL).status_code == 200  # reading the form is not limited

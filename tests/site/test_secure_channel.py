"""The secure channel (R20): a message and a file over HTTPS instead of e-mail."""

from __future__ import annotations

import io
import re
import socket
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from pytest_django.fixtures import Settings

from personvern.cli import main
from personvern.core.models import AuditEntry
from personvern.core.scanning import ScanStatus
from personvern.inquiries.models import Inquiry
from personvern.site import uploads
from personvern.site.models import SecureUpload
from personvern.site.services import secure_message_send
from tests.scanning import SIGNATURE, eicar

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _post(client: Client, **extra: object) -> object:
    data: dict[str, object] = {
        "topic": "other",
        "given_name": "Kari",
        "family_name": "Nordmann",
        "email": "kari@example.no",
        "subject": "Innsyn",
        "message": "Her er dokumentasjonen dere ba om.",
    }
    data.update(extra)
    return client.post("/secure-message/", data)


@pytest.mark.req("R20")
def test_the_form_is_reachable_and_posts_multipart_with_a_csrf_token(client: Client) -> None:
    response = client.get("/secure-message/", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "by ordinary e-mail" in html
    assert 'href="/secure-message/"' in client.get("/").content.decode()  # linked from the site


@pytest.mark.req("R20")
def test_a_post_without_csrf_token_is_refused() -> None:
    client = Client(enforce_csrf_checks=True)
    response = _post(client)
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert not Inquiry.objects.exists()


@pytest.mark.req("R20")
@pytest.mark.req("R21")
def test_a_message_with_a_file_becomes_an_inquiry_with_its_upload(
    client: Client, clamd: str
) -> None:
    response = _post(client, attachment=SimpleUploadedFile("vedlegg.pdf", PDF, "application/pdf"))
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response["Location"].startswith("/secure-message/sent/?case=")  # type: ignore[index]
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == "web"
    assert re.fullmatch(r"\[[2-9A-Z]{4}-[2-9A-Z]{4}\] Annet: Innsyn", inquiry.subject)
    assert inquiry.person.emails.get().address == "kari@example.no"
    upload = SecureUpload.objects.get(inquiry=inquiry)
    assert (upload.filename, upload.content_type, upload.size) == ("vedlegg.pdf",
                                                                   "application/pdf", len(PDF))
    assert bytes(upload.content) == PDF
    assert upload.scan_status == ScanStatus.CLEAN and upload.scanned_at is not None
    entry = AuditEntry.objects.get(action="inquiry.upload_received")
    assert entry.data["scan"] == "clean"
    assert "vedlegg" not in str(entry.data) and "kari" not in str(entry.data)
    scanned = AuditEntry.objects.get(action="file.scan_clean")
    assert scanned.data == {
        "channel": "secure-channel", "verdict": "clean", "signature": "", "size": len(PDF),
        "inquiry": inquiry.pk, "upload": upload.pk,
    }
    assert scanned.subject == entry.subject != ""
    sent = client.get(response["Location"]).content.decode()  # type: ignore[index]
    assert "Innsyn" not in sent and "kari@example.no" not in sent
    assert inquiry.subject[1:10] in sent  # the case number


@pytest.mark.req("R20")
@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("program.exe", b"MZ\x90\x00", "type"),
        ("faktura.pdf", b"MZ\x90\x00 renamed executable", "content"),
        ("notat.txt", b"\x00\x01binary", "content"),
        ("tom.pdf", b"", "empty"),
    ],
)
def test_files_outside_the_allow_list_are_refused_and_nothing_is_stored(
    client: Client, name: str, content: bytes, code: str
) -> None:
    response = _post(client, attachment=SimpleUploadedFile(name, content))
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert 'class="errorlist' in response.content.decode()  # type: ignore[attr-defined]
    assert not Inquiry.objects.exists() and not SecureUpload.objects.exists()
    with pytest.raises(ValidationError) as exc:
        uploads.check_upload(name, content)
    assert exc.value.code == code


@pytest.mark.req("R20")
def test_a_file_over_the_size_limit_is_refused(client: Client) -> None:
    big = PDF + b"0" * uploads.MAX_UPLOAD_BYTES
    response = _post(client, attachment=SimpleUploadedFile("stor.pdf", big))
    assert "too large" in response.content.decode() or "for stor" in response.content.decode()  # type: ignore[attr-defined]
    assert not Inquiry.objects.exists()


def test_word_documents_without_macros_are_accepted_and_with_macros_refused() -> None:
    def docx(*names: str) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for n in names:
                archive.writestr(n, "<x/>")
        return buffer.getvalue()

    ok = uploads.check_upload("C:\\fakepath\\brev.docx", docx("word/document.xml"))
    assert ok.filename == "brev.docx"
    with pytest.raises(ValidationError):
        uploads.check_upload("brev.docx", docx("word/document.xml", "word/vbaProject.bin"))


def test_the_service_refuses_a_bad_file_before_writing_anything() -> None:
    with pytest.raises(ValidationError) as exc:
        secure_message_send(
            email="kari@example.no", subject="s", message="m", actor="test",
            attachment=("x.exe", b"MZ"),
        )
    assert "attachment" in exc.value.message_dict
    assert not Inquiry.objects.exists()


@pytest.mark.req("R21")
def test_staff_download_the_file_as_an_attachment_never_inline(
    client: Client, clamd: str
) -> None:
    _post(client, attachment=SimpleUploadedFile("vedlegg.pdf", PDF, "application/pdf"))
    upload = SecureUpload.objects.get()
    staff = _staff()
    listing = staff.get("/admin/site/secureupload/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"/admin/site/secureupload/{upload.pk}/download/" in listing
    response = staff.get(f"/admin/site/secureupload/{upload.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == PDF
    assert client.get(f"/admin/site/secureupload/{upload.pk}/download/").status_code == 302


def _staff() -> Client:
    from django.contrib.auth.models import User

    staff = Client()
    staff.force_login(User.objects.create_superuser("dpo", password="a-Long-test-passw0rd"))
    return staff


def _errors(response: object) -> str:
    html = response.content.decode()  # type: ignore[attr-defined]
    return html[html.index('class="errorlist'):]


@pytest.mark.req("R21")
@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "virus scanner found malware"), ("nb", "virusskanneren fant skadevare")],
)
def test_an_infected_file_is_refused_on_the_form_and_nothing_is_stored(
    client: Client, clamd: str, language: str, words: str
) -> None:
    response = client.post(
        "/secure-message/",
        {
            "topic": "other",
            "email": "kari@example.no",
            "subject": "Innsyn",
            "message": "Vedlagt.",
            "attachment": SimpleUploadedFile("vedlegg.txt", eicar(), "text/plain"),
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200
    errors = _errors(response)
    assert words in errors and SIGNATURE in errors and "vedlegg.txt" in errors
    assert not Inquiry.objects.exists() and not SecureUpload.objects.exists()
    entry = AuditEntry.objects.get(action="file.scan_infected")
    assert entry.data["channel"] == "secure-channel"
    assert entry.data["signature"].startswith(SIGNATURE)
    assert entry.subject == ""  # nobody was registered


@pytest.mark.req("R21")
def test_malware_inside_an_allowed_type_is_found_too(clamd: str) -> None:
    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            secure_message_send(
                email="kari@example.no", subject="s", message="m", actor="test",
                attachment=("faktura.pdf", PDF + eicar() + b"\n%%EOF\n"),
            )
        assert exc.value.message_dict["attachment"][0].startswith("The file faktura.pdf was not")
    assert not Inquiry.objects.exists()


@pytest.mark.req("R21")
@pytest.mark.parametrize("where", ["unix", "tcp", "none"])
def test_without_a_working_scanner_production_refuses_the_file(
    client: Client, settings: Settings, tmp_path: Path, where: str
) -> None:
    settings.PERSONVERN_ENV = "production"
    settings.PERSONVERN_CLAMD_URL = {
        "unix": f"unix://{tmp_path}/no-clamd.sock",
        "tcp": f"tcp://127.0.0.1:{_closed_port()}",
        "none": "",
    }[where]
    response = client.post(
        "/secure-message/",
        {
            "topic": "other",
            "email": "kari@example.no",
            "subject": "Innsyn",
            "message": "Vedlagt.",
            "attachment": SimpleUploadedFile("vedlegg.pdf", PDF, "application/pdf"),
        },
        HTTP_ACCEPT_LANGUAGE="nb",
        secure=True,
    )
    assert response.status_code == 200
    assert "kunne ikke sjekkes for virus" in _errors(response)
    assert not Inquiry.objects.exists() and not SecureUpload.objects.exists()
    assert AuditEntry.objects.get(action="file.scan_error").data["channel"] == "secure-channel"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: nothing listens there


@pytest.mark.req("R21")
def test_a_file_not_scanned_cannot_be_downloaded_until_a_scan_finds_it_clean(
    client: Client, settings: Settings, clamd_url: str
) -> None:
    settings.PERSONVERN_CLAMD_URL = ""  # development with scanning explicitly off
    _post(client, attachment=SimpleUploadedFile("vedlegg.pdf", PDF, "application/pdf"))
    upload = SecureUpload.objects.get()
    assert upload.scan_status == ScanStatus.UNSCANNED and upload.scanned_at is None
    assert AuditEntry.objects.get(action="file.scan_disabled").data["upload"] == upload.pk
    staff = _staff()
    url = f"/admin/site/secureupload/{upload.pk}/download/"
    assert url not in staff.get("/admin/site/secureupload/").content.decode()
    refused = staff.get(url, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert refused.redirect_chain[-1][0] == "/admin/site/secureupload/"
    assert "cannot be downloaded" in refused.content.decode()
    assert PDF not in refused.content

    settings.PERSONVERN_CLAMD_URL = clamd_url
    assert main(["scan", "pending"]) == 0
    upload.refresh_from_db()
    assert upload.scan_status == ScanStatus.CLEAN
    assert staff.get(url).content == PDF

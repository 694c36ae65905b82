"""The secure channel (R20): a message and a file over HTTPS instead of e-mail."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from personvern.core.models import AuditEntry
from personvern.inquiries.models import Inquiry
from personvern.site import uploads
from personvern.site.models import SecureUpload
from personvern.site.services import secure_message_send

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _post(client: Client, **extra: object) -> object:
    data: dict[str, object] = {
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
def test_a_message_with_a_file_becomes_an_inquiry_with_its_upload(client: Client) -> None:
    response = _post(client, attachment=SimpleUploadedFile("vedlegg.pdf", PDF, "application/pdf"))
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response["Location"] == "/secure-message/sent/"  # type: ignore[index]
    inquiry = Inquiry.objects.get()
    assert (inquiry.channel, inquiry.subject) == ("web", "Innsyn")
    assert inquiry.person.emails.get().address == "kari@example.no"
    upload = SecureUpload.objects.get(inquiry=inquiry)
    assert (upload.filename, upload.content_type, upload.size) == ("vedlegg.pdf",
                                                                   "application/pdf", len(PDF))
    assert bytes(upload.content) == PDF
    entry = AuditEntry.objects.get(action="inquiry.upload_received")
    assert entry.data["malware_scanned"] is False
    assert "vedlegg" not in str(entry.data) and "kari" not in str(entry.data)
    sent = client.get("/secure-message/sent/").content.decode()
    assert "Innsyn" not in sent and "kari@example.no" not in sent


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


def test_staff_download_the_file_as_an_attachment_never_inline(client: Client) -> None:
    from django.contrib.auth.models import User

    _post(client, attachment=SimpleUploadedFile("vedlegg.pdf", PDF, "application/pdf"))
    upload = SecureUpload.objects.get()
    staff = Client()
    staff.force_login(User.objects.create_superuser("dpo", password="a-Long-test-passw0rd"))
    listing = staff.get("/admin/site/secureupload/").content.decode()
    assert "not scanned for malware" in listing or "ikke skannet" in listing
    response = staff.get(f"/admin/site/secureupload/{upload.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == PDF
    assert client.get(f"/admin/site/secureupload/{upload.pk}/download/").status_code == 302

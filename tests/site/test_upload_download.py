"""Staff download a secure-channel file only through the scoped admin, and it is audited."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from personvern.core.audit import pseudonym
from personvern.core.models import AuditEntry
from personvern.core.roles import MARKETING
from personvern.core.scanning import ScanStatus
from personvern.inquiries.services import inquiry_receive
from personvern.site.admin import SecureUploadAdmin
from personvern.site.models import SecureUpload

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 a test file\n"


def _upload(status: str = ScanStatus.CLEAN) -> SecureUpload:
    inquiry = inquiry_receive(
        email="kari@example.no", subject="s", message="m", channel="web", actor="test"
    )
    return SecureUpload.objects.create(
        inquiry=inquiry, filename="vedlegg.pdf", content_type="application/pdf",
        size=len(PDF), sha256=hashlib.sha256(PDF).hexdigest(), content=PDF,
        scan_status=status,
    )


def _marketing() -> Client:
    user = User.objects.create_user("marketing", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.req("R21")
def test_a_staff_download_is_audited_as_an_access_to_the_persons_data() -> None:
    upload = _upload()
    response = _marketing().get(f"/admin/site/secureupload/{upload.pk}/download/")
    assert response.status_code == 200 and response.content == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    entry = AuditEntry.objects.get(action="inquiry.upload_opened")
    assert entry.actor == "staff:marketing"
    assert entry.subject == pseudonym(upload.inquiry.person)
    assert entry.data == {"inquiry": upload.inquiry_id, "upload": upload.pk}


def test_a_file_not_clean_is_refused_and_nothing_is_audited() -> None:
    upload = _upload(ScanStatus.UNSCANNED)
    response = _marketing().get(f"/admin/site/secureupload/{upload.pk}/download/")
    assert response.status_code == 302
    assert not AuditEntry.objects.filter(action="inquiry.upload_opened").exists()


def test_the_download_reads_the_admins_scoped_rows_not_every_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file outside the rows the admin shows the staff member is 'not found' (ADR 0017).

    The scope is the admin's ``get_queryset``; here it is narrowed to nothing, as
    it is for a person hidden from a role, and the download must follow it.
    """
    upload = _upload()
    client = _marketing()
    monkeypatch.setattr(
        SecureUploadAdmin, "get_queryset",
        lambda self, request: SecureUpload.objects.none(),
    )
    response = client.get(f"/admin/site/secureupload/{upload.pk}/download/")
    assert response.status_code == 404
    assert PDF not in response.content
    assert not AuditEntry.objects.filter(action="inquiry.upload_opened").exists()


def test_a_bad_or_unknown_id_is_not_found_and_a_role_without_the_permission_refused() -> None:
    upload = _upload()
    assert _marketing().get("/admin/site/secureupload/999999/download/").status_code == 404
    hr = User.objects.create_user("hr", is_staff=True)
    hr.groups.add(Group.objects.get(name="hr"))
    client = Client()
    client.force_login(hr)
    response = client.get(f"/admin/site/secureupload/{upload.pk}/download/")
    assert response.status_code in (403, 404)
    assert PDF not in response.content

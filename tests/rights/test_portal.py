"""Privacy requests on Min side: made while signed in (verified by the sign-in, ADR 0018),
listed with status and deadline, and the file of a fulfilled one downloaded there."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from datetime import timedelta
from io import BytesIO

import pytest
from django.test import Client
from django.utils import timezone, translation

from personvern.core.models import AuditEntry, Person
from personvern.portal.auth import SELF_ACTOR
from personvern.rights import services
from personvern.rights.deadlines import received_date, response_deadline
from personvern.rights.models import Channel, Request, RequestStatus, VerificationMethod
from personvern.rights.selectors import request_list
from personvern.rights.selfservice import (
    available_until,
    bundles_expire,
    request_make_signed_in,
)
from personvern.site.templatetags.site_tags import day as day_text
from personvern.worker.models import OutgoingMail
from tests.mail import SMTPTestServer
from tests.portal.helpers import sign_in
from tests.rights.conftest import ACTOR

pytestmark = pytest.mark.django_db

TYPES = ["access", "rectification", "erasure", "restriction", "objection", "portability"]


@pytest.fixture
def signed_in(client: Client, make_person: Callable[..., Person]) -> tuple[Client, Person]:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    person = make_person()
    sign_in(client, person)
    return client, person


@pytest.mark.req("R32")
@pytest.mark.req("R33")
@pytest.mark.req("R34")
@pytest.mark.req("R35")
@pytest.mark.req("R36")
@pytest.mark.req("R37")
@pytest.mark.req("R38")
@pytest.mark.parametrize("kind", TYPES)
def test_a_signed_in_person_makes_a_request_of_any_type_verified_by_the_sign_in(
    signed_in: tuple[Client, Person], kind: str
) -> None:
    client, person = signed_in
    before = timezone.now()
    response = client.post("/me/rights/new/", {"type": kind, "details": "Mitt etternavn er feil"})
    assert response.status_code == 302
    request = Request.objects.get(person=person)
    assert response["Location"] == f"/me/rights/requests/{request.public_id}/?made=1"
    assert request.type == kind
    assert request.channel == Channel.PORTAL
    assert request.verification_method == VerificationMethod.SIGNED_IN
    assert request.verified_at is not None and request.verified_at >= before
    assert request.status == RequestStatus.IN_PROGRESS
    assert request.notes == "Mitt etternavn er feil"
    # The deadline runs from receipt, as for any request (R32).
    assert request.due_legal == response_deadline(received_date(request.received_at)).legal
    actor = SELF_ACTOR
    assert set(
        AuditEntry.objects.filter(actor=actor, action__startswith="rights.request.")
        .values_list("action", flat=True)
    ) == {"rights.request.created", "rights.request.verified"}
    # It is in the officer's list like any other request.
    assert request in request_list(status=RequestStatus.IN_PROGRESS)

    receipt = client.get(response["Location"]).content.decode()
    assert "We have received your request and will answer by" in receipt
    page = client.get("/me/").content.decode()
    # The table shows type and status with a capital letter (the form's choices do not).
    shown = str(request.get_type_display())
    assert f">{shown[0].upper()}{shown[1:]}</a>" in page
    assert ">In progress</td>" in page


@pytest.mark.parametrize(("kind", "message"), [
    ("rectification", "Say what is wrong or missing"),
    ("objection", "Say which processing you object to."),
])
def test_rectification_and_objection_need_details_and_store_nothing_without(
    signed_in: tuple[Client, Person], kind: str, message: str
) -> None:
    client, _person = signed_in
    response = client.post("/me/rights/new/", {"type": kind, "details": "  "})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Request.objects.exists()


def test_an_unknown_type_is_refused_next_to_the_field(signed_in: tuple[Client, Person]) -> None:
    client, _person = signed_in
    for kind in ("unclassified", "everything", ""):
        response = client.post("/me/rights/new/", {"type": kind})
        assert response.status_code == 200
        assert "Select a valid choice" in response.content.decode() or (
            "This field is required" in response.content.decode()
        )
    assert not Request.objects.exists()


def test_a_person_sees_only_their_own_requests(
    client: Client, make_person: Callable[..., Person], make_request: Callable[..., Request]
) -> None:
    other = make_request(type="access")
    sign_in(client, make_person())
    assert client.get(f"/me/rights/requests/{other.public_id}/").status_code == 404
    assert client.get(f"/me/rights/requests/{other.public_id}/download/").status_code == 404
    assert str(other.public_id) not in client.get("/me/").content.decode()


def test_requests_made_elsewhere_show_with_status_and_legal_deadline(
    client: Client, make_person: Callable[..., Person], make_request: Callable[..., Request]
) -> None:
    person = make_person()
    request = make_request(type="erasure", person=person)
    sign_in(client, person)
    html = client.get("/me/", headers={"accept-language": "en"}).content.decode()
    assert ">Erasure (Art. 17)</a>" in html
    assert ">Pending</td>" in html
    # The case page: type and status capitalised, the full case number (what the data
    # protection officer's search finds) in a readable, wrapping monospace.
    detail = client.get(f"/me/rights/requests/{request.public_id}/",
                        headers={"accept-language": "en"}).content.decode()
    assert "<dd>Erasure (Art. 17)</dd>" in detail and "<dd>Pending</dd>" in detail
    assert f'<dd class="case-number">{request.public_id}</dd>' in detail
    day = request.due_legal
    assert f"{day.day} {day:%B} {day.year}" in " ".join(html.split()) or day.isoformat() in html


LINK = re.compile(r"(http\S+/me/)\s")


@pytest.mark.req("R33")
@pytest.mark.req("R38")
@pytest.mark.parametrize("kind", ["access", "portability"])
def test_the_file_of_a_fulfilled_request_is_downloaded_on_min_side_and_the_mail_says_so(
    signed_in: tuple[Client, Person], smtp_server: SMTPTestServer, settings, tmp_path, kind: str
) -> None:
    settings.DATA_DIR = tmp_path
    settings.PERSONVERN_BASE_URL = "https://www.jus.example"
    client, person = signed_in
    request = request_make_signed_in(person=person, type=kind)
    services.request_fulfil(request=request, actor=ACTOR, lang="en")

    mails = [m for m in smtp_server.wait_for(1) if "ready" in m.message["Subject"]]
    assert len(mails) == 1
    mail = mails[0]
    assert not list(mail.message.iter_attachments())  # never attached to a mail
    assert "https://www.jus.example/me/" in mail.body
    assert "/download/" not in mail.body
    assert OutgoingMail.objects.filter(kind="rights-bundle-ready").count() == 1

    html = client.get("/me/").content.decode()
    url = f"/me/rights/requests/{request.public_id}/download/"
    assert url in html
    # The table says until when the file can be downloaded.
    request.refresh_from_db()
    until = available_until(request)
    assert until is not None
    with translation.override("en"):
        shown = day_text(until)
    table = " ".join(client.get("/me/", headers={"accept-language": "en"}).content.decode().split())
    assert f"(available until {shown})" in table
    response = client.get(url)
    assert response.status_code == 200
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert "attachment" in response["Content-Disposition"]
    if kind == "access":
        assert response["Content-Type"] == "application/zip"
        assert zipfile.ZipFile(BytesIO(content)).namelist()
    else:
        assert content.startswith(b"{")
    assert AuditEntry.objects.filter(
        action="rights.request.file_downloaded", actor=SELF_ACTOR
    ).count() == 1


def test_the_file_is_deleted_after_the_download_period(
    signed_in: tuple[Client, Person], settings, tmp_path
) -> None:
    settings.DATA_DIR = tmp_path
    client, person = signed_in
    request = services.request_fulfil(
        request=request_make_signed_in(person=person, type="access"), actor=ACTOR
    )
    url = f"/me/rights/requests/{request.public_id}/download/"
    assert client.get(url).status_code == 200
    assert bundles_expire() == 0
    later = timezone.now() + timedelta(days=settings.PORTAL_BUNDLE_DAYS, minutes=1)
    assert bundles_expire(now=later) == 1
    assert not list((tmp_path / "exports").rglob("*.zip"))
    assert client.get(url).status_code == 404
    request.refresh_from_db()
    assert "file_deleted" in request.result
    detail = client.get(f"/me/rights/requests/{request.public_id}/").content.decode()
    assert "no longer kept" in detail
    table = client.get("/me/", headers={"accept-language": "en"}).content.decode()
    assert "The file is no longer kept." in table and url not in table
    assert bundles_expire(now=later) == 0


def test_no_ready_mail_for_other_request_types(
    signed_in: tuple[Client, Person]
) -> None:
    _client, person = signed_in
    request = request_make_signed_in(person=person, type="restriction")
    services.request_fulfil(request=request, actor=ACTOR, ground="a")
    assert not OutgoingMail.objects.filter(kind="rights-bundle-ready").exists()


def test_the_api_shows_a_request_made_on_min_side(make_person: Callable[..., Person]) -> None:
    from personvern.api.schemas import RequestOut

    request = request_make_signed_in(person=make_person(), type="access")
    out = RequestOut.from_request(request, today=timezone.localdate(), bundle_url=None)
    assert out.channel == "portal"

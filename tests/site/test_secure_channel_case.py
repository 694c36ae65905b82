"""The secure channel's answer: a case number and a receipt mail; a privacy question
becomes a privacy request for the data protection officer, not an inquiry (R5, R20, R32)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from personvern.core.models import AuditEntry, Person
from personvern.core.roles import DPO, MARKETING
from personvern.inquiries.models import Inquiry
from personvern.rights.models import Request
from personvern.rights.services import request_classify
from personvern.site.models import SecureUpload
from personvern.site.services import new_reference, secure_message_send
from personvern.worker.models import OutgoingMail
from tests.mail import SMTPTestServer

pytestmark = pytest.mark.django_db

URL = "/secure-message/"
REFERENCE = re.compile(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}")


def _data(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "topic": "invoice",
        "given_name": "Kari",
        "family_name": "Nordmann",
        "email": "kari@example.no",
        "subject": "Faktura 1234",
        "message": "Beløpet på fakturaen stemmer ikke med kurset.",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def _errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, response.status_code
    return {name: [str(e) for e in errors]
            for name, errors in response.context["form"].errors.items()}


def _nothing_stored() -> None:
    assert not Inquiry.objects.exists() and not Request.objects.exists()
    assert not SecureUpload.objects.exists() and not Person.objects.exists()
    assert not OutgoingMail.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.req("R20")
def test_a_message_is_answered_with_a_case_number_on_the_page_and_in_the_receipt(
    client: Client, smtp_server: SMTPTestServer
) -> None:
    response = client.post(URL, _data(), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    match = REFERENCE.match(inquiry.subject[1:])
    assert match is not None
    case = match.group(0)
    # The reference leads the subject, where the back office's inquiry search finds it.
    assert inquiry.subject == f"[{case}] Faktura: Faktura 1234"
    assert not Request.objects.exists()

    sent = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<strong id="case-number">{case}</strong>' in sent
    assert "Faktura 1234" not in sent and "Beløpet" not in sent

    [mail] = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["kari@example.no"]
    assert mail.message["Subject"] == f"We have received your message (case {case})"
    assert f"Case number: {case}" in mail.body
    assert "Faktura 1234" not in mail.body and "Beløpet" not in mail.body


@pytest.mark.req("R20")
def test_the_receipt_page_shows_only_a_case_number_we_signed(client: Client) -> None:
    client.post(URL, _data())
    location = client.post(URL, _data(email="ola@example.no"))["Location"]
    forged = location.replace("case=message%3A", "case=message%3AAAAA-AAAA")
    assert 'id="case-number"' not in client.get(forged).content.decode()
    assert 'id="case-number"' not in client.get("/secure-message/sent/").content.decode()
    assert 'id="case-number"' in client.get(location).content.decode()


def test_references_are_random_not_counted() -> None:
    references = {new_reference() for _n in range(200)}
    assert len(references) == 200
    assert all(REFERENCE.fullmatch(r) for r in references)


@pytest.mark.req("R5")
@pytest.mark.req("R32")
@pytest.mark.parametrize(
    "changes",
    [{"topic": "privacy", "subject": "Hva vet dere om meg?"},
     {"topic": "other", "subject": "Personvern: innsyn"}],
    ids=["privacy topic", "marked Personvern"],
)
def test_a_privacy_question_becomes_a_request_for_the_dpo_not_an_inquiry(
    client: Client, smtp_server: SMTPTestServer, changes: dict[str, str]
) -> None:
    response = client.post(URL, _data(**changes), HTTP_ACCEPT_LANGUAGE="nb")
    assert response.status_code == 302
    assert not Inquiry.objects.exists()
    request = Request.objects.get()
    assert (request.type, request.status, request.channel) == ("unclassified", "pending", "web")
    assert request.person is not None
    assert request.person.emails.get().address == "kari@example.no"
    assert (request.person.given_name, request.person.family_name) == ("Kari", "Nordmann")
    assert changes["subject"] in request.notes
    assert "Beløpet på fakturaen stemmer ikke med kurset." in request.notes
    # The deadline runs from receipt (R32: one month).
    today = timezone.localdate()
    assert today + timedelta(days=27) <= request.due_legal <= today + timedelta(days=35)

    case = str(request.public_id)
    sent = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert case in sent and "personvernombud" in sent
    [mail] = smtp_server.wait_for(1)
    assert mail.message["Subject"] == (
        f"Personvern: vi har mottatt saken din (saksnummer {case})")
    assert f"Saksnummer: {case}" in mail.body
    assert "Beløpet" not in mail.body and changes["subject"] not in mail.body

    # The data protection officer classifies it and carries it out as any request.
    request_classify(request=request, type="access", actor="staff:dpo")


@pytest.mark.req("R5")
@pytest.mark.req("R32")
def test_the_dpo_sees_the_request_in_the_rights_admin_and_marketing_does_not(
    client: Client,
) -> None:
    client.post(URL, _data(topic="privacy"))
    request = Request.objects.get()
    dpo = User.objects.create_user("dpo", password="a-Long-test-passw0rd", is_staff=True)
    dpo.groups.add(Group.objects.get(name=DPO))
    marketing = User.objects.create_user("marked", password="a-Long-test-passw0rd",
                                         is_staff=True)
    marketing.groups.add(Group.objects.get(name=MARKETING))
    officer = Client()
    officer.force_login(dpo)
    listing = officer.get("/admin/rights/request/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"/admin/rights/request/{request.pk}/change/" in listing
    found = officer.get(f"/admin/rights/request/?q={request.public_id}").content.decode()
    assert f"/admin/rights/request/{request.pk}/change/" in found
    seller = Client()
    seller.force_login(marketing)
    assert "kari@example.no" not in seller.get("/admin/inquiries/inquiry/").content.decode()
    assert seller.get("/admin/rights/request/").status_code == 403


@pytest.mark.req("R5")
def test_a_privacy_question_takes_no_file_and_says_so_next_to_the_field(client: Client) -> None:
    upload = SimpleUploadedFile("pass.txt", b"Kopi av pass\n", "text/plain")
    errors = _errors(client.post(URL, _data(topic="privacy", attachment=upload),
                                 HTTP_ACCEPT_LANGUAGE="en"))
    assert list(errors) == ["attachment"]
    assert "cannot be sent with a privacy question" in errors["attachment"][0]
    _nothing_stored()


@pytest.mark.req("R20")
@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"topic": None}, "topic", "Choose what your message is about."),
        ({"topic": "spam"}, "topic", "Select a valid choice"),
        ({"email": ""}, "email", "This field is required."),
        ({"email": "kari@"}, "email", "valid email"),
        ({"subject": ""}, "subject", "This field is required."),
        ({"subject": "S" * 161}, "subject", "at most 160"),
        ({"message": ""}, "message", "This field is required."),
        ({"topic": "privacy", "message": ""}, "message", "This field is required."),
        ({"attachment": SimpleUploadedFile("x.exe", b"MZ")}, "attachment", "cannot be sent"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_stored(
    client: Client, changes: dict[str, Any], field: str, words: str
) -> None:
    response = client.post(URL, _data(**changes), HTTP_ACCEPT_LANGUAGE="en")
    errors = _errors(response)
    assert field in errors and words in " ".join(errors[field]), errors
    assert f'id="id_{field}_error"' in response.content.decode()
    _nothing_stored()


def test_the_service_refuses_an_unknown_topic_and_a_file_with_a_privacy_question() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        secure_message_send(email="k@example.no", subject="s", message="m", actor="t",
                            topic="spam")
    assert "topic" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        secure_message_send(email="k@example.no", subject="Personvern", message="m", actor="t",
                            attachment=("a.txt", b"hei"))
    assert "attachment" in exc.value.message_dict
    _nothing_stored()

"""The back office of filed e-mail (R19): what goes when, and staff keeping mail."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import formats, translation

from personvern.core import services as core
from personvern.core.models import AuditEntry, Hold
from personvern.core.roles import DPO
from personvern.customers import services as customers
from personvern.mailbox import services
from personvern.mailbox.models import MailMessage

pytestmark = [pytest.mark.django_db, pytest.mark.req("R19")]
LIST = "/admin/mailbox/mailmessage/"
RECEIVED = datetime(2024, 3, 1, 9, tzinfo=UTC)


def _dpo() -> Client:
    user = User.objects.create_user("dpo", password="unused-pw-42", is_staff=True)
    user.groups.add(Group.objects.get(name=DPO))
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def _message(address: str, subject: str) -> MailMessage:
    person, _ = core.person_get_or_create(email=address, actor="t", now=RECEIVED)
    return services.mail_message_record(person=person, direction="in", mailbox="anne/INBOX",
                                        subject=subject, actor="t", received_at=RECEIVED)


def test_the_list_says_when_each_message_goes_or_what_keeps_it() -> None:
    _message("ola@example.no", "Kursspørsmål")
    kunde = _message("kunde@firma.no", "Avtale")
    firma = customers.customer_create(name="Firma AS", kind="partner", actor="t",
                                      started_at=RECEIVED)
    customers.contact_add(customer=firma, person=kunde.person, actor="t", now=RECEIVED)
    held = _message("held@example.no", "Sak")
    services.mail_message_keep(message=held, reason="other", keep_until=date(2099, 6, 30),
                               actor="staff:dpo")

    page = _dpo().get(LIST).content.decode()

    # Received 1 March 2024, kept a year: the sweep deletes it from 2 March 2025.
    with translation.override("en"):
        day = formats.date_format(date(2025, 3, 2), "SHORT_DATE_FORMAT")
    assert f"from {day}<" in page
    assert "kept: customer or partner" in page
    assert "held (other relevant work), then from" in page


def test_the_officer_keeps_a_correspondents_mail_and_releases_it() -> None:
    first = _message("ola@example.no", "En")
    _message("ola@example.no", "To")
    _message("per@example.no", "Tre")
    client = _dpo()

    response = client.post(LIST, {"action": "keep_correspondents",
                                  "_selected_action": [first.pk]}, follow=True)

    assert response.status_code == 200
    kept = MailMessage.objects.exclude(keep_reason="")
    assert sorted(kept.values_list("subject", flat=True)) == ["En", "To"]
    # One hold per message, and one on the correspondent, which keeps mail filed later.
    assert Hold.objects.filter(lifted_at__isnull=True).count() == 3
    assert Hold.objects.get(lifted_at__isnull=True, content_type__model="person").object_id == (
        first.person_id
    )
    assert AuditEntry.objects.filter(action="mail.kept", actor="staff:dpo").count() == 2

    client.post(LIST, {"action": "release",
                       "_selected_action": list(kept.values_list("pk", flat=True))})
    assert not MailMessage.objects.exclude(keep_reason="").exists()
    assert Hold.objects.filter(lifted_at__isnull=True).count() == 0
    assert AuditEntry.objects.filter(action="mail.released", actor="staff:dpo").count() == 2


def test_no_body_is_shown_and_nothing_can_be_added_or_deleted() -> None:
    message = _message("ola@example.no", "En")
    client = _dpo()
    page = client.get(f"{LIST}{message.pk}/change/").content.decode()
    assert "En" in page and 'name="keep_reason"' in page and 'name="subject"' not in page
    assert client.get(f"{LIST}add/").status_code == 403
    assert client.get(f"{LIST}{message.pk}/delete/").status_code == 403


@pytest.mark.req("R19")
def test_a_keep_date_in_the_past_is_an_error_beside_the_field_and_keeps_nothing() -> None:
    message = _message("kunde@example.no", "Tilbud")
    client = _dpo()
    url = f"{LIST}{message.pk}/change/"
    response = client.post(url, {"keep_reason": "other", "keep_until": "2020-01-01"})
    assert response.status_code == 200
    assert "The keep date is in the past" in response.content.decode()
    message.refresh_from_db()
    assert (message.keep_reason, message.keep_until) == ("", None)
    assert not Hold.objects.exists()
    kept = client.post(url, {"keep_reason": "other", "keep_until": ""})
    assert kept.status_code == 302
    assert MailMessage.objects.get(pk=message.pk).keep_reason == "other"

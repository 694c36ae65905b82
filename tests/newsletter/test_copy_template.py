"""A copy built from the mailing's template equals one built by Django's mail classes
(issue 10, docs/decisions/0032), and the cheaper link tokens verify like the old ones."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from personvern.core import services as core
from personvern.newsletter import selectors, services
from personvern.newsletter.models import Newsletter, Subscription
from personvern.newsletter.sending import CopyTemplate, Recipient
from tests.mail import SMTPTestServer

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 1, 10, 12, tzinfo=UTC)
SUBJECT = "Nytt fra JUS: vårens kurs i arbeidsrett – og «noe» for alle i 2027"
TEXT = (
    "Hei!\n\nSe vårens kurs: https://www.jus.no/kurs?tema=arbeidsrett&x=1. Påmelding på "
    "https://www.jus.no/pamelding (og igjen https://www.jus.no/kurs?tema=arbeidsrett&x=1).\n\n"
    "Med vennlig hilsen\nJuristenes Utdanningssenter"
)


def _subscription(given: str, family: str, email_address: str) -> Subscription:
    person = core.person_create(email=email_address, given_name=given, family_name=family,
                                actor="test", now=T0)
    return services.newsletter_subscribe(person=person, source="form", text_version="v1",
                                         actor="test", now=T0)


def _mailing(subject: str = SUBJECT, text: str = TEXT) -> Newsletter:
    newsletter = services.newsletter_create(subject=subject, actor="test", now=T0)
    Newsletter.objects.filter(pk=newsletter.pk).update(body=text)
    newsletter.refresh_from_db()
    return newsletter


def _both_ways(newsletter: Newsletter, subscription: Subscription) -> tuple[bytes, bytes, bool]:
    person = subscription.person
    name = services.display_name(person.given_name, person.family_name)
    address = person.emails.first().address  # type: ignore[union-attr]
    template = CopyTemplate(newsletter)
    fast = template.build(Recipient(subscription.pk, person.pk, name, address))
    old = services._copy(newsletter, subscription, address).message().as_bytes(linesep="\r\n")
    return fast, old, template.fast


def _normalised(raw: bytes) -> bytes:
    """The bytes with what is random or dated in every message (boundary, Date,
    Message-ID) replaced by a fixed text."""
    boundary = re.search(rb'boundary="([^"]+)"', raw)
    assert boundary is not None
    raw = raw.replace(boundary.group(1), b"BOUNDARY")
    raw = re.sub(rb"\r\nDate: [^\r]*", b"\r\nDate: D", raw)
    return re.sub(rb"\r\nMessage-ID: [^\r]*", b"\r\nMessage-ID: M", raw)


def _parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _assert_equal_header_by_header_and_part_by_part(fast: bytes, old: bytes) -> None:
    a, b = _parsed(fast), _parsed(old)
    assert a.keys() == b.keys()
    assert a.get_content_type() == b.get_content_type() == "multipart/alternative"
    for name in a:
        if name not in ("Date", "Message-ID", "Content-Type"):  # the boundary is random
            assert str(a[name]) == str(b[name]), name
    assert a["Message-ID"] != b["Message-ID"]
    assert [p.get_content_type() for p in a.walk()] == [p.get_content_type() for p in b.walk()]
    for part_a, part_b in zip(a.iter_parts(), b.iter_parts(), strict=True):
        assert part_a.items() == part_b.items()
        assert part_a.get_content() == part_b.get_content()
    assert _normalised(fast) == _normalised(old)  # byte for byte but for those three


@pytest.mark.req("R16")
@pytest.mark.req("R18")
def test_a_copy_from_the_template_equals_one_built_by_djangos_mail_classes(settings):
    settings.PERSONVERN_BASE_URL = "https://www.jus.no"
    subscription = _subscription("Åse", "Ødegård-Sæther", "aase@example.no")
    fast, old, was_fast = _both_ways(_mailing(), subscription)

    assert was_fast
    _assert_equal_header_by_header_and_part_by_part(fast, old)
    message = _parsed(fast)
    # The name and subject are encoded words; decoded, they are what was written.
    assert b"=?utf-8?" in fast.split(b"\r\nTo: ")[1].split(b"\r\n")[0]
    assert str(message["To"]) == "Åse Ødegård-Sæther <aase@example.no>"
    assert str(message["Subject"]).strip() == SUBJECT  # Django folds it after "Subject:"
    head = fast.split(b"\r\n\r\n", 1)[0]
    # Folded at 78 characters where there is room to fold (a long address has none).
    assert head.isascii()
    assert all(len(line) <= 78 or b" " not in line.strip() for line in head.split(b"\r\n"))
    assert all(len(line) <= 998 for line in fast.split(b"\r\n"))
    # Its own links: the header's unsubscribe address is the text's and the HTML's.
    url = str(message["List-Unsubscribe"]).strip().strip("<>")
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert url in text and f'href="{url}"' in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert selectors.subscription_from_token(urlsplit(url).path.split("/")[-2]) == subscription
    clicks = [w.rstrip(".)") for w in text.split() if "/newsletter/c/" in w]
    assert len(clicks) == 3 and clicks[0] == clicks[2] != clicks[1]
    response = Client().get(urlsplit(clicks[1]).path)
    assert response["Location"] == "https://www.jus.no/pamelding"


@pytest.mark.req("R16")
@pytest.mark.req("R18")
def test_a_long_name_and_a_long_line_come_out_alike_both_ways(settings):
    settings.PERSONVERN_BASE_URL = "https://www.jus.no"
    subscription = _subscription(
        "Øystein Åsmund Bjørnstjerne", "Ødegård-Sæther von Grünerløkka Ærø", "oystein@example.no")
    # The name folds the To header onto two lines.
    fast, old, was_fast = _both_ways(_mailing(), subscription)
    assert was_fast and b"\r\nTo: " in fast
    _assert_equal_header_by_header_and_part_by_part(fast, old)
    assert str(_parsed(fast)["To"]) == (
        "Øystein Åsmund Bjørnstjerne Ødegård-Sæther von Grünerløkka Ærø <oystein@example.no>")

    # A paragraph on one line longer than RFC 5322 allows: Django encodes that part
    # quoted-printable, so the template is not used; the copy is still the same.
    long_text = "Lang linje: " + "ord " * 300 + "https://www.jus.no/kurs"
    fast, old, was_fast = _both_ways(_mailing(text=long_text), subscription)
    assert not was_fast
    _assert_equal_header_by_header_and_part_by_part(fast, old)
    assert b"quoted-printable" in fast


@pytest.mark.req("R18")
def test_links_mailed_with_djangos_signed_tokens_still_work():
    subscription = _subscription("Kari", "Nordmann", "kari@example.no")
    newsletter = _mailing()
    old = signing.dumps({"s": subscription.pk}, salt=selectors._TOKEN_SALT, compress=True)
    assert selectors.subscription_from_token(old) == subscription
    click = signing.dumps({"s": subscription.pk, "n": newsletter.pk, "u": "https://www.jus.no/"},
                          salt=selectors._CLICK_SALT, compress=True)
    tracked = selectors.tracked_from_token(click, click=True)
    assert tracked is not None and tracked.url == "https://www.jus.no/"
    assert tracked.subscription == subscription and tracked.newsletter == newsletter
    # A token of one kind is nothing to another, and a changed field breaks it.
    new = selectors.unsubscribe_token(subscription)
    assert selectors.tracked_from_token(new, click=False) is None
    other = new.replace(f":{subscription.pk}:", f":{subscription.pk + 1}:")
    assert selectors.subscription_from_token(other) is None


@pytest.mark.req("R16")
def test_copies_go_out_over_several_connections_once_each(smtp_server: SMTPTestServer, settings):
    settings.PERSONVERN_BASE_URL = "https://www.jus.no"
    for i in range(11):
        _subscription("Kåre", f"Nr{i}", f"k{i}@example.no")
    smtp_server.refuse("k5@example.no")

    sent = services.newsletter_send(newsletter=_mailing(), actor="test", batch_size=4,
                                    connections=3)

    received = smtp_server.wait_for(10)
    assert sorted(m.rcpt_tos[0] for m in received) == sorted(
        f"k{i}@example.no" for i in range(11) if i != 5)
    links = {str(m.message["List-Unsubscribe"]).strip() for m in received}
    assert len(links) == 10
    assert all(str(m.message["List-Unsubscribe"]).strip().strip("<>") in m.body
               for m in received)
    assert (sent.recipient_count, sent.send_done, sent.send_total) == (10, 11, 11)


NAMES = [
    "", "Kari", "Kari Nordmann", "O'Brien", "Anne-Lise Berg", "Åse", "Åse Ødegård-Sæther",
    "Ødegård, Åse", 'Kari "K" Nordmann', "Dr. Kari Nordmann", "Zoë", "Kari 😀", "李小龍",
    "Øystein Åsmund Bjørnstjerne Ødegård-Sæther", "A" * 70, "Åse " * 12, " Kari", "Kari\tN",
    "Kari (jus)", "Kari <kari>", "x@y",
]


@pytest.mark.req("R16")
@pytest.mark.parametrize("name", NAMES)
def test_the_to_header_is_djangos_for_every_kind_of_name(name: str) -> None:
    from personvern.newsletter.sending import _django_to_header, to_header

    for address in ("kari@example.no", "Kari.Nordmann+jus@Example.NO", "a_b@sub.example.org"):
        assert to_header(name, address) == _django_to_header(name, address)


@pytest.mark.req("R16")
def test_an_address_no_header_can_carry_is_recorded_and_the_others_go(
    smtp_server: SMTPTestServer,
) -> None:
    from personvern.core.models import EmailIdentity
    from personvern.worker.models import MailState, OutgoingMail

    _subscription("Kari", "Nordmann", "kari@example.no")
    broken = _subscription("Ola", "Nordmann", "ola@example.no")
    EmailIdentity.objects.filter(person=broken.person).update(address="ola.example.no")

    sent = services.newsletter_send(newsletter=_mailing(), actor="test", connections=2)

    assert [m.rcpt_tos[0] for m in smtp_server.wait_for(1)] == ["kari@example.no"]
    refused = OutgoingMail.objects.get(kind="newsletter-copy")
    assert (refused.state, refused.person_id) == (MailState.FAILED, broken.person_id)
    assert "cannot be written" in refused.last_error
    assert (sent.recipient_count, sent.send_done) == (1, 2)

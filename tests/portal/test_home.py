"""The Min side page: the person's name, the sections in order, an empty page that says so."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from personvern.core.models import Person
from personvern.newsletter import services as newsletter
from personvern.portal import registry
from personvern.rights.selfservice import request_make_signed_in
from tests.portal.helpers import sign_in

pytestmark = pytest.mark.django_db


def _main(html: str) -> str:
    return html[html.index("<main"):html.index("</main>")]


@pytest.mark.req("R33")
def test_a_person_with_no_data_sees_a_page_that_says_so(
    client: Client, make_person: Callable[..., Person]
) -> None:
    person = make_person(given_name="Ola", family_name="Nordmann")
    sign_in(client, person)
    response = client.get("/me/", headers={"accept-language": "en"})
    assert response.status_code == 200
    html = _main(response.content.decode())
    assert "My page: Ola Nordmann" in html
    assert "We hold no data about you apart from the e-mail address" in html
    # The request form is on every page, even an empty one.
    assert "Make a privacy request" in html
    assert "You have made no privacy request." in html
    assert "Newsletter and consents" not in html
    assert "Sign out" in html


def test_the_norwegian_page(client: Client, make_person: Callable[..., Person]) -> None:
    sign_in(client, make_person(given_name="Ola", family_name="Nordmann"))
    html = _main(client.get("/me/", headers={"accept-language": "nb"}).content.decode())
    assert "Min side: Ola Nordmann" in html
    assert "Personvernhenvendelser" in html


@pytest.mark.req("R18")
@pytest.mark.req("R33")
def test_a_person_with_data_sees_each_section_in_order_with_links_to_them(
    client: Client, make_person: Callable[..., Person]
) -> None:
    person = make_person()
    newsletter.newsletter_subscribe(person=person, source="form", text_version="v1", actor="t")
    request_make_signed_in(person=person, type="access")
    sign_in(client, person)
    html = _main(client.get("/me/", headers={"accept-language": "en"}).content.decode())
    assert "We hold no data about you" not in html
    ids = re.findall(r'<section id="([^"]+)"', html)
    expected = [s.key for s in registry.sections() if s.key in ids]
    assert ids == expected
    assert ids.index("newsletter.consents") < ids.index("rights.requests")
    for key in ids:
        assert f'href="#{key}"' in html  # the page's own table of contents


def test_a_section_with_nothing_to_show_is_left_out(
    client: Client, make_person: Callable[..., Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    section = registry.Section(
        key="test.nothing", title="Nothing here", template="portal/home.html",
        context=lambda person, now: None, order=1,
    )
    monkeypatch.setitem(registry._sections, section.key, section)
    sign_in(client, make_person())
    assert b"Nothing here" not in client.get("/me/").content


def test_a_section_key_is_declared_once() -> None:
    first = registry.Section(key="test.twice", title="A", template="x", context=lambda p, n: None)
    registry.register_section(first)
    try:
        with pytest.raises(ValueError, match="declared twice"):
            registry.register_section(
                registry.Section(key="test.twice", title="B", template="x",
                                 context=lambda p, n: None)
            )
    finally:
        registry._sections.pop("test.twice")

"""Fixtures of the Min side tests: persons made through the real services, a signed-in client."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from django.utils import translation

from personvern.core.models import Person
from personvern.core.services import person_create
from tests.portal.helpers import sign_in

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """The tests compare English texts (the pages are asked for in English too)."""
    with translation.override("en"):
        yield


@pytest.fixture
def make_person(db: None) -> Callable[..., Person]:
    def make(email: str | None = None, given_name: str = "Kari", family_name: str = "Nordmann"
             ) -> Person:
        n = next(_numbers)
        return person_create(
            email=email or f"person{n}@example.org", given_name=given_name,
            family_name=family_name, actor="staff:test",
        )

    return make


@pytest.fixture
def signed_in(client: Client, make_person: Callable[..., Person]) -> tuple[Client, Person]:
    """A client signed in to Min side as a new person."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    person = make_person()
    sign_in(client, person)
    return client, person

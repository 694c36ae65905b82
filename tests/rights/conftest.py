"""Fixtures of the rights tests: persons and requests made through the real services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from personvern.core.models import Person
from personvern.core.services import person_create
from personvern.rights import services
from personvern.rights.models import Request

OSLO = ZoneInfo("Europe/Oslo")
ACTOR = "staff:test"


def oslo(*args: int) -> datetime:
    """An aware datetime in Norway."""
    return datetime(*args, tzinfo=OSLO)  # type: ignore[misc]


@pytest.fixture
def make_person(db: None) -> Callable[..., Person]:
    counter = iter(range(1, 10_000))

    def make(email: str | None = None, **kwargs: str) -> Person:
        n = next(counter)
        return person_create(
            email=email or f"person{n}@example.org",
            given_name=kwargs.get("given_name", f"Given{n}"),
            family_name=kwargs.get("family_name", f"Family{n}"),
            phone=kwargs.get("phone", ""),
            actor=ACTOR,
        )

    return make


@pytest.fixture
def make_request(make_person: Callable[..., Person]) -> Callable[..., Request]:
    def make(
        type: str = "access",
        person: Person | None = None,
        received_at: datetime | None = None,
        verified: bool = False,
        **kwargs: object,
    ) -> Request:
        person = person or make_person()
        request = services.request_create(
            type=type,
            person=person,
            channel=str(kwargs.pop("channel", "email")),
            received_at=received_at or oslo(2025, 3, 5, 10, 0),
            actor=ACTOR,
            now=kwargs.pop("now", None) or oslo(2025, 3, 6, 9, 0),  # type: ignore[arg-type]
        )
        if verified:
            request = services.request_verify(
                request=request, staff_note="Known to staff", actor=ACTOR,
                now=oslo(2025, 3, 6, 9, 30),
            )
        return request

    return make

"""Helpers the Min side tests share (also used by tests/rights and tests/browser)."""

from __future__ import annotations

from django.test import Client

from personvern.core.models import Person
from personvern.portal.signin import sign_in_token


def sign_in(client: Client, person: Person) -> None:
    """Sign ``person`` in to Min side as the mailed link does (GET, then POST)."""
    url = f"/me/sign-in/link/{sign_in_token(person)}/"
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 302, response.content

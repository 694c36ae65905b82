"""Fixtures of the API tests: a staff user with the rights permissions and a token."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from personvern.api.services import api_token_create

RIGHTS_PERMISSIONS = ("view_request", "add_request", "change_request")


def make_staff(username: str, *codenames: str, is_staff: bool = True) -> User:
    """A staff user holding the given ``rights`` permissions."""
    user = User.objects.create_user(username=username, password=None, is_staff=is_staff)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="rights", codename__in=codenames)
    )
    return user


def token_client(plain: str) -> Client:
    """A client that sends ``plain`` as its bearer token."""
    # English answers: the assertions read the messages.
    return Client(headers={"Authorization": f"Bearer {plain}", "Accept-Language": "en"})


@pytest.fixture
def staff(db: Any) -> User:
    return make_staff("dpo", *RIGHTS_PERMISSIONS)


@pytest.fixture
def token(staff: User) -> str:
    _row, plain = api_token_create(user=staff, name="integration", actor="test")
    return plain


@pytest.fixture
def api_client(token: str) -> Client:
    return token_client(token)

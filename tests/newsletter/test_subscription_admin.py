"""A subscription's page in the back office shows its facts and changes nothing itself."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from personvern.core.models import AuditEntry
from personvern.core.roles import MARKETING
from personvern.newsletter.models import Subscription
from tests.newsletter.test_sending import _subscriber

pytestmark = pytest.mark.django_db


def _marketing() -> Client:
    user = User.objects.create_user("marked", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


@pytest.mark.req("R17")
def test_the_granting_consent_is_shown_not_offered_from_everyones_consents() -> None:
    """The consent that grants a subscription is a fact of the ledger: no choice of every
    person's consent events on the page (it named every subscriber to whoever opened one)."""
    mine = _subscriber("kari@example.no")
    _subscriber("ola@example.no")
    client = _marketing()
    url = reverse("admin:newsletter_subscription_change", args=[mine.pk])
    page = client.get(url).content.decode()
    assert 'name="consent"' not in page
    assert "ola@example.no" not in page

    before = AuditEntry.objects.count()
    response = client.post(url, {"_save": "Save"})
    assert response.status_code == 302
    mine.refresh_from_db()
    assert mine.consent_id == Subscription.objects.get(pk=mine.pk).consent_id
    assert AuditEntry.objects.count() == before  # nothing written, nothing to audit

"""The demo's memberships carry member numbers, as the organisations' feeds send them."""

from __future__ import annotations

import random

import pytest
from django.utils import timezone

from personvern.core.models import Membership, Organisation
from personvern.demo.people import generate_persons

pytestmark = pytest.mark.django_db


def test_generated_memberships_have_numbers_unique_per_organisation() -> None:
    generate_persons(count=60, rng=random.Random(7), now=timezone.now())
    generate_persons(count=20, rng=random.Random(8), now=timezone.now())  # a second batch
    rows = list(Membership.objects.values_list("organisation", "member_id"))
    assert {org for org, _ in rows} == {Organisation.ADVOKATFORENINGEN,
                                        Organisation.JURISTFORBUNDET}
    assert all(member_id for _org, member_id in rows)
    assert len(set(rows)) == len(rows)

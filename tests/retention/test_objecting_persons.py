"""The person sweep keeps a direct-marketing objection, and only what it needs (R31, R37)."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model

from personvern.core.models import (
    ConsentEvent,
    EmailIdentity,
    Membership,
    Objection,
    Organisation,
    Person,
)
from personvern.core.services import (
    membership_add,
    membership_end,
    objection_lift,
    objection_record,
)
from personvern.newsletter.models import OptOut, Subscription
from personvern.newsletter.selectors import recipients
from personvern.newsletter.services import newsletter_subscribe, newsletter_unsubscribe
from personvern.retention.engine import retention_run

from .factories import ACTOR, at, member, person

pytestmark = pytest.mark.django_db

AS_OF = at(date(2024, 3, 1))


def _objecting_member(email: str) -> Person:
    """A member imported from Advokatforeningen who objects to direct marketing."""
    owner = member(email, since=date(2010, 1, 1)).person
    subscription = newsletter_subscribe(person=owner, source="member-organisation",
                                        organisation=Organisation.ADVOKATFORENINGEN,
                                        actor=ACTOR, now=at(date(2024, 1, 2), 9))
    objection_record(person=owner, activity=Objection.DIRECT_MARKETING, actor=ACTOR,
                     now=at(date(2024, 2, 1), 10))
    newsletter_unsubscribe(subscription=subscription, channel="advokatforeningen", actor=ACTOR,
                           now=at(date(2024, 2, 1), 10))
    return owner


@pytest.mark.req("R31")
@pytest.mark.req("R37")
def test_person_with_a_direct_marketing_objection_is_kept_with_only_what_it_needs() -> None:
    objecting = _objecting_member("innsigelse@example.no")
    swept = person("ingen.innsigelse@example.no")
    staff = get_user_model().objects.create(username="saksbehandler")
    LogEntry.objects.log_actions(staff.pk, [objecting], CHANGE, single_object=True)

    report = retention_run(as_of=AS_OF)

    assert not Subscription.objects.exists()  # 0d after the unsubscribe: gone
    assert not Person.objects.filter(pk=swept.pk).exists()
    assert report.persons_removed == 1 and report.persons_minimised == 1
    kept = Person.objects.get(pk=objecting.pk)
    assert (kept.given_name, kept.family_name, kept.phone) == ("", "", "")
    assert list(EmailIdentity.objects.filter(person=kept).values_list("address", flat=True)) == [
        "innsigelse@example.no"
    ]
    assert Objection.objects.filter(person=kept, activity=Objection.DIRECT_MARKETING).exists()
    assert not Membership.objects.filter(person=kept).exists()
    assert not ConsentEvent.objects.filter(person=kept).exists()
    assert not LogEntry.objects.exists()  # its object_repr was the name just cleared
    assert retention_run(as_of=AS_OF).persons_minimised == 0  # nothing more to take

    # Re-imported from the member organisation: the objection still stops the mailing.
    membership_add(person=kept, organisation=Organisation.ADVOKATFORENINGEN,
                   valid_from=date(2010, 1, 1), actor=ACTOR)
    newsletter_subscribe(person=kept, source="member-organisation",
                         organisation=Organisation.ADVOKATFORENINGEN, actor=ACTOR,
                         now=at(date(2024, 4, 1), 9))
    assert not recipients(as_of=at(date(2024, 4, 2), 9)).filter(person=kept).exists()


@pytest.mark.req("R31")
@pytest.mark.req("R37")
def test_person_whose_objection_was_lifted_is_swept() -> None:
    objecting = _objecting_member("opphevet@example.no")
    objection_lift(objection=Objection.objects.get(person=objecting), actor=ACTOR,
                   now=at(date(2024, 2, 15)))

    # Lifting the objection does not undo the unsubscribe: while the membership of
    # Advokatforeningen lasts, the opt-out keeps it from subscribing them (ADR 0035).
    report = retention_run(as_of=AS_OF)
    assert OptOut.objects.filter(person=objecting).exists()
    assert (report.persons_removed, report.persons_minimised) == (0, 0)

    membership_end(membership=Membership.objects.get(person=objecting),
                   valid_to=date(2024, 3, 1), actor=ACTOR)
    report = retention_run(as_of=at(date(2024, 3, 2)))

    assert not Person.objects.filter(pk=objecting.pk).exists()
    assert not Objection.objects.exists()
    assert (report.persons_removed, report.persons_minimised) == (1, 0)

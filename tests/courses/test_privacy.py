"""The holder declarations: anchors and cohorts the retention engine uses (R14, R11)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.apps import apps
from django.db.models import F, Q

from personvern.core.checks import _references_person
from personvern.core.fields import is_personal
from personvern.core.models import Organisation
from personvern.core.registry import Holder, holder_of
from personvern.core.services import membership_add
from personvern.courses import services
from personvern.courses.models import (
    CourseKind,
    Evaluation,
    HotelStay,
    HotelTransferEntry,
    Registration,
)

from .factories import ACTOR, OSLO, make_course, register


def holder(model: type) -> Holder:
    found = holder_of(model)
    assert found is not None
    return found


def anchor_values(model: type, anchor: str) -> dict[int, datetime]:
    spec = holder(model).anchors[anchor]
    expression = spec() if callable(spec) else F(spec)
    return dict(model._default_manager.annotate(_anchor=expression).values_list("pk", "_anchor"))


def cohort_ids(model: type, cohort: str) -> set[int]:
    q: Q = holder(model).cohorts[cohort]()
    return set(model._default_manager.filter(q).values_list("pk", flat=True))


def test_every_courses_model_with_personal_data_is_declared():
    for model in apps.get_app_config("courses").get_models():
        personal = _references_person(model) or any(
            is_personal(f) for f in model._meta.get_fields())
        assert personal == (holder_of(model) is not None), model
        if personal:
            expected = {Evaluation: "market-research", HotelStay: "hotel-stay"}.get(
                model, "course-participation")
            assert holder(model).activity == expected
    registration = holder(Registration)
    assert {"course-end", "customer-relationship-end"} <= set(registration.anchors)
    assert registration.portable


@pytest.mark.req("R14")
def test_course_end_anchor_is_the_course_end(db):
    course = make_course(starts_at=datetime(2021, 5, 3, 9, tzinfo=OSLO))
    reg = register(course)
    assert anchor_values(Registration, "course-end") == {reg.pk: course.ends_at}


@pytest.mark.req("R14")
def test_customer_relationship_ends_with_the_persons_last_course(db):
    early = make_course(starts_at=datetime(2019, 2, 1, 9, tzinfo=OSLO))
    late = make_course(starts_at=datetime(2023, 9, 1, 9, tzinfo=OSLO))
    latest_cancelled = make_course(starts_at=datetime(2024, 1, 10, 9, tzinfo=OSLO))
    other = make_course(starts_at=datetime(2020, 6, 1, 9, tzinfo=OSLO))

    kari_early = register(early, email="kari@example.no")
    kari_late = register(late, email="kari@example.no")
    kari_cancelled = register(latest_cancelled, email="kari@example.no")
    ola = register(other, email="ola@example.no")

    values = anchor_values(Registration, "customer-relationship-end")
    # All of Kari's rows share her last course's end; Ola's is his own course.
    assert values[kari_early.pk] == values[kari_late.pk] == latest_cancelled.ends_at
    assert values[ola.pk] == other.ends_at

    # A cancelled registration still belongs to the customer relationship.
    services.registration_cancel(registration=kari_cancelled, actor=ACTOR,
                                 now=latest_cancelled.starts_at - timedelta(days=2))
    assert anchor_values(Registration, "customer-relationship-end")[kari_early.pk] == (
        latest_cancelled.ends_at)


@pytest.mark.req("R14")
@pytest.mark.req("R11")
def test_hotel_transfer_entries_offer_the_same_anchors(db):
    early = make_course(kind=CourseKind.PHYSICAL, hotel_stay_offered=True, days=2,
                        starts_at=datetime(2022, 3, 7, 9, tzinfo=OSLO))
    later = make_course(starts_at=datetime(2024, 3, 7, 9, tzinfo=OSLO))
    stay = register(early, email="gro@example.no", overnight_stay=True,
                    arrival_date=date(2022, 3, 6), departure_date=date(2022, 3, 8))
    register(later, email="gro@example.no")
    services.hotel_list_export(course=early, actor=ACTOR, now=early.starts_at - timedelta(days=3))
    entry = HotelTransferEntry.objects.get(registration=stay)
    assert anchor_values(HotelTransferEntry, "course-end") == {entry.pk: early.ends_at}
    assert anchor_values(HotelTransferEntry, "customer-relationship-end") == {
        entry.pk: later.ends_at}


def _membership_case(valid_from: date, valid_to: date | None,
                     organisation: str = Organisation.ADVOKATFORENINGEN) -> bool:
    """Whether a course ending 2024-06-14 00:30 Oslo time counts as a member's course."""
    # 00:30 in Oslo is 22:30 UTC the day before: the date must be taken in Oslo.
    ends = datetime(2024, 6, 14, 0, 30, tzinfo=OSLO)
    course = make_course(starts_at=ends - timedelta(hours=7))
    reg = register(course)
    membership_add(person=reg.person, organisation=organisation, valid_from=valid_from,
                   valid_to=valid_to, actor=ACTOR)
    in_cohort = reg.pk in cohort_ids(Registration, "advokatforeningen-member")
    reason, exception = holder(Registration).erasure_exceptions["mandatory-continuing-education"]
    kept = Registration.objects.filter(exception(), pk=reg.pk).exists()
    assert in_cohort == kept
    return in_cohort


@pytest.mark.req("R14")
@pytest.mark.parametrize(
    ("valid_from", "valid_to", "member"),
    [
        (date(2024, 6, 14), None, True),  # joined on the course's end date
        (date(2010, 1, 1), date(2024, 6, 14), True),  # left on that date
        (date(2010, 1, 1), date(2024, 6, 13), False),  # left the day before
        (date(2024, 6, 15), None, False),  # joined the day after
        (date(2010, 1, 1), None, True),  # open membership
    ],
)
def test_advokatforeningen_cohort_judged_at_course_end_date(db, valid_from, valid_to, member):
    assert _membership_case(valid_from, valid_to) is member


@pytest.mark.req("R14")
def test_other_organisations_are_not_the_cohort(db):
    assert _membership_case(date(2010, 1, 1), None, Organisation.JURISTFORBUNDET) is False


@pytest.mark.req("R14")
def test_cohort_per_course_not_per_person(db):
    """A member who left keeps the cohort for courses taken as a member, not later ones."""
    as_member = make_course(starts_at=datetime(2020, 3, 1, 9, tzinfo=OSLO))
    after = make_course(starts_at=datetime(2023, 3, 1, 9, tzinfo=OSLO))
    first = register(as_member, email="lise@example.no")
    second = register(after, email="lise@example.no")
    membership_add(person=first.person, organisation=Organisation.ADVOKATFORENINGEN,
                   valid_from=date(2015, 1, 1), valid_to=date(2021, 12, 31), actor=ACTOR)
    assert cohort_ids(Registration, "advokatforeningen-member") == {first.pk}
    assert second.pk not in cohort_ids(Registration, "advokatforeningen-member")

"""Hot queries compiled once (core/prepared.py, ADR 0036): the rows are the ORM's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from personvern.core.models import EmailIdentity, Person
from personvern.core.prepared import PreparedQuery
from personvern.core.services import person_create, person_get_or_create

pytestmark = pytest.mark.django_db


def _by_address() -> PreparedQuery:
    return PreparedQuery(
        lambda address, family: EmailIdentity.objects.filter(
            address=address, person__family_name=family
        ).values_list("person__public_id", "person__given_name", "created_at", "verified_at"),
        placeholders=["placeholder@prepared.invalid", "\N{SNOWMAN} placeholder"],
    )


def test_rows_are_what_the_orm_gives_with_each_call_s_own_values() -> None:
    kari = person_create(given_name="Kari", family_name="Nordmann", email="kari@example.no",
                         actor="test")
    person_create(given_name="Ola", family_name="Nordmann", email="ola@example.no", actor="test")
    query = _by_address()
    for address in ("kari@example.no", "ola@example.no", "nobody@example.no"):
        expected = list(EmailIdentity.objects.filter(address=address,
                                                     person__family_name="Nordmann")
                        .values_list("person__public_id", "person__given_name", "created_at",
                                     "verified_at"))
        assert query.rows(address, "Nordmann") == [tuple(row) for row in expected]
    # Converted as the ORM converts (a UUID and an aware datetime on both databases).
    [(public_id, _name, created, _verified)] = query.rows("kari@example.no", "Nordmann")
    assert public_id == kari.public_id and created.tzinfo is not None
    assert abs(created - timezone.now()) < timedelta(minutes=5)
    assert query.rows("kari@example.no", "Hansen") == []


def test_it_is_compiled_once_and_then_only_run() -> None:
    person_create(given_name="Kari", family_name="Nordmann", email="kari@example.no",
                  actor="test")
    query = _by_address()
    query.rows("kari@example.no", "Nordmann")
    compiled = query._compiled[connection.alias]
    with CaptureQueriesContext(connection) as queries:
        assert query.rows("ola@example.no", "Nordmann") == []
    assert query._compiled[connection.alias] is compiled
    assert len(queries) == 1


def test_a_value_the_database_form_would_change_cannot_be_a_placeholder() -> None:
    """A datetime is adapted while compiling (to text on SQLite), so a real value could
    not take its place: refused on SQLite, where that happens, when first run."""
    query = PreparedQuery(
        lambda since: EmailIdentity.objects.filter(created_at__gte=since).values_list("pk"),
        placeholders=[timezone.now() - timedelta(days=9999)],
    )
    if connection.vendor == "sqlite":
        with pytest.raises(RuntimeError, match="appears 0 times"):
            query.rows(timezone.now())
    else:
        assert query.rows(timezone.now() + timedelta(days=1)) == []


def test_a_placeholder_that_is_not_among_the_parameters_is_refused() -> None:
    query = PreparedQuery(lambda address: EmailIdentity.objects.filter(address="fixed@x.no")
                          .values_list("pk"), placeholders=["placeholder@prepared.invalid"])
    with pytest.raises(RuntimeError, match="appears 0 times"):
        query.rows("kari@example.no")


def test_person_get_or_create_finds_the_whole_person() -> None:
    kari = person_create(given_name="Kari", family_name="Nordmann", email="kari@example.no",
                         phone="+47 900 00 000", actor="test")
    found, created = person_get_or_create(email=" Kari@Example.no ", actor="test")
    assert created is False
    assert found == kari
    stored = Person.objects.get(pk=kari.pk)
    assert [getattr(found, f.attname) for f in Person._meta.concrete_fields] == [
        getattr(stored, f.attname) for f in Person._meta.concrete_fields
    ]
    found.given_name = "Kari Anne"
    found.save(update_fields=["given_name"])  # a usable instance, as the ORM's would be
    assert Person.objects.get(pk=kari.pk).given_name == "Kari Anne"


def test_prepared_insert_creates_the_row_the_orm_would_and_sets_its_key() -> None:
    from personvern.core.prepared import PreparedInsert

    insert = PreparedInsert(Person)
    made = [Person(given_name=f"Kari {i}", family_name="Nordmann", phone="",
                   created_at=timezone.now()) for i in range(3)]
    for person in made:
        insert.create(person)
        assert person.pk is not None and person._state.adding is False
    assert len({p.pk for p in made}) == 3
    fields = [f.attname for f in Person._meta.concrete_fields]
    for person in made:
        stored = Person.objects.get(pk=person.pk)
        assert [getattr(stored, f) for f in fields] == [getattr(person, f) for f in fields]
    # A usable instance: it can be changed and saved, and rows point at it.
    EmailIdentity.objects.create(person=made[0], address="kari0@example.no")
    assert EmailIdentity.objects.get(address="kari0@example.no").person == made[0]


def test_prepared_insert_refuses_a_model_with_a_field_only_the_database_fills_in() -> None:
    from personvern.core.prepared import PreparedInsert
    from personvern.courses.models import Course

    with pytest.raises(TypeError, match="database fills in"):
        PreparedInsert(Course)

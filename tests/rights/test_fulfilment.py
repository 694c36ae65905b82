"""Portability (Art. 20), rectification (Art. 16), restriction (Art. 18), objection (Art. 21)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from personvern.core.models import AuditEntry, EmailIdentity, Objection, Person
from personvern.core.selectors import objecting_person_ids, restricted_person_ids
from personvern.inquiries.services import inquiry_receive
from personvern.rights import engine, services
from personvern.rights.models import RequestStatus
from tests.rights.conftest import ACTOR, oslo, register

pytestmark = pytest.mark.django_db


@pytest.mark.req("R38")
def test_portability_has_consent_and_contract_data_only(make_person, hotel_course) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from personvern.courses import services as courses

    person = make_person(email="port@example.org")
    register(
        hotel_course,
        person,
        overnight_stay=True,
        arrival_date=date(2025, 4, 9),
        departure_date=date(2025, 4, 11),
    )
    courses.hotel_list_export(course=hotel_course, actor=ACTOR, now=oslo(2025, 3, 1, 10, 0))
    inquiry_receive(
        email="port@example.org", subject="Kurs?", message="Hei", channel="web", actor=ACTOR
    )
    export = engine.portability_export(person)
    json.dumps(export)  # machine-readable as it is
    assert "courses.Registration" in export["data"]["course-participation"]
    # Legitimate interest (Art. 6(1)(f)) is not portable; nor is a holder declared not portable.
    assert "inquiries" not in export["data"]
    assert "courses.HotelTransferEntry" not in export["data"]["course-participation"]
    assert export["data"]["identity"]["core.EmailIdentity"][0]["address"] == "port@example.org"
    # The full access report does carry the inquiry.
    assert "inquiries" in engine.access_report(person).data


@pytest.mark.req("R38")
def test_portability_request_writes_json(make_request, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path
    request = services.request_fulfil(
        request=make_request(type="portability", verified=True), actor=ACTOR
    )
    path = engine.export_path(request)
    assert path is not None and path.suffix == ".json"
    assert json.loads(path.read_text())["format"] == "personvern-portability/1"


@pytest.mark.req("R34")
def test_rectification_records_old_and_new_under_pseudonym(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request(type="rectification", verified=True)
    person = request.person
    identity = EmailIdentity.objects.get(person=person)
    request = services.request_fulfil(
        request=request,
        actor=ACTOR,
        changes={
            "core.Person": {"family_name": "Korrekt", "phone": "+47 22 22 22 22"},
            f"core.EmailIdentity:{identity.pk}": {"address": "Ny@Example.org"},
        },
    )
    person.refresh_from_db()
    identity.refresh_from_db()
    assert (person.family_name, person.phone) == ("Korrekt", "+47 22 22 22 22")
    assert identity.address == "ny@example.org"
    entries = list(AuditEntry.objects.filter(action="rights.rectified").order_by("id"))
    assert [e.data["holder"] for e in entries] == ["core.Person", "core.EmailIdentity"]
    assert entries[0].subject == request.subject
    assert entries[0].personal["values"]["old"]["family_name"].startswith("Family")
    assert entries[0].personal["values"]["new"]["family_name"] == "Korrekt"
    assert "Korrekt" not in json.dumps(entries[0].data)
    assert request.result["rectified"][0]["fields"] == ["family_name", "phone"]


@pytest.mark.req("R34")
def test_rectification_refuses_unknown_field_and_writes_nothing(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request(type="rectification", verified=True)
    with pytest.raises(ValidationError) as exc:
        services.request_fulfil(
            request=request,
            actor=ACTOR,
            changes={"core.Person": {"family_name": "Ny", "public_id": "x"}},
        )
    assert "public_id" in str(exc.value)
    assert Person.objects.get(pk=request.person.pk).family_name != "Ny"
    request.refresh_from_db()
    assert request.status == RequestStatus.IN_PROGRESS


@pytest.mark.req("R34")
def test_rectification_refuses_another_persons_row(make_request, make_person) -> None:  # type: ignore[no-untyped-def]
    other = make_person()
    identity = EmailIdentity.objects.get(person=other)
    request = make_request(type="rectification", verified=True)
    with pytest.raises(ValidationError):
        services.request_fulfil(
            request=request,
            actor=ACTOR,
            changes={f"core.EmailIdentity:{identity.pk}": {"address": "steal@example.org"}},
        )
    identity.refresh_from_db()
    assert identity.address != "steal@example.org"


@pytest.mark.req("R36")
def test_restriction_request_places_restriction_with_ground(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request(type="restriction", verified=True)
    with pytest.raises(ValidationError):
        services.request_fulfil(request=request, actor=ACTOR, ground="z")
    request = services.request_fulfil(request=request, actor=ACTOR, ground="a")
    assert request.result == {"restriction": "a"}
    assert request.person.pk in set(restricted_person_ids().values_list("person_id", flat=True))


@pytest.mark.req("R37")
def test_objection_to_direct_marketing_is_absolute(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request(type="objection", verified=True)
    request = services.request_fulfil(
        request=request, actor=ACTOR, activity=Objection.DIRECT_MARKETING
    )
    assert request.result == {"objection": "direct-marketing", "absolute": True}
    ids = objecting_person_ids(Objection.DIRECT_MARKETING).values_list("person_id", flat=True)
    assert request.person.pk in set(ids)


@pytest.mark.req("R37")
def test_objection_only_to_legitimate_interest_processing(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request(type="objection", verified=True)
    with pytest.raises(ValidationError) as exc:
        services.request_fulfil(request=request, actor=ACTOR, activity="course-participation")
    assert "activity" in exc.value.message_dict
    request = services.request_fulfil(request=request, actor=ACTOR, activity="market-research")
    assert request.result["absolute"] is False


def test_rectification_refusal_is_in_norwegian_when_nb_is_active(make_request) -> None:  # type: ignore[no-untyped-def]
    request = make_request(type="rectification", verified=True)
    with translation.override("nb"):
        with pytest.raises(ValidationError) as exc:
            services.request_fulfil(
                request=request, actor=ACTOR, changes={"core.Person": {"public_id": "x"}}
            )
        assert exc.value.message_dict["changes"] == [
            "«core.Person»: feltet «public_id» kan ikke rettes her."
        ]
        with pytest.raises(ValidationError) as exc:
            services.request_fulfil(request=request, actor=ACTOR, changes={"no.Such": {"x": 1}})
        assert exc.value.message_dict["changes"] == [
            "«no.Such» inneholder ikke personopplysninger."
        ]

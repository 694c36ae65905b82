"""The back office shows a staff role only the persons that role may see (issue 7, 3.4).

The person admin hides from a role everyone without rows in a holder the role
may view (a course administrator does not see job applicants or people who only
wrote an inquiry). Every other page that shows a person must hide them too:
lists, change pages, inlines, search, filters, form choices, raw-id labels and
the admin's autocomplete endpoint. The walk below goes over every admin
registered on ``django.contrib.admin.site`` for every role of
:mod:`personvern.core.roles`, so an admin added later is checked without
editing this file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.auth.models import Group, Permission, User
from django.db import models
from django.forms import ModelChoiceField
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from personvern.core import services as core
from personvern.core.admin_scoping import PersonScopedMixin, ScopedModelAdmin
from personvern.core.fields import is_personal
from personvern.core.models import Membership, Person
from personvern.core.registry import holder_of
from personvern.core.roles import (
    ACCOUNT_MANAGER,
    COURSE_ADMIN,
    DPO,
    HR,
    MARKETING,
    ROLE_PERMISSIONS,
)

pytestmark = pytest.mark.django_db

PROJECT = "personvern."

#: The fixture persons, by the one kind of row that brings each into the system.
KINDS = ("applicant", "inquirer", "participant", "subscriber", "entrant", "contact")

#: Whom each role may see: the rule of the person admin, written out by hand.
VISIBLE: dict[str, set[str]] = {
    COURSE_ADMIN: {"participant", "contact"},  # registrations; a customer's contact persons
    MARKETING: {"inquirer", "subscriber", "entrant", "participant"},  # evaluations too
    HR: {"applicant"},
    DPO: set(KINDS),  # handles requests: everyone
    ACCOUNT_MANAGER: {"inquirer", "contact"},  # inquiries; customers' contacts and invoices
}


@dataclass(frozen=True)
class World:
    persons: dict[str, Person]

    def hidden_from(self, role: str) -> list[Person]:
        return [p for kind, p in self.persons.items() if kind not in VISIBLE[role]]


def _markers(person: Person) -> list[str]:
    """What would give a person away on a page: name, e-mail address, public id."""
    return [
        person.family_name,
        *person.emails.values_list("address", flat=True),
        str(person.public_id),
    ]


def _build_world() -> World:
    """One person per kind, each with rows in every model that can link to a person."""
    from personvern.competitions import services as competitions
    from personvern.courses import services as courses
    from personvern.courses.evaluations import evaluation_submit
    from personvern.customers import services as customers
    from personvern.mailbox import services as mailbox
    from personvern.newsletter import services as newsletter
    from personvern.recruitment import services as recruitment
    from personvern.rights import services as rights
    from personvern.site.services import secure_message_send
    from tests.retention.factories import hotel_course_ending

    actor = "test"
    now = timezone.now()
    names = {kind: {"given_name": "Walk", "family_name": f"Zz{kind.title()}sen"} for kind in KINDS}

    def email(kind: str) -> str:
        return f"{kind}.walk@example.no"

    application = recruitment.application_receive(
        email=email("applicant"), source="direct", actor=actor, letter="Jeg søker.",
        documents=[recruitment.DocumentUpload("cv", "cv.pdf", "application/pdf", b"%PDF-1.7")],
        **names["applicant"],
    )
    recruitment.application_note_add(
        application=application, kind="interview", text="Godt intervju.", actor=actor
    )
    secure_message_send(
        email=email("inquirer"), subject="Spørsmål", message="Hei", actor=actor,
        attachment=("vedlegg.txt", b"hei"), **names["inquirer"],
    )
    course = hotel_course_ending(now - timedelta(days=2))
    start = course.starts_at.date()
    registration = courses.registration_create(
        course=course, email=email("participant"), overnight_stay=True, arrival_date=start,
        departure_date=start + timedelta(days=1), actor=actor,
        now=course.starts_at - timedelta(days=3), **names["participant"],
    )
    courses.hotel_list_export(course=course, actor=actor, now=course.starts_at - timedelta(days=2))
    evaluation_submit(course=course, person=registration.person, rating=5, actor=actor)
    subscriber = core.person_create(email=email("subscriber"), actor=actor, **names["subscriber"])
    subscription = newsletter.newsletter_subscribe(
        person=subscriber, source="form", text_version="v1", actor=actor
    )
    issue = newsletter.newsletter_create(subject="Januar", actor=actor)
    newsletter.interaction_record(subscription=subscription, newsletter=issue, kind="open",
                                  actor=actor)
    competitions.entry_submit(
        competition=competitions.competition_create(
            title="Quiz", ends_at=now + timedelta(days=1), actor=actor
        ),
        email=email("entrant"), contribution="42", actor=actor, **names["entrant"],
    )
    contact = core.person_create(email=email("contact"), actor=actor, **names["contact"])
    customer = customers.customer_create(name="Fjord AS", kind="customer", actor=actor)
    customers.contact_add(customer=customer, person=contact, role="innkjøp", actor=actor)
    customers.invoice_record(customer=customer, person=contact, number="1",
                             issued_on=date(2025, 1, 1), amount=Decimal(1), actor=actor)

    persons = {kind: Person.objects.get(emails__address=email(kind)) for kind in KINDS}
    for kind, person in persons.items():
        # The person's own records, which any role may be allowed to list.
        core.membership_add(person=person, organisation="juristforbundet",
                            valid_from=date(2020, 1, 1), actor=actor)
        core.consent_record(person=person, scope="newsletter", action="given", channel="web",
                            text_version="v1", actor=actor)
        core.hold_place(scope="person", reason=f"Tvist {kind}", person=person, actor=actor)
        core.restriction_place(person=person, ground="a", actor=actor)
        core.objection_record(person=person, activity="direct-marketing", actor=actor)
        mailbox.mail_message_record(person=person, direction="in", mailbox="salg",
                                    subject="Hei", actor=actor)
        request = rights.request_create(type="access", person=person, channel="email",
                                        received_at=now - timedelta(hours=1), actor=actor)
        rights.request_send_verification(request=request, actor=actor)  # queues a mail
    return World(persons)


def _staff(role: str) -> tuple[User, Client]:
    user = User.objects.create_user(role.replace(" ", "-"), is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return user, client


def _project_admins() -> list[tuple[type[models.Model], admin.ModelAdmin[Any]]]:
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if type(model_admin).__module__.startswith(PROJECT)
    ]


def _person_path(model: type[models.Model]) -> str | None:
    holder = holder_of(model)
    return None if holder is None or holder.person is None else holder.person_id_path()


def _person_of(obj: models.Model) -> int | None:
    path = _person_path(type(obj))
    if path is None:
        return None
    found = type(obj)._default_manager.filter(pk=obj.pk).values_list(path, flat=True)
    return next(iter(found), None)


def _relations(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [
        f for f in model._meta.get_fields()
        if f.concrete and f.is_relation and (f.many_to_one or f.one_to_one or f.many_to_many)
    ]  # type: ignore[misc]


def _assert_hides(content: bytes | str, hidden: list[Person], where: str) -> None:
    text = content if isinstance(content, str) else content.decode()
    for person in hidden:
        for marker in _markers(person):
            assert marker not in text, f"{where} shows {marker!r}, hidden from this role"


@pytest.fixture
def world() -> World:
    return _build_world()


@pytest.mark.req("R24")
@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
def test_every_admin_page_hides_the_persons_the_role_may_not_see(world: World, role: str) -> None:
    assert set(VISIBLE) == set(ROLE_PERMISSIONS), "write down whom a new role may see"
    user, client = _staff(role)
    hidden = world.hidden_from(role)
    hidden_ids = {p.pk for p in hidden}
    viewed = 0
    for model, model_admin in _project_admins():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        listing = client.get(changelist)
        if listing.status_code == 403:
            continue
        assert listing.status_code == 200, changelist
        viewed += 1
        _assert_hides(listing.content, hidden, changelist)
        popup = client.get(changelist, {"_popup": "1", "_to_field": "id"})  # raw-id lookups
        if popup.status_code == 200:
            _assert_hides(popup.content, hidden, f"{changelist} (lookup)")
        if model_admin.get_search_fields(listing.wsgi_request):
            for person in hidden:
                for term in (person.family_name, person.emails.values_list("address",
                                                                           flat=True)[0]):
                    found = client.get(changelist, {"q": term}).context["cl"].result_count
                    assert found == 0, f"searching {changelist} for {term!r} finds {found} rows"
        add = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        if add.status_code == 200:
            _assert_hides(add.content, hidden, f"{changelist}add/")
        if not hidden:
            continue  # the data protection officer: nothing to hide, and many audit entries
        for obj in model._default_manager.all():
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            page = client.get(change)
            if _person_of(obj) in hidden_ids:
                assert page.status_code in (302, 404), f"{change} is shown to {role}"
                history = client.get(f"{change.removesuffix('change/')}history/")
                assert history.status_code in (302, 404), f"{change} history is shown to {role}"
            else:
                assert page.status_code == 200, change
                _assert_hides(page.content, hidden, change)
    assert viewed, f"{role} sees no admin at all"


@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
def test_the_autocomplete_endpoint_hides_the_persons_the_role_may_not_see(
    world: World, role: str
) -> None:
    _user, client = _staff(role)
    hidden = world.hidden_from(role)
    asked = 0
    for model in [m for m, _a in _project_admins()] + [Membership]:
        for field in _relations(model):
            remote = field.related_model
            assert isinstance(remote, type)
            if remote not in admin.site._registry or _person_path(remote) is None:
                continue
            for term in ("", "Zz", *(p.family_name for p in hidden)):
                response = client.get("/admin/autocomplete/", {
                    "app_label": model._meta.app_label, "model_name": model._meta.model_name,
                    "field_name": field.name, "term": term,
                })
                if response.status_code in (403, 404):
                    continue
                assert response.status_code == 200
                asked += 1
                where = f"autocomplete {model._meta.label}.{field.name} {term!r}"
                _assert_hides(json.dumps(response.json(), ensure_ascii=False), hidden, where)
    if role in (COURSE_ADMIN, DPO):  # both may view persons, which the admin can search
        assert asked


@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
def test_form_choices_offer_only_the_persons_the_role_may_see(world: World, role: str) -> None:
    user, _client = _staff(role)
    request = RequestFactory().get("/admin/")
    request.user = user
    hidden_ids = {p.pk for p in world.hidden_from(role)}
    admins: list[BaseModelAdmin[Any]] = []
    for model, model_admin in _project_admins():
        admins.append(model_admin)
        admins.extend(inline(model, admin.site) for inline in model_admin.inlines)
    for model_admin in admins:
        for field in _relations(model_admin.model):
            remote = field.related_model
            assert isinstance(remote, type)
            if _person_path(remote) is None:
                continue
            formfield = model_admin.formfield_for_dbfield(field, request)  # type: ignore[arg-type]
            if not isinstance(formfield, ModelChoiceField):
                continue
            offered = {_person_of(obj) for obj in formfield.queryset}
            where = f"{type(model_admin).__name__}.{field.name}"
            assert not offered & hidden_ids, f"{where} offers hidden persons to {role}"


def test_every_admin_of_personal_data_is_scoped(world: World) -> None:
    """Models holding personal data are declared, scoped and covered by the walk above."""
    for model, model_admin in _project_admins():
        label = model._meta.label
        holder = holder_of(model)
        if holder is None:
            references = any(f.related_model is Person for f in _relations(model))
            personal = any(is_personal(f) for f in model._meta.get_fields())
            assert not (references or personal or model is Person), (
                f"{label} holds personal data but is not declared as a holder"
            )
        elif holder.person is not None:
            assert isinstance(model_admin, PersonScopedMixin), f"{label}'s admin is not scoped"
            linked = {_person_of(obj) for obj in model._default_manager.all()}
            assert linked & {p.pk for p in world.persons.values()}, (
                f"give {label} a row for the persons of _build_world, so the walk checks it"
            )
        for inline in model_admin.inlines:
            if _person_path(inline.model) is not None:
                assert issubclass(inline, PersonScopedMixin), f"{inline.__name__} is not scoped"
        for field in _relations(model):
            remote = field.related_model
            if isinstance(remote, type) and _person_path(remote) is not None:
                assert isinstance(model_admin, PersonScopedMixin), (
                    f"{label}'s admin offers {field.name} choices unscoped"
                )


def test_the_person_admin_and_the_walk_agree_on_whom_each_role_sees(world: World) -> None:
    for role in (COURSE_ADMIN, DPO):
        _user, client = _staff(role)
        listing = client.get("/admin/core/person/")
        shown = {p.pk for p in listing.context["cl"].result_list}
        assert shown & {p.pk for p in world.persons.values()} == {
            world.persons[kind].pk for kind in VISIBLE[role]
        }, role


def test_a_raw_id_field_neither_accepts_nor_names_a_hidden_person(world: World) -> None:
    """Staff who may place holds but see only course participants cannot reach others."""
    user = User.objects.create_user("holds", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(
        codename__in=["add_hold", "view_hold", "view_registration"]
    ))
    client = Client()
    client.force_login(user)
    applicant, participant = world.persons["applicant"], world.persons["participant"]
    form = {"scope": "person", "reason": "Tvist", "person": applicant.pk, "activity": ""}

    refused = client.post("/admin/core/hold/add/", form)
    assert refused.status_code == 200 and refused.context["adminform"].form.errors["person"]
    _assert_hides(refused.content, [applicant], "the hold form")
    assert not applicant.holds.filter(reason="Tvist").exists()

    placed = client.post("/admin/core/hold/add/", form | {"person": participant.pk})
    assert placed.status_code == 302
    assert participant.holds.filter(reason="Tvist").exists()


def test_a_related_list_filter_offers_only_visible_persons(world: World) -> None:
    class MembershipByPerson(ScopedModelAdmin):
        list_filter = ("person", "organisation")

    user, _client = _staff(COURSE_ADMIN)
    request = RequestFactory().get("/admin/core/membership/")
    request.user = user
    probe = MembershipByPerson(Membership, admin.AdminSite(name="probe"))
    changelist = probe.get_changelist_instance(request)
    offered = {
        pk for spec in changelist.filter_specs
        for pk, _label in getattr(spec, "lookup_choices", []) if spec.title == "person"
    }
    hidden_ids = {p.pk for p in world.hidden_from(COURSE_ADMIN)}
    assert offered and not offered & hidden_ids


@pytest.mark.req("R24")
@pytest.mark.req("R40")
@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
def test_the_privacy_pages_beside_the_admins_follow_the_same_rule(world: World, role: str) -> None:
    """Every role registers a privacy request (R40) on a page that names nobody; the data
    protection officer's pages (overview, record of processing, a request's file) are
    the DPO's alone."""
    from personvern.rights.models import Request

    user, client = _staff(role)
    hidden = world.hidden_from(role)
    register = client.get(reverse("admin:rights_request_register"))
    assert register.status_code == 200
    _assert_hides(register.content, hidden, "the register page")
    _assert_hides(client.get(reverse("admin:index")).content, hidden, "the admin index")
    dpo_pages = [reverse("admin:rights_request_overview"), reverse("admin:rights_ropa")]
    dpo_pages += [reverse("admin:rights_request_file", args=[r.pk]) for r in Request.objects.all()]
    for url in dpo_pages:
        status = client.get(url).status_code
        if role == DPO:
            assert status in (200, 404), url  # 404: a request with no file
        else:
            assert status == 403, f"{url} answers {status} to {role}"


def _object_pages(model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
    """An admin's own pages for one object (``<int:pk>/download/`` and the like):
    (URL name, the parameter that takes the object's id). Django's standard pages
    are walked above; pages with more than one parameter have their own tests."""
    from django.urls import URLPattern

    standard = ("_changelist", "_add", "_change", "_history", "_delete")
    pages = []
    for pattern in model_admin.get_urls():
        if not isinstance(pattern, URLPattern) or not pattern.name:
            continue
        params = list(pattern.pattern.converters)  # type: ignore[attr-defined]
        if len(params) == 1 and not pattern.name.endswith(standard):
            pages.append((pattern.name, params[0]))
    return pages


def _body(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


@pytest.mark.req("R24")
@pytest.mark.parametrize("role", sorted(ROLE_PERMISSIONS))
def test_an_admins_own_object_pages_hide_the_persons_the_role_may_not_see(
    world: World, role: str
) -> None:
    """Downloads, lists and task pages an admin adds for one object (a course's check-in
    list, a secure upload's download, an application's hire page...) follow the admin's
    scope: an id of a hidden person's row in the URL is "not found" or refused, and a
    page that is shown names no hidden person (ADR 0017)."""
    _user, client = _staff(role)
    hidden = world.hidden_from(role)
    hidden_ids = {p.pk for p in hidden}
    walked = 0
    for model, model_admin in _project_admins():
        for name, param in _object_pages(model_admin):
            for obj in model._default_manager.all():
                url = reverse(f"admin:{name}", kwargs={param: obj.pk})
                response = client.get(url)
                walked += 1
                assert response.status_code < 500, f"{url} answers {response.status_code}"
                if _person_of(obj) in hidden_ids:
                    assert response.status_code in (302, 403, 404), f"{url} is shown to {role}"
                _assert_hides(_body(response).decode(errors="replace"), hidden, url)
    assert walked

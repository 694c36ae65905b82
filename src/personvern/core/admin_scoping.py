"""The back office shows each staff role only the persons its work concerns.

The rule (R24): the data protection officer, who handles requests, sees
everyone; any other staff member sees a person only if the person has rows in a
holder (a model declared in a ``privacy.py``, with a policy activity) that the
staff member may view. A course administrator sees participants, not job
applicants or people who only wrote an inquiry.

The person admin is not the only door to a person: every model that leads to
``Person`` (the holder's ``person`` lookup path) lists and links persons, and
every form with a choice of persons or of their rows names them. So every admin
of such a model, and every inline, derives from :class:`PersonScopedMixin`
(:class:`ScopedModelAdmin`, :class:`ScopedTabularInline`), which applies the
rule in one place to:

- the rows listed and opened (``get_queryset``: a hidden person's row is "not
  found", so its change and history pages redirect; actions and the admin's
  autocomplete endpoint, which searches the target admin's queryset, are scoped
  by the same method);
- the choices of every foreign key or many-to-many field whose target leads to
  a person, and the label a raw-id field prints beside the id it holds;
- related list filters on such targets, which list only values that occur in
  the scoped rows.

Rows whose path to a person is empty (an anonymised evaluation, a hold on an
activity) name nobody and stay visible. ``tests/test_admin_scoping.py`` walks
every registered admin for every role and checks all of this.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest

from personvern.core.registry import holder_of, person_holders

ALL_PERSONS = "rights.view_request"
"""The permission that shows every person: those who handle requests must find anyone."""


def sees_every_person(user: Any) -> bool:
    return bool(user.is_superuser or user.has_perm(ALL_PERSONS))


def visible_persons(user: Any) -> Q | None:
    """A filter on ``Person`` for the persons ``user`` may see (None: everyone).

    A person is visible through the rows of any holder with a policy activity
    whose model the user may view. The core's own records (e-mail identities,
    memberships, consents) carry no activity: everyone has them, so they make
    nobody visible.
    """
    if sees_every_person(user):
        return None
    visible = Q(pk__in=[])
    for holder in person_holders():
        meta = holder.model._meta
        if holder.activity and user.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
            rows = holder.model._default_manager.filter(
                **{holder.person_id_path(): OuterRef("pk")}
            )
            visible |= Q(Exists(rows))
    return visible


def person_path(model: type[models.Model]) -> str | None:
    """The lookup from ``model`` to ``Person`` its holder declares (None: no person)."""
    holder = holder_of(model)
    return None if holder is None else holder.person


def scope_to_visible_persons(queryset: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """``queryset`` without the rows of persons hidden from ``user``."""
    path = person_path(queryset.model)
    if path is None:
        return queryset
    visible = visible_persons(user)
    if visible is None:
        return queryset
    if path == "pk":
        return queryset.filter(visible)
    from personvern.core.models import Person

    persons = Person.objects.filter(visible).values("pk")
    return queryset.filter(Q(**{f"{path}__isnull": True}) | Q(**{f"{path}__in": persons}))


def leads_to_person(model: type[models.Model] | Any) -> bool:
    return isinstance(model, type) and person_path(model) is not None


class ScopedForeignKeyRawIdWidget(widgets.ForeignKeyRawIdWidget):
    """A raw-id field that names the object it holds only if it is among the choices.

    Django's widget reads the label from the target's default manager, so a
    form sent back with a hidden person's id would print that person's name.
    """

    def __init__(
        self, rel: Any, admin_site: admin.AdminSite, *, queryset: QuerySet[Any],
        attrs: Any = None, using: str | None = None,
    ) -> None:
        super().__init__(rel, admin_site, attrs=attrs, using=using)
        self.queryset = queryset

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        key = self.rel.get_related_field().name
        try:
            offered = self.queryset.filter(**{key: value}).exists()
        except (ValueError, TypeError, ValidationError):
            return "", ""
        return super().label_and_url_for_value(value) if offered else ("", "")


class PersonScopedMixin(BaseModelAdmin):
    """Scopes an admin (or inline) to the persons the requesting staff member may see."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = scope_to_visible_persons(super().get_queryset(request), request.user)
        # A stable order: the autocomplete endpoint pages through this queryset.
        return queryset if queryset.ordered else queryset.order_by("pk")

    def _scoped_choices(
        self, db_field: models.Field[Any, Any], request: HttpRequest, kwargs: dict[str, Any]
    ) -> QuerySet[Any] | None:
        target = db_field.remote_field.model  # type: ignore[union-attr]
        if "queryset" in kwargs or not leads_to_person(target):
            return None
        db = kwargs.get("using")
        queryset = self.get_field_queryset(db, db_field, request)  # type: ignore[arg-type]
        if queryset is None:
            queryset = target._default_manager.using(db)
        return scope_to_visible_persons(queryset, request.user)

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        queryset = self._scoped_choices(db_field, request, kwargs)
        if queryset is not None:
            kwargs["queryset"] = queryset
            if "widget" not in kwargs and db_field.name in self.raw_id_fields:
                kwargs["widget"] = ScopedForeignKeyRawIdWidget(
                    db_field.remote_field, self.admin_site, queryset=queryset,
                    using=kwargs.get("using"),
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> Any:
        queryset = self._scoped_choices(db_field, request, kwargs)
        if queryset is not None:
            kwargs["queryset"] = queryset
        return super().formfield_for_manytomany(db_field, request, **kwargs)


def _filter_leads_to_person(model: type[models.Model], path: str) -> bool:
    try:
        last = get_fields_from_path(model, path)[-1]
    except (FieldDoesNotExist, NotRelationField):
        return False
    return bool(last.is_relation) and leads_to_person(last.related_model)


class ScopedModelAdmin(PersonScopedMixin, admin.ModelAdmin):
    """The base of every admin whose model leads to a person or offers persons."""

    def get_list_filter(self, request: HttpRequest) -> Any:
        # A plain related filter lists every row of its target; the related-only
        # filter lists those that occur in this admin's (scoped) rows.
        scoped: list[Any] = []
        for item in super().get_list_filter(request):
            if isinstance(item, str) and _filter_leads_to_person(self.model, item):
                item = (item, admin.RelatedOnlyFieldListFilter)
            elif (
                isinstance(item, tuple)
                and isinstance(item[0], str)
                and item[1] is admin.RelatedFieldListFilter
                and _filter_leads_to_person(self.model, item[0])
            ):
                item = (item[0], admin.RelatedOnlyFieldListFilter)
            scoped.append(item)
        return scoped


class ScopedTabularInline(PersonScopedMixin, admin.TabularInline):
    """The base of every tabular inline whose rows lead to a person."""


class ScopedStackedInline(PersonScopedMixin, admin.StackedInline):
    """The base of every stacked inline whose rows lead to a person."""

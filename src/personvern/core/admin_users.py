"""Staff users and roles in the back office, in the reader's language.

Roles are Django groups whose names are stable codes (``course administrator``,
see :mod:`personvern.core.roles`); permissions carry the English names Django
wrote when it created them. Both are shown translated here: a role by its
label in ``ROLE_LABELS``, a permission as "app | model | Can add <model>" built
from the model's (translated) names. What is stored is left as it is.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission, User
from django.db.models import Field
from django.forms import ModelMultipleChoiceField
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from personvern.core.roles import ROLE_LABELS

PERMISSION_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def role_label(name: str) -> str:
    """A group's name in words: the role's label, or the name for a group that is no role."""
    label = ROLE_LABELS.get(name)
    return capfirst(str(label)) if label is not None else name


def permission_label(permission: Permission) -> str:
    """``App | model | Can add model`` in the reader's language where the model is known."""
    model = permission.content_type.model_class()
    if model is None:
        return str(permission)
    opts = model._meta
    app = opts.app_config.verbose_name
    action, _sep, _rest = permission.codename.partition("_")
    template = PERMISSION_ACTIONS.get(action)
    declared = dict(opts.permissions)  # a model's own permissions, named with gettext_lazy
    if permission.codename in declared:
        name = str(declared[permission.codename])
    elif template:
        name = str(template) % {"model": opts.verbose_name}
    else:
        name = permission.name
    return f"{capfirst(str(app))} | {opts.verbose_name} | {name}"


class _RoleChoices(ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return role_label(obj.name)


class _PermissionChoices(ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return permission_label(obj)


class RoleFilter(admin.RelatedFieldListFilter):
    """The user list's filter by group, with the roles' labels."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        choices = super().field_choices(field, request, model_admin)
        return [(pk, role_label(str(name))) for pk, name in choices]


def _formfield(db_field: Field, request: HttpRequest | None, default: Any, **kwargs: Any) -> Any:
    if db_field.name == "groups":
        kwargs["form_class"] = _RoleChoices
    elif db_field.name in ("permissions", "user_permissions"):
        kwargs["form_class"] = _PermissionChoices
    return default(db_field, request, **kwargs)


class StaffUserAdmin(UserAdmin):
    list_filter = ("is_staff", "is_superuser", "is_active", ("groups", RoleFilter))

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest | None = None, **kwargs: Any
    ) -> Any:
        return _formfield(db_field, request, super().formfield_for_manytomany, **kwargs)


class RoleAdmin(GroupAdmin):
    list_display = ("role",)
    # The name is the role's code, which roles.ensure_roles keeps in step: its label beside it.
    fields = ("name", "role", "permissions")
    readonly_fields = ("role",)

    @admin.display(description=_("role"), ordering="name")
    def role(self, obj: Group) -> str:
        return role_label(obj.name)

    def formfield_for_manytomany(
        self, db_field: Any, request: HttpRequest | None = None, **kwargs: Any
    ) -> Any:
        return _formfield(db_field, request, super().formfield_for_manytomany, **kwargs)


for _model, _admin in ((User, StaffUserAdmin), (Group, RoleAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)

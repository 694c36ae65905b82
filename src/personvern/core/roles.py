"""Staff roles: each sees only what its work needs.

Roles are Django groups kept in step with this table after every migrate. A
permission names ``app_label.codename``; permissions of apps not installed are
ignored, so an app adds its models here when it arrives.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

COURSE_ADMIN = "course administrator"
MARKETING = "marketing"
HR = "hr"
DPO = "data protection officer"
ACCOUNT_MANAGER = "account manager"

ROLE_LABELS = {
    COURSE_ADMIN: _("Course administrator"),
    MARKETING: _("Marketing"),
    HR: _("HR"),
    DPO: _("Data protection officer"),
    ACCOUNT_MANAGER: _("Account manager"),
}


def _crud(label: str, *actions: str) -> list[str]:
    app, model = label.split(".")
    return [f"{app}.{action}_{model}" for action in (actions or ("view", "add", "change"))]


ROLE_PERMISSIONS: dict[str, list[str]] = {
    COURSE_ADMIN: [
        *_crud("core.person", "view"),
        *_crud("core.emailidentity", "view"),
        *_crud("core.membership"),
        *_crud("courses.course"),
        *_crud("courses.venue"),
        *_crud("courses.registration"),
        *_crud("courses.hoteltransfer", "view", "change"),
        *_crud("courses.clereport", "view"),
        *_crud("courses.evaluation", "view"),
        *_crud("customers.customer", "view"),
        # A customer's contact persons are part of its record (the customer admin's
        # inline): viewing them makes them visible people in the back office too.
        *_crud("customers.customercontact", "view"),
    ],
    MARKETING: [
        *_crud("newsletter.subscription"),
        *_crud("newsletter.newsletter"),
        *_crud("newsletter.interaction", "view"),
        *_crud("core.consentevent", "view"),
        *_crud("inquiries.inquiry"),
        *_crud("competitions.competition"),
        *_crud("competitions.entry"),
        *_crud("courses.evaluation", "view"),
        *_crud("site.secureupload", "view"),
        *_crud("webstats.pageview", "view"),
    ],
    HR: [
        *_crud("recruitment.position"),
        *_crud("recruitment.application"),
        *_crud("recruitment.applicationnote"),
    ],
    DPO: [
        *_crud("core.person", "view"),
        *_crud("core.emailidentity", "view"),
        *_crud("core.membership", "view"),
        *_crud("core.consentevent", "view"),
        *_crud("core.hold"),
        *_crud("core.restriction"),
        *_crud("core.objection"),
        *_crud("core.auditentry", "view"),
        *_crud("courses.hoteltransfer", "view"),
        *_crud("courses.clereport", "view"),
        *_crud("rights.request"),
        *_crud("webstats.analyticsconsent", "view"),
        *_crud("mailbox.mailmessage", "view", "change"),
        *_crud("customers.invoice", "view"),
        *_crud("worker.jobrun", "view"),
        *_crud("worker.outgoingmail", "view", "change"),
    ],
    # Registers inquiries (R15) and keeps the customers, partners and suppliers with
    # their contact persons and invoices (R22). Contacts are added by name and
    # e-mail through the services, so the role needs no view of every person.
    ACCOUNT_MANAGER: [
        *_crud("inquiries.inquiry"),
        *_crud("customers.customer"),
        *_crud("customers.customercontact"),
        *_crud("customers.invoice", "view", "add"),
    ],
}


#: Every role has these besides its own (R40: any staff member may receive a privacy
#: request and register it for the data protection officer; registering shows no
#: other request: listing and opening them is ``rights.view_request``, the DPO's).
EVERY_ROLE_PERMISSIONS = ["rights.add_request"]


def ensure_roles(**kwargs: Any) -> None:
    """post_migrate: create the role groups and give each exactly its permissions.

    Django sends post_migrate once per app, and a test flushing the database
    sends it again: this reads all permissions and the groups' current ones in
    three queries and writes only a group that differs.
    """
    from django.contrib.auth.models import Group, Permission

    ids: dict[str, list[int]] = {}
    for pk, app_label, codename in Permission.objects.values_list(
        "pk", "content_type__app_label", "codename"
    ):
        ids.setdefault(f"{app_label}.{codename}", []).append(pk)
    groups = {group.name: group for group in Group.objects.filter(name__in=ROLE_PERMISSIONS)}
    current: dict[int, set[int]] = {group.pk: set() for group in groups.values()}
    for group_id, permission_id in Group.permissions.through.objects.filter(
        group__in=list(groups.values())
    ).values_list("group_id", "permission_id"):
        current[group_id].add(permission_id)
    for role, own in ROLE_PERMISSIONS.items():
        wanted = {pk for perm in [*own, *EVERY_ROLE_PERMISSIONS] for pk in ids.get(perm, [])}
        group = groups.get(role) or Group.objects.get_or_create(name=role)[0]
        if current.get(group.pk) != wanted:
            group.permissions.set(wanted)

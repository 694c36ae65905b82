"""The core's own holders: a person's identity records.

They carry ``activity=None``: they are not processed for a purpose of their own
but identify the person for every activity, and live exactly as long as the
person does (the retention run removes persons no other holder references).
"""

from django.utils.translation import gettext_lazy as _

from personvern.core.models import (
    ConsentEvent,
    EmailIdentity,
    Hold,
    Membership,
    Objection,
    Person,
    Restriction,
)
from personvern.core.registry import Holder, register

register(
    Holder(
        model=Person,
        activity=None,
        person="pk",
        fields=[("given_name", _("given name")), ("family_name", _("family name")),
                ("phone", _("phone")), ("created_at", _("created"))],
        portable=True,
    )
)
register(
    Holder(
        model=EmailIdentity,
        activity=None,
        person="person",
        fields=[("address", _("e-mail address")), ("verified_at", _("verified"))],
        portable=True,
    )
)
register(
    Holder(
        model=Membership,
        activity=None,
        person="person",
        fields=[("organisation", _("organisation")), ("member_id", _("member number")),
                ("valid_from", _("member from")), ("valid_to", _("member until"))],
    )
)
register(
    Holder(
        model=ConsentEvent,
        activity=None,
        person="person",
        fields=[("scope", _("scope")), ("action", _("action")),
                ("text_version", _("text version")), ("channel", _("channel")), ("at", _("time"))],
        portable=True,
    )
)
register(
    Holder(
        model=Restriction,
        activity=None,
        person="person",
        fields=[("ground", _("ground")), ("started_at", _("from")), ("lifted_at", _("lifted"))],
    )
)
register(
    Holder(
        model=Objection,
        activity=None,
        person="person",
        fields=[("activity", _("activity")), ("at", _("time")), ("lifted_at", _("lifted"))],
    )
)
register(
    Holder(
        model=Hold,
        activity=None,
        person="person",
        fields=[("reason", _("reason")), ("created_at", _("from")), ("expires_at", _("expires"))],
    )
)

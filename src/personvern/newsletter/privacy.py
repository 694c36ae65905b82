"""Holders of the newsletter activity (consent, so portable).

The policy gives the activity two rules without cohorts, ``subscription`` (from
``withdrawn``) and ``interactions`` (from ``sent``); the retention engine applies
every rule to every holder of the activity, so each holder offers both anchors.
A subscription has no "sent" date of its own: its ``sent`` anchor is NULL, which
the engine never treats as due, so only the withdrawal ends a subscription.
Interactions go when their newsletter is a year old, or with the withdrawal.
"""

from django.db.models import DateTimeField, Value
from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder, register
from personvern.newsletter.models import Interaction, Subscription

register(
    Holder(
        model=Subscription,
        activity="newsletter",
        person="person",
        anchors={
            "withdrawn": "unsubscribed_at",
            "sent": lambda: Value(None, output_field=DateTimeField()),
        },
        fields=[
            ("status", _("status")),
            ("source", _("source")),
            ("basis", _("basis")),
            ("organisation", _("member organisation")),
            ("subscribed_at", _("subscribed")),
            ("unsubscribed_at", _("unsubscribed")),
            ("unsubscribe_channel", _("unsubscribed through")),
        ],
        portable=True,
    )
)
register(
    Holder(
        model=Interaction,
        activity="newsletter",
        person="subscription__person",
        anchors={
            "withdrawn": "subscription__unsubscribed_at",
            "sent": "newsletter__sent_at",
        },
        fields=[
            ("newsletter__subject", _("newsletter")),
            ("kind", _("kind")),
            ("url", _("link")),
            ("at", _("time")),
        ],
        portable=True,
    )
)

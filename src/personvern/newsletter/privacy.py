"""Holders of the newsletter activity (consent, so portable).

The policy keeps subscriptions and interactions until the person unsubscribes
or withdraws consent (``withdrawn``, the subscription's ``unsubscribed_at``).
Interactions also offer ``sent`` (their newsletter's date), so an operator's
policy may shorten their life with a rule of its own.
"""

from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder, register
from personvern.newsletter.models import Interaction, Subscription

register(
    Holder(
        model=Subscription,
        activity="newsletter",
        person="person",
        anchors={"withdrawn": "unsubscribed_at"},
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
        parent="subscription",
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

"""Holder of the inquiries activity (legitimate interest: not portable, objection applies).

An inquiry is kept while it is relevant (R15): an open one for the policy's
period after the last contact, a closed one (no longer relevant) for the
shorter period of the ``closed-inquiry`` cohort after it was closed.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder, register
from personvern.inquiries.models import Inquiry

register(
    Holder(
        model=Inquiry,
        activity="inquiries",
        person="person",
        anchors={
            "last-contact": "last_contact_at",
            "received": "received_at",
            "inquiry-closed": "closed_at",
        },
        cohorts={"closed-inquiry": lambda: Q(closed_at__isnull=False)},
        fields=[
            ("channel", _("channel")),
            ("company", _("company")),
            ("subject", _("subject")),
            ("message", _("message")),
            ("received_at", _("received")),
            ("last_contact_at", _("last contact")),
            ("closed_at", _("closed")),
        ],
    )
)

"""Holder of the inquiries activity (legitimate interest: not portable, objection applies)."""

from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder, register
from personvern.inquiries.models import Inquiry

register(
    Holder(
        model=Inquiry,
        activity="inquiries",
        person="person",
        anchors={"last-contact": "last_contact_at", "received": "received_at"},
        fields=[
            ("channel", _("channel")),
            ("subject", _("subject")),
            ("message", _("message")),
            ("received_at", _("received")),
            ("last_contact_at", _("last contact")),
            ("closed_at", _("closed")),
        ],
    )
)

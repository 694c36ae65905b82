"""Holder of the email-correspondence activity (legitimate interest: not portable).

Messages kept for a reason (R19) are protected by a core row hold placed by
:func:`personvern.mailbox.services.mail_message_keep`, not by moving the anchor.
"""

from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder, register
from personvern.mailbox.models import MailMessage

register(
    Holder(
        model=MailMessage,
        activity="email-correspondence",
        person="person",
        anchors={"received": "received_at"},
        fields=[
            ("direction", _("direction")),
            ("mailbox", _("mailbox")),
            ("subject", _("subject")),
            ("received_at", _("received or sent")),
            ("keep_reason", _("reason to keep")),
            ("keep_until", _("keep until")),
        ],
    )
)

"""Holder of the email-correspondence activity (legitimate interest: not portable).

The rule counts from the ``received`` anchor: the moment the message was
received or sent. While a ground of R19 lasts for its correspondent, the
anchor is empty, and an empty anchor is never due (ADR 0024):

- the correspondent is a contact person of a customer or partner whose
  relationship has not ended (:mod:`personvern.customers`);
- a sales process with them is open: an inquiry not yet closed
  (:mod:`personvern.inquiries`).

When the ground ends, the anchor is the receipt date again, so mail older
than the period is due at once. Messages staff keep for a reason (R19's
"other relevant work", or any of the grounds named by hand) are protected by a
core row hold placed by :func:`personvern.mailbox.services.mail_message_keep`,
not by the anchor. The mailbox sweep (:mod:`personvern.mailbox.sweep`) deletes
on the mail server exactly the messages whose rows are due here.
"""

from django.db import models
from django.db.models import Case, F, Value, When
from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder, register
from personvern.mailbox.models import MailMessage
from personvern.mailbox.selectors import relationship_ground_q


def _received_unless_a_ground_lasts() -> Case:
    return Case(
        When(relationship_ground_q(), then=Value(None)),
        default=F("received_at"),
        output_field=models.DateTimeField(),
    )


register(
    Holder(
        model=MailMessage,
        activity="email-correspondence",
        person="person",
        anchors={"received": _received_unless_a_ground_lasts},
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

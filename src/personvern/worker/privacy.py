"""The outbox holds personal data until a message is sent (recipients, content).

It is declared with the identity records (``activity=None``): a message belongs
to whichever activity caused it, lives minutes, and is emptied once sent; the
``mail-sweep`` job removes the remaining records after 30 days. An erasure
removes a person's unsent mail with them.
"""

from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder, register
from personvern.worker.models import OutgoingMail

register(
    Holder(
        model=OutgoingMail,
        activity=None,
        person="person",
        fields=[("kind", _("kind")), ("state", _("state")), ("queued_at", _("queued")),
                ("sent_at", _("sent"))],
    )
)

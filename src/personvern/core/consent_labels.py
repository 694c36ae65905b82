"""A consent event's scope and channel in words.

The ledger stores codes: the scope is a policy activity id, the channel a short
code written by whatever recorded the event (``link``, ``portal``, ``import``,
an organisation's code…). The back office shows these labels instead; a code
with no label here is shown as it is.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from personvern.core.models import Organisation

CHANNEL_LABELS: dict[str, Promise] = {
    "form": _("sign-up form"),
    "import": _("import"),
    "member-organisation": _("member organisation"),
    "link": _("unsubscribe link in an e-mail"),
    "portal": _("Min side"),
    "staff": _("by staff"),
    "membership-ended": _("membership ended"),
    "api": _("the API"),
}


def channel_label(code: str) -> str:
    """The channel in the reader's language; the code where none is known."""
    if code in CHANNEL_LABELS:
        return str(CHANNEL_LABELS[code])
    if code in Organisation.values:
        return str(Organisation(code).label)
    return code

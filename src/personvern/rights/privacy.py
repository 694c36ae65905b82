"""The rights app's own personal data: the case files of privacy requests.

A request is kept to show that the controller answered it lawfully and in time
(Art. 5(2) accountability, Art. 12; legal obligation, Art. 6(1)(c)). It belongs
to the policy activity ``privacy-requests`` and lives until its retention rule
(counted from ``last-contact``: the day the case was closed) ends.

On erasure a request is not deleted but de-identified: the link to the person
and the free-text fields go, the pseudonymous ``subject`` and the facts of the
case (type, dates, result counts) stay.
"""

from django.db.models import DateTimeField
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder, register
from personvern.rights.models import Request

ACTIVITY = "privacy-requests"

register(
    Holder(
        model=Request,
        activity=ACTIVITY,
        person="person",
        anchors={
            # The case's last contact with the person: its answer or its closing.
            "last-contact": lambda: Coalesce(
                "completed_at", "cancelled_at", output_field=DateTimeField()
            ),
        },
        fields=[
            ("public_id", _("request id")),
            ("type", _("type")),
            ("status", _("status")),
            ("channel", _("channel")),
            ("received_at", _("received")),
            ("verified_at", _("verified")),
            ("due_legal", _("due")),
            ("extended_by_months", _("extended by (months)")),
            ("extension_reason", _("reason for extension")),
            ("completed_at", _("completed")),
        ],
        portable=False,
        erase="anonymise",
        anonymise={
            "person": None,
            "notes": "",
            "verification_note": "",
            "extension_reason": "",
        },
    )
)

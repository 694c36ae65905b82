"""Holder of the files received through the secure channel: part of an inquiry.

They follow the inquiry's retention (same activity, same anchors) and are
deleted with it (the foreign key cascades within the activity).
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from personvern.core.registry import Holder, register
from personvern.site.models import SecureUpload

register(
    Holder(
        model=SecureUpload,
        activity="inquiries",
        person="inquiry__person",
        parent="inquiry",
        anchors={
            "last-contact": "inquiry__last_contact_at",
            "received": "inquiry__received_at",
            "inquiry-closed": "inquiry__closed_at",
        },
        cohorts={"closed-inquiry": lambda: Q(inquiry__closed_at__isnull=False)},
        fields=[
            ("filename", _("file name")),
            ("content_type", _("file type")),
            ("size", _("size in bytes")),
            ("received_at", _("received")),
        ],
    )
)

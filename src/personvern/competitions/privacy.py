"""Holder of the competitions activity (Art. 6(1)(b): portable)."""

from django.utils.translation import gettext_lazy as _

from personvern.competitions.models import Entry
from personvern.core.registry import Holder, register

register(
    Holder(
        model=Entry,
        activity="competitions",
        person="person",
        anchors={"competition-end": "competition__ends_at"},
        fields=[
            ("competition__title", _("competition")),
            ("workplace", _("workplace")),
            ("contribution", _("entry")),
            ("submitted_at", _("submitted")),
            ("feedback", _("feedback")),
        ],
        portable=True,
    )
)

"""Reads of e-mail correspondence."""

from __future__ import annotations

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from personvern.core.models import HoldScope
from personvern.core.selectors import active_holds
from personvern.mailbox.models import MailMessage


def kept_messages(*, as_of: datetime | None = None) -> QuerySet[MailMessage]:
    """Messages an active row hold keeps beyond the normal period at ``as_of``."""
    as_of = as_of or timezone.now()
    held = active_holds(as_of).filter(
        scope=HoldScope.ROW,
        content_type=ContentType.objects.get_for_model(MailMessage),
        object_id=OuterRef("pk"),
    )
    return MailMessage.objects.filter(Exists(held)).order_by("received_at", "pk")

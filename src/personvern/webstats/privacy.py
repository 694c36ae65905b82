"""Holders of the ``web-analytics-consent`` activity.

The rows name a visitor only by the random id in the analytics cookie, which we
cannot trace to a person (``person=None``): retention applies to them; access
and erasure requests cannot find them (Art. 11), but withdrawing consent on the
cookie page deletes them at once.

:class:`~personvern.webstats.models.PageView` is deliberately not declared: it
holds anonymous counts only (see its docstring).
"""

from django.db.models import Case, DateTimeField, Exists, F, OuterRef, Value, When

from personvern.core.registry import Holder, register
from personvern.webstats.models import AnalyticsConsent, AnalyticsEvent, ConsentChoice


def _consent_lapsed_at() -> Case:
    """The "withdrawn" anchor of an event: its own time once no consent stands.

    It does not look up the withdrawal row itself: retention deletes the ledger
    in the same run (possibly first), and an event must not outlive it. So an
    event is due as soon as its visitor has no standing "granted" row, whether
    the consent was withdrawn, expired or never existed.
    """
    standing = AnalyticsConsent.objects.filter(
        visitor_id=OuterRef("visitor_id"),
        choice=ConsentChoice.GRANTED,
        withdrawn_at__isnull=True,
    )
    return Case(
        When(Exists(standing), then=Value(None)),
        default=F("at"),
        output_field=DateTimeField(),
    )


register(
    Holder(
        model=AnalyticsConsent,
        activity="web-analytics-consent",
        person=None,
        anchors={"received": "at", "withdrawn": "withdrawn_at"},
    )
)
register(
    Holder(
        model=AnalyticsEvent,
        activity="web-analytics-consent",
        person=None,
        anchors={"received": "at", "withdrawn": _consent_lapsed_at},
    )
)

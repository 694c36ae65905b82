"""Holders of the recruitment activity (Art. 6(1)(b): portable).

Cohorts (R27) are disjoint and cover every application: ``hired`` first, then
``posted-position`` or ``open-application`` by whether a position is named. The
documents and notes follow their application's cohort and anchors, so an
application and everything about it leave together.
"""

from collections.abc import Callable
from typing import Any

from django.db.models import Model, Q
from django.utils.translation import gettext_lazy as _

from personvern.core.registry import AnchorSpec, CohortSpec, Holder, register
from personvern.recruitment.models import Application, ApplicationDocument, ApplicationNote


def _cohorts(prefix: str) -> dict[str, CohortSpec]:
    def cohort(build: Callable[[str], Q]) -> CohortSpec:
        return lambda: build(prefix)

    return {
        "hired": cohort(lambda p: Q(**{f"{p}hired_at__isnull": False})),
        "posted-position": cohort(
            lambda p: Q(**{f"{p}hired_at__isnull": True, f"{p}position__isnull": False})
        ),
        "open-application": cohort(
            lambda p: Q(**{f"{p}hired_at__isnull": True, f"{p}position__isnull": True})
        ),
    }


def _anchors(prefix: str) -> dict[str, AnchorSpec]:
    return {
        "received": f"{prefix}received_at",
        "recruitment-closed": f"{prefix}position__recruitment_closed_at",
        "employment-end": f"{prefix}employment_ended_at",
    }


register(
    Holder(
        model=Application,
        activity="recruitment",
        person="person",
        anchors=_anchors(""),
        cohorts=_cohorts(""),
        fields=[
            ("position__title", _("position")),
            ("source", _("source")),
            ("letter", _("application letter")),
            ("received_at", _("received")),
            ("status", _("status")),
            ("hired_at", _("hired")),
            ("employment_ended_at", _("employment ended")),
        ],
        portable=True,
    )
)
def _part_of_application(model: type[Model], fields: list[tuple[str, Any]]) -> Holder:
    """A row that belongs to an application: same person, anchors and cohorts, and a
    hold on the application keeps it."""
    return Holder(
        model=model,
        activity="recruitment",
        person="application__person",
        parent="application",
        anchors=_anchors("application__"),
        cohorts=_cohorts("application__"),
        fields=fields,
        portable=True,
    )


register(
    _part_of_application(
        ApplicationDocument,
        [
            ("kind", _("kind")),
            ("filename", _("file name")),
            ("content_type", _("content type")),
            ("size", _("size in bytes")),
            ("received_at", _("received")),
        ],
    )
)
register(
    _part_of_application(
        ApplicationNote,
        [("kind", _("kind")), ("text", _("note")), ("written_at", _("written"))],
    )
)

"""The courses' parts of Min side: registrations, the CLE record, certificates (R13, R14).

Declared here and discovered by the portal, which imports no domain app:

- ``courses.registrations``: the person's registrations, upcoming and past,
  with their status (a place on the waiting list with its position), a cancel
  button while the course has not started, and a certificate (PDF) for each
  attended course;
- ``courses.cle``: hours of continuing legal education in the current and the
  previous period against the configured requirement (:mod:`courses.cle`).

The pages under ``/me/courses/`` (cancel, certificate) serve only the
signed-in person's own registrations: any other id is a 404, the same as an id
that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from personvern.core.models import Person
from personvern.courses import services
from personvern.courses.certificates import certificate_download, certificate_registration
from personvern.courses.cle import cle_record
from personvern.courses.models import Registration, RegistrationStatus
from personvern.portal.auth import person_actor, person_required
from personvern.portal.registry import Section, register_pages, register_section

# -- reads -------------------------------------------------------------------------


def _with_waiting_position(rows: Any) -> Any:
    """Annotate each registration with its place in its course's waiting list (1 = next).

    One correlated subquery: the wait-listed registrations of the same course
    ahead of this one (earlier ``registered_at``, then lower id), plus one.
    """
    ahead = (
        Registration.objects.filter(
            course=OuterRef("course"), status=RegistrationStatus.WAITLISTED
        )
        .filter(
            Q(registered_at__lt=OuterRef("registered_at"))
            | Q(registered_at=OuterRef("registered_at"), pk__lt=OuterRef("pk"))
        )
        .order_by()
        .values("course")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return rows.annotate(
        waiting_ahead=Coalesce(Subquery(ahead, output_field=IntegerField()), Value(0))
    )


def _nights(registration: Registration) -> int:
    """How many hotel nights the registration booked (0 without a stay)."""
    if not registration.overnight_stay or not registration.arrival_date or not (
        registration.departure_date
    ):
        return 0
    return (registration.departure_date - registration.arrival_date).days


def person_registrations(person: Person, now: datetime) -> dict[str, list[Registration]]:
    """The person's registrations split into ``upcoming`` (not ended) and ``past``."""
    rows = _with_waiting_position(
        Registration.objects.select_related("course", "course__venue")
        .filter(person=person)
        .order_by("course__starts_at", "course__slug", "registered_at", "pk")
    )
    upcoming: list[Registration] = []
    past: list[Registration] = []
    for registration in rows:
        registration.may_cancel = services.participant_may_cancel(
            registration, now=now
        )
        registration.has_certificate = (
            registration.attended is True
            and registration.status != RegistrationStatus.CANCELLED
        )
        registration.nights = _nights(registration)
        if registration.status == RegistrationStatus.WAITLISTED:
            registration.waiting_position = (
                registration.waiting_ahead + 1
            )
        if registration.course.ends_at >= now:
            upcoming.append(registration)
        else:
            past.append(registration)
    past.reverse()  # the most recent first
    return {"upcoming": upcoming, "past": past}


def registrations_context(person: Person, now: datetime) -> dict[str, Any] | None:
    parts = person_registrations(person, now)
    if not parts["upcoming"] and not parts["past"]:
        return None
    return parts


def cle_context(person: Person, now: datetime) -> dict[str, Any] | None:
    record = cle_record(person, now)
    if not record.registrations:
        return None
    return {"record": record, "rules": record.rules}


register_section(
    Section(
        key="courses.registrations",
        title=_("My course registrations"),
        template="courses/portal/registrations.html",
        context=registrations_context,
        order=10,
    )
)
register_section(
    Section(
        key="courses.cle",
        title=_("My continuing legal education"),
        template="courses/portal/cle.html",
        context=cle_context,
        order=20,
    )
)


# -- pages -------------------------------------------------------------------------


def _own_registration(person: Person, registration_id: int) -> Registration:
    registration = (
        Registration.objects.select_related("course", "course__venue", "person")
        .filter(person=person, pk=registration_id)
        .first()
    )
    if registration is None:
        raise Http404("no such registration of yours")
    return registration


@never_cache
@require_http_methods(["GET", "POST"])
@person_required
def cancel(request: HttpRequest, registration_id: int) -> HttpResponse:
    """Confirm, then cancel, one of the signed-in person's registrations."""
    person = request.portal_person  # type: ignore[attr-defined]
    registration = _own_registration(person, registration_id)
    now = timezone.now()
    error = None
    if request.method == "POST":
        try:
            services.participant_cancel(
                registration=registration, actor=person_actor(person), now=now
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return HttpResponseRedirect(
                reverse("portal:portal-courses:cancel", args=[registration.pk]) + "?done=1"
            )
        registration = _own_registration(person, registration_id)
    return render(
        request,
        "courses/portal/cancel.html",
        {
            "registration": registration,
            "course": registration.course,
            "may_cancel": services.participant_may_cancel(registration, now=now),
            "nights": _nights(registration),
            "done": request.GET.get("done") == "1"
            and registration.status == RegistrationStatus.CANCELLED,
            "error": error,
        },
        status=409 if error else 200,
    )


@never_cache
@require_GET
@person_required
def certificate(request: HttpRequest, registration_id: int) -> HttpResponse:
    """The course certificate (PDF) of one of the person's attended courses."""
    person = request.portal_person  # type: ignore[attr-defined]
    registration = certificate_registration(person, registration_id)
    if registration is None:
        raise Http404("no certificate of yours")
    lang = "en" if (translation.get_language() or "").startswith("en") else "nb"
    pdf = certificate_download(registration=registration, lang=lang, actor=person_actor(person))
    response = HttpResponse(pdf.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename}"'
    return response


register_pages(
    "courses",
    [
        path("registrations/<int:registration_id>/cancel/", cancel, name="cancel"),
        path("certificate/<int:registration_id>.pdf", certificate, name="certificate"),
    ],
)

"""Public course pages: the list, the course page with its registration form, and
the mailed link that cancels a registration. Thin: the services do the work."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from personvern.core.ratelimits import configured_rate
from personvern.courses import mails, selectors, services
from personvern.courses.forms import CatalogueFilterForm, RegistrationForm
from personvern.courses.models import Course, RegistrationStatus

PUBLIC_ACTOR = "public:registration-form"
#: Who the audit log names for a cancellation through the mailed link.
LINK_ACTOR = "participant:cancel-link"
#: Courses on one page of the list.
PAGE_SIZE = 20
logger = logging.getLogger(__name__)


def course_list(request: HttpRequest) -> HttpResponse:
    """Upcoming courses, searched and filtered by a plain GET form, a page at a time."""
    now = timezone.now()
    months = [
        (f"{first:%Y-%m}", formats.date_format(first, "F Y").capitalize())
        for first in selectors.catalogue_months(now=now)
    ]
    form = CatalogueFilterForm(
        request.GET or None, subjects=selectors.catalogue_subjects(now=now), months=months
    )
    filters = form.filters() if request.GET else {}
    courses = selectors.course_catalogue(now=now, **filters)
    page = Paginator(courses, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "courses/list.html", {
        "form": form,
        "page": page,
        "filtered": any(filters.values()),
        "query": query.urlencode(),
    })


def _course_or_404(slug: str, *, seats: bool = True) -> Course:
    try:
        return selectors.course_page(slug) if seats else selectors.course_to_register(slug)
    except Course.DoesNotExist:
        raise Http404 from None


def _registration_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The course page; on a valid POST register and redirect to the receipt.

    Posts are limited per client address (``PERSONVERN_RATE_LIMIT_REGISTRATION``;
    over it the answer is 429). Not per submitted address: a 429 that depended on
    the address would tell whether someone else had just used it (ADR 0012); the
    mails to one address are limited in the service instead.
    """
    # A post reads the course without its seat counts (the service counts under
    # the course's lock); the page shown again after a refused post has them.
    posted = request.method == "POST"
    course = _course_or_404(slug, seats=not posted)
    now = timezone.now()
    open_ = course.registration_open and now < course.starts_at
    form = RegistrationForm(request.POST or None, course=course) if open_ else None
    if request.method == "POST" and form is not None and form.is_valid():
        kwargs = form.service_kwargs()
        receipt = HttpResponseRedirect(reverse("courses:registered", kwargs={"slug": course.slug}))
        try:
            # The mail is queued in the registration's transaction: none for a
            # registration that rolled back, none lost for one that committed.
            services.registration_submit(
                course=course, actor=PUBLIC_ACTOR,
                language=translation.get_language() or "", **kwargs
            )
        except ValidationError as exc:
            if services.is_already_registered(exc):
                # Answered like a new registration, so the form tells no one who is
                # registered for what; the address's owner is told by e-mail (ADR 0012).
                services.registration_duplicate_notice_send(
                    course=course, email=kwargs["email"], actor=PUBLIC_ACTOR
                )
                return receipt
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            return receipt
    if posted:
        course = _course_or_404(slug)  # the form's errors shown with the seat counts
    return render(request, "courses/detail.html", {
        "course": course,
        "form": form,
        "started": now >= course.starts_at,
        "over": now >= course.ends_at,
        "full": course.seats_left <= 0,  # type: ignore[attr-defined]
        **_course_facts(course),
    })


def _course_facts(course: Course) -> dict[str, Any]:
    return {
        "programme": [line.strip() for line in course.programme.splitlines() if line.strip()],
        "hours": {
            "legal": mails.format_hours(course.legal_hours),
            "non_legal": mails.format_hours(course.non_legal_hours),
            "ethics": mails.format_hours(course.ethics_hours),
            "total": mails.format_hours(course.total_hours),
        },
        "price": mails.format_price(course.price),
    }


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(group="registration", key="ip", rate=configured_rate, method="POST")
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The course page, with the registration form on it."""
    return _registration_page(request, slug)


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(group="registration", key="ip", rate=configured_rate, method="POST")
def register(request: HttpRequest, slug: str) -> HttpResponse:
    """The former registration page: the form now sits on the course page.

    Links to it lead there; a form still posted here (a page open since before)
    is handled as the course page handles it, under the same limit.
    """
    if request.method == "POST":
        return _registration_page(request, slug)
    course = get_object_or_404(Course, slug=slug)
    return HttpResponseRedirect(reverse("courses:detail", args=[course.slug]))


def registered(request: HttpRequest, slug: str) -> HttpResponse:
    """The receipt page after registering: the same for everyone, whatever the outcome."""
    course = get_object_or_404(Course, slug=slug)
    return render(request, "courses/registered.html", {"course": course})


@require_http_methods(["GET", "HEAD", "POST"])
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    """The mailed link that cancels a registration without signing in (ADR 0020).

    ``GET`` shows what would be cancelled and a button, and changes nothing:
    mail scanners and link previews open links in messages. ``POST`` (the
    button, with its CSRF token) cancels. A token that is not ours, or names a
    registration that is gone, is a 404; an expired token, a cancelled
    registration or a course that has started is a 410 that says which.
    """
    try:
        registration = mails.registration_from_cancel_token(token)
    except mails.CancelLinkExpired:
        return render(request, "courses/cancel_gone.html", {"reason": "expired"}, status=410)
    if registration is None:
        return render(request, "courses/cancel_invalid.html", status=404)
    course = registration.course
    context = {"course": course, "registration": registration}
    if registration.status == RegistrationStatus.CANCELLED:
        return render(request, "courses/cancel_gone.html",
                      {**context, "reason": "cancelled"}, status=410)
    if not services.participant_may_cancel(registration):
        return render(request, "courses/cancel_gone.html",
                      {**context, "reason": "started"}, status=410)
    if request.method == "POST":
        try:
            services.participant_cancel(registration=registration, actor=LINK_ACTOR)
        except ValidationError:
            # Cancelled or started between the page and the button.
            registration.refresh_from_db(fields=["status"])
            reason = "cancelled" if registration.status == RegistrationStatus.CANCELLED \
                else "started"
            return render(request, "courses/cancel_gone.html",
                          {**context, "reason": reason}, status=410)
        return render(request, "courses/cancel_done.html", context)
    return render(request, "courses/cancel.html", {
        **context, "waitlisted": registration.status == RegistrationStatus.WAITLISTED,
    })

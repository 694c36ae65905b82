"""Public course pages: the registration form (thin: the service does the work)."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from personvern.core.ratelimits import configured_rate
from personvern.courses import services
from personvern.courses.forms import RegistrationForm
from personvern.courses.models import Course

PUBLIC_ACTOR = "public:registration-form"
logger = logging.getLogger(__name__)


@require_http_methods(["GET", "POST"])
@ratelimit(group="registration", key="ip", rate=configured_rate, method="POST")
def register(request: HttpRequest, slug: str) -> HttpResponse:
    """Show the course's registration form; on a valid POST register and redirect.

    Posts are limited per client address (``PERSONVERN_RATE_LIMIT_REGISTRATION``;
    over it the answer is 429). Not per submitted address: a 429 that depended on
    the address would tell whether someone else had just used it (ADR 0012); the
    mails to one address are limited in the service instead.
    """
    course = get_object_or_404(Course.objects.select_related("venue"), slug=slug)
    form = RegistrationForm(request.POST or None, course=course)
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        receipt = HttpResponseRedirect(reverse("courses:registered", kwargs={"slug": course.slug}))
        try:
            # The receipt is queued in the registration's transaction: no mail for
            # a registration that rolled back, none lost for one that committed.
            with transaction.atomic():
                registration = services.registration_create(
                    course=course, actor=PUBLIC_ACTOR, **kwargs
                )
                services.registration_receipt_send(
                    registration=registration, email=kwargs["email"], actor=PUBLIC_ACTOR
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
    return render(request, "courses/register.html", {"course": course, "form": form})


def registered(request: HttpRequest, slug: str) -> HttpResponse:
    """The receipt page after registering: the same for everyone, whatever the outcome."""
    course = get_object_or_404(Course, slug=slug)
    return render(request, "courses/registered.html", {"course": course})

"""Public course pages: the registration form (thin: the service does the work)."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from personvern.courses import services
from personvern.courses.forms import RegistrationForm
from personvern.courses.models import Course

PUBLIC_ACTOR = "public:registration-form"
logger = logging.getLogger(__name__)


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, slug: str) -> HttpResponse:
    """Show the course's registration form; on a valid POST register and redirect."""
    course = get_object_or_404(Course.objects.select_related("venue"), slug=slug)
    form = RegistrationForm(request.POST or None, course=course)
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        receipt = HttpResponseRedirect(reverse("courses:registered", kwargs={"slug": course.slug}))
        try:
            registration = services.registration_create(
                course=course, actor=PUBLIC_ACTOR, **kwargs
            )
        except ValidationError as exc:
            if services.is_already_registered(exc):
                # Answered like a new registration, so the form tells no one who is
                # registered for what; the address's owner is told by e-mail (ADR 0012).
                _mail(services.registration_duplicate_notice_send,
                      course=course, email=kwargs["email"], actor=PUBLIC_ACTOR)
                return receipt
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            _mail(services.registration_receipt_send,
                  registration=registration, email=kwargs["email"], actor=PUBLIC_ACTOR)
            return receipt
    return render(request, "courses/register.html", {"course": course, "form": form})


def _mail(send: Callable[..., None], **kwargs: Any) -> None:
    """Send a receipt; the registration stands even when the mail server is down."""
    try:
        send(**kwargs)
    except (OSError, smtplib.SMTPException) as exc:
        # The error's text can carry the recipient's address: log its kind only.
        logger.error("could not send the registration e-mail (%s): %s", send.__name__,
                     type(exc).__name__)


def registered(request: HttpRequest, slug: str) -> HttpResponse:
    """The receipt page after registering: the same for everyone, whatever the outcome."""
    course = get_object_or_404(Course, slug=slug)
    return render(request, "courses/registered.html", {"course": course})

"""Public course pages: the registration form (thin: the service does the work)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from personvern.courses import services
from personvern.courses.forms import RegistrationForm
from personvern.courses.models import Course, RegistrationStatus

PUBLIC_ACTOR = "public:registration-form"


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, slug: str) -> HttpResponse:
    """Show the course's registration form; on a valid POST register and redirect."""
    course = get_object_or_404(Course.objects.select_related("venue"), slug=slug)
    form = RegistrationForm(request.POST or None, course=course)
    if request.method == "POST" and form.is_valid():
        try:
            registration = services.registration_create(
                course=course, actor=PUBLIC_ACTOR, **form.service_kwargs()
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
        else:
            url = reverse("courses:registered", kwargs={"slug": course.slug})
            return HttpResponseRedirect(f"{url}?status={registration.status}")
    return render(request, "courses/register.html", {"course": course, "form": form})


def registered(request: HttpRequest, slug: str) -> HttpResponse:
    """The receipt page after registering."""
    course = get_object_or_404(Course, slug=slug)
    waitlisted = request.GET.get("status") == RegistrationStatus.WAITLISTED
    return render(request, "courses/registered.html", {"course": course, "waitlisted": waitlisted})

"""Public pages of recruitment: the open job application form and its receipt (R24, R27).

Applications for advertised positions come through the job portal (R25); the
site takes only open applications. Views are thin: the form validates, the
service scans, stores and queues the receipt.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from personvern.core.ratelimits import configured_rate
from personvern.recruitment.forms import OpenApplicationForm
from personvern.recruitment.services import open_application_keep, open_application_submit
from personvern.site.uploads import MAX_UPLOAD_BYTES, allowed_extensions

ACTOR = "public:job-application"


@require_http_methods(["GET", "POST"])
@ratelimit(group="job-application", key="ip", rate=configured_rate, method="POST")
def apply(request: HttpRequest) -> HttpResponse:
    """The open application form; a valid one is stored and answered with a receipt."""
    form = OpenApplicationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            open_application_submit(
                email=data["email"], given_name=data["given_name"],
                family_name=data["family_name"], phone=data["phone"], message=data["message"],
                cv=data["cv"], letter=data["letter"], actor=ACTOR,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return HttpResponseRedirect(reverse("recruitment:apply-received"))
    return render(
        request,
        "recruitment/apply.html",
        {
            "form": form,
            "keep": open_application_keep(),
            "allowed_types": allowed_extensions(),
            "max_size": MAX_UPLOAD_BYTES,
            "notice_url": reverse("privacy-notice"),
        },
    )


def _add_errors(form: OpenApplicationForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@require_GET
def apply_received(request: HttpRequest) -> HttpResponse:
    """The receipt after an open application: repeats nothing of what was sent."""
    return render(request, "recruitment/apply_received.html", {"keep": open_application_keep()})

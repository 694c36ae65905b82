"""Public pages of recruitment: the open job application form and its receipt."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from personvern.core.ratelimits import configured_rate


@require_http_methods(["GET", "POST"])
@ratelimit(group="job-application", key="ip", rate=configured_rate, method="POST")
def apply(request: HttpRequest) -> HttpResponse:
    """The open job application form (work in progress)."""
    return render(request, "recruitment/apply.html", {})


@require_GET
def apply_received(request: HttpRequest) -> HttpResponse:
    """The receipt after an open application."""
    return render(request, "recruitment/apply_received.html", {})

"""Error pages of the site that need a view: the CSRF refusal (``CSRF_FAILURE_VIEW``).

The 404 and 500 pages are templates (``templates/404.html``, ``500.html``)
rendered by Django's own handlers; the 500 page extends nothing, so that it
renders even when the error lies in the page frame.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

CSRF_FAILURE_TITLE = _("The form could not be accepted")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A translated 403 in the site frame when a form's CSRF check fails.

    ``reason`` (Django's technical cause) is not shown: it helps no visitor.
    """
    return render(
        request, "site/csrf_failure.html", {"title": CSRF_FAILURE_TITLE, "hide_banner": True},
        status=403,
    )

"""The rights app's part of Min side: the person's privacy requests and a form for a new one.

Declared here (autodiscovered by the portal, which imports no domain app).
Pages under ``/me/rights/``: make a request, see one, download its file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from personvern.core.models import Person
from personvern.portal.auth import person_required
from personvern.portal.registry import Section, register_pages, register_section
from personvern.rights.engine.files import export_path
from personvern.rights.forms import PortalRequestForm
from personvern.rights.models import Request
from personvern.rights.selfservice import (
    FILE_TYPES,
    available_until,
    bundle_download,
    request_make_signed_in,
)


def _rows(person: Person) -> list[dict[str, Any]]:
    requests = Request.objects.filter(person=person).order_by("-received_at", "-pk")
    return [
        {
            "request": request,
            "file": request.type in FILE_TYPES and export_path(request) is not None,
            "until": available_until(request),
        }
        for request in requests
    ]


def requests_context(person: Person, now: datetime) -> Mapping[str, Any] | None:
    # The form is on every page (the section is ``always``): the template gets it either way.
    rows = _rows(person)
    return {"rows": rows} if rows else None


@never_cache
@person_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    """Make a privacy request on Min side; verified by the sign-in (ADR 0018)."""
    person = request.portal_person  # type: ignore[attr-defined]
    form = PortalRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = request_make_signed_in(
                person=person, type=form.cleaned_data["type"],
                details=form.cleaned_data.get("details", ""),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return HttpResponseRedirect(
                reverse("portal:portal-rights:request", args=[made.public_id]) + "?made=1"
            )
    return render(request, "rights/portal/request_new.html", {"form": form})


@never_cache
@person_required
@require_GET
def request_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    """One of the person's own requests (also the receipt of a new one)."""
    person = request.portal_person  # type: ignore[attr-defined]
    case = Request.objects.filter(public_id=public_id, person=person).first()
    if case is None:
        raise Http404
    return render(
        request,
        "rights/portal/request_detail.html",
        {
            "case": case,
            "made": request.GET.get("made") == "1",
            "file": case.type in FILE_TYPES and export_path(case) is not None,
            "until": available_until(case),
        },
    )


@never_cache
@person_required
@require_GET
def request_download(request: HttpRequest, public_id: str) -> HttpResponseBase:
    """The file of the person's own fulfilled access or portability request (audited)."""
    person = request.portal_person  # type: ignore[attr-defined]
    download = bundle_download(person=person, public_id=public_id)
    if download is None:
        raise Http404
    return FileResponse(
        download.path.open("rb"), as_attachment=True, filename=download.filename,
        content_type=download.content_type,
    )


register_section(
    Section(
        key="rights.requests",
        title=_("Privacy requests"),
        template="rights/portal/section.html",
        context=requests_context,
        order=80,
        always=True,
        base_context=lambda: {"form": PortalRequestForm()},
    )
)

register_pages(
    "rights",
    [
        path("new/", request_new, name="new"),
        path("requests/<uuid:public_id>/", request_detail, name="request"),
        path("requests/<uuid:public_id>/download/", request_download, name="download"),
    ],
)

"""Back-office pages of the rights app beside the request admin (served under its URLs).

- ``register``: any staff member registers a privacy request received on a
  person's behalf (R40); it goes to the data protection officer. Registering
  shows no other request (only the DPO lists and opens them, ADR 0017).
- ``overview``: the data protection officer's page for the day's work.
- ``ropa``: the record of processing (Art. 30(1) and 30(2)) and its download.
- ``file``: the file of a fulfilled access or portability request (audited).

Thin: forms check input, services write and audit, selectors read.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from personvern.rights.deadlines import received_date
from personvern.rights.models import Channel, Request, RequestType

#: Holding this permission makes a staff member the data protection officer here.
DPO_PERMISSION = "rights.change_request"
REGISTER_PERMISSION = "rights.add_request"

#: How a request can reach a staff member (the others are the system's own doors).
STAFF_CHANNELS = (Channel.PHONE, Channel.POST, Channel.EMAIL, Channel.STAFF)

REGISTERED = _(
    "The request is registered as case %(case)s and sent to the data protection officer. "
    "It must be answered by %(due)s."
)

#: The record's columns as the back office shows them (the export's ids, our labels).
ROPA_LABELS: dict[str, Any] = {
    "activity": _("Processing activity"),
    "controller": _("Controller (name and contact)"),
    "processor": _("Processor (name and contact)"),
    "purposes": _("Purposes"),
    "legal_basis": _("Legal basis"),
    "data_subjects": _("Categories of data subjects"),
    "data_categories": _("Categories of personal data"),
    "recipients": _("Recipients"),
    "source": _("Source"),
    "third_country_transfers": _("Transfers to third countries"),
    "retention": _("Time limits for erasure"),
    "security_measures": _("Technical and organisational measures"),
    "our_choice": _("Open points (our choice)"),
}
ROPA_FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "json-ld": ("application/ld+json", "jsonld"),
}


def _actor(request: HttpRequest) -> str:
    return f"staff:{request.user.get_username()}"


def is_dpo(user: Any) -> bool:
    return bool(user.is_active and user.is_staff and user.has_perm(DPO_PERMISSION))


def _attrs(*, type: str, label: Any) -> dict[str, Any]:  # noqa: A002 - the input's type
    """A native date or time input, named for screen readers (the lazy label is
    rendered in the reader's language)."""
    return {"type": type, "aria-label": label}


class RegisterRequestForm(forms.Form):
    given_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    family_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("E-mail address"),
        required=False,
        help_text=_("The address the person uses with us, if you have it."),
    )
    type = forms.ChoiceField(
        label=_("Right asked for"),
        choices=[(RequestType.UNCLASSIFIED.value, _("Not clear yet")),
                 *((t.value, t.label) for t in RequestType if t != RequestType.UNCLASSIFIED)],
        help_text=_("If you are not sure, choose “Not clear yet”: the deadline runs all the same."),
    )
    channel = forms.ChoiceField(
        label=_("How it was received"), choices=[(c.value, c.label) for c in STAFF_CHANNELS]
    )
    received_at = forms.SplitDateTimeField(
        label=_("When it was received"),
        widget=forms.SplitDateTimeWidget(
            date_attrs=_attrs(type="date", label=_("Date received")),
            time_attrs=_attrs(type="time", label=_("Time received")),
            date_format="%Y-%m-%d", time_format="%H:%M",
        ),
        input_date_formats=["%Y-%m-%d"],
        input_time_formats=["%H:%M", "%H:%M:%S"],
        help_text=_(
            "The day and time the person asked, not now: the one-month deadline runs from then."
        ),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What the person asked for, in their words, and how to reach them."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("given_name") or data.get("family_name") or data.get("email")):
            raise ValidationError(_("Give the person's name or e-mail address."))
        received = data.get("received_at")
        if received is not None and received > timezone.now():
            self.add_error("received_at", _("A request cannot be received in the future."))
        return data


def _context(request: HttpRequest, site: admin.AdminSite, title: Any, **extra: Any) -> dict:
    return {**site.each_context(request), "title": title, "opts": Request._meta, **extra}


def register_view(request: HttpRequest, site: admin.AdminSite) -> HttpResponse:
    """Any staff member registers a request received on a person's behalf (R40)."""
    from personvern.rights.routing import request_register_by_staff

    if not request.user.has_perm(REGISTER_PERMISSION):
        raise PermissionDenied
    initial = {"received_at": timezone.localtime().replace(second=0, microsecond=0)}
    form = RegisterRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = request_register_by_staff(
                type=data["type"], channel=data["channel"], received_at=data["received_at"],
                given_name=data["given_name"], family_name=data["family_name"],
                email=data["email"], notes=data["notes"], actor=_actor(request),
            )
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(
                request,
                str(REGISTERED) % {"case": made, "due": formats.date_format(made.due_legal)},
            )
            if is_dpo(request.user):
                return HttpResponseRedirect(
                    reverse(f"{site.name}:rights_request_change", args=[made.pk])
                )
            return HttpResponseRedirect(reverse(f"{site.name}:index"))
    return TemplateResponse(
        request, "admin/rights/register.html",
        _context(request, site, _("Register a privacy request"), form=form),
    )


def overview_view(request: HttpRequest, site: admin.AdminSite) -> HttpResponse:
    """The data protection officer's overview."""
    from personvern.rights.overview import dpo_overview

    if not is_dpo(request.user):
        raise PermissionDenied
    if request.method == "POST":  # "Recalculate the forecast": made afresh, then shown
        dpo_overview(now=timezone.now(), refresh_forecast=True)
        return HttpResponseRedirect(request.path + "#retention")
    overview = dpo_overview(now=timezone.now())
    return TemplateResponse(
        request, "admin/rights/overview.html",
        _context(request, site, _("Data protection overview"), overview=overview),
    )


def ropa_view(request: HttpRequest, site: admin.AdminSite) -> HttpResponse:
    """The record of processing activities, both parts, in the reader's language."""
    from personvern.core.policy import current_policy
    from personvern.policy.ropa import PART_CONTROLLER, ropa_rows

    if not is_dpo(request.user):
        raise PermissionDenied
    lang = "nb" if (translation.get_language() or "nb").startswith("nb") else "en"
    rows = ropa_rows(current_policy(), lang)
    entries = [
        {
            "id": row["activity_id"],
            "title": row["activity"],
            "fields": [
                (label, row[key]) for key, label in ROPA_LABELS.items()
                if key != "activity" and row.get(key)
            ],
        }
        for row in rows
    ]
    return TemplateResponse(
        request, "admin/rights/ropa.html",
        _context(
            request, site, _("Record of processing activities"),
            controller=[e for e, r in zip(entries, rows, strict=True)
                        if r["part"] == PART_CONTROLLER],
            processor=[e for e, r in zip(entries, rows, strict=True)
                       if r["part"] != PART_CONTROLLER],
            lang=lang, formats=list(ROPA_FORMATS),
        ),
    )


def ropa_download(request: HttpRequest, site: admin.AdminSite, fmt: str) -> HttpResponse:
    """The record as the CLI writes it (``personvern policy ropa``): CSV, XLSX or JSON-LD."""
    from personvern.core.policy import current_policy
    from personvern.policy.ropa import ropa_csv, ropa_jsonld, ropa_xlsx

    if not is_dpo(request.user):
        raise PermissionDenied
    if fmt not in ROPA_FORMATS:
        raise Http404
    lang = request.GET.get("lang", "nb")
    lang = lang if lang in ("nb", "en") else "nb"
    policy = current_policy()
    data: str | bytes
    if fmt == "csv":
        data = ropa_csv(policy, lang)
    elif fmt == "xlsx":
        data = ropa_xlsx(policy, lang)
    else:
        data = json.dumps(ropa_jsonld(policy), ensure_ascii=False, indent=2) + "\n"
    content_type, suffix = ROPA_FORMATS[fmt]
    response = HttpResponse(data, content_type=content_type)
    name = f"record-of-processing-{received_date(timezone.now()).isoformat()}-{lang}.{suffix}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def file_view(request: HttpRequest, site: admin.AdminSite, pk: int) -> HttpResponseBase:
    """The file of a fulfilled access or portability request, for the DPO (audited)."""
    from personvern.rights.selfservice import bundle_file_for_staff

    if not is_dpo(request.user):
        raise PermissionDenied
    case = get_object_or_404(Request.objects.select_related("person"), pk=pk)
    try:
        download = bundle_file_for_staff(request=case, actor=_actor(request))
    except ValidationError as exc:
        raise Http404(exc.messages[0]) from exc
    if download is None:
        raise Http404
    return FileResponse(
        download.path.open("rb"), as_attachment=True, filename=download.filename,
        content_type=download.content_type,
    )

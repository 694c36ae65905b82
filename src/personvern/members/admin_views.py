"""The back office's member-file upload (issue 9; docs/members.md).

Course administrators upload a file an organisation sent them: the same checks
and service as ``personvern members import``, errors shown by row and column,
nothing written unless the whole file is good. Mounted on the membership admin
(:class:`personvern.core.admin.MembershipAdmin`), which stays read-only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from personvern.core.models import Organisation
from personvern.members.feeds import MEMBER_COLUMNS, FeedRefused, check_members, read_csv
from personvern.members.services import members_import
from personvern.site.uploads import MAX_UPLOAD_BYTES

#: Who may upload: the roles that keep memberships (course administrators).
UPLOAD_PERMISSIONS = ("core.add_membership", "core.change_membership")
#: The largest member file the form takes: what the site takes in one request
#: (about 90,000 members; a larger register goes through the command or the API).
MAX_FILE_BYTES = MAX_UPLOAD_BYTES
FULL_NEEDS_FEED_PERMISSION = _(
    "A full file ends every membership it does not list, so it needs the permission to "
    "receive %(organisation)s's feed; ask the administrator, or upload without this box."
)

FILE_TOO_LARGE = _("The file is larger than %(mb)s MB.")
UPLOADED = _(
    "%(organisation)s: %(rows)s members read. %(started)s started, %(ended)s ended, "
    "%(changed)s changed, %(unchanged)s unchanged; %(persons)s persons created; "
    "%(subscriptions)s newsletter subscriptions ended."
)
NOTHING_CHANGED = _("%(organisation)s: nothing changed, everything was already as the file says.")


class MemberFileForm(forms.Form):
    organisation = forms.ChoiceField(label=_("Organisation"), choices=Organisation.choices)
    file = forms.FileField(
        label=_("Member file (CSV)"),
        help_text=_("Columns member_id, email, given_name, family_name, member_from, "
                    "member_to; dates as YYYY-MM-DD."),
    )
    full = forms.BooleanField(
        label=_("The file lists every member: end the memberships it does not list"),
        required=False,
    )
    as_of = forms.DateField(
        label=_("Date of the file"), required=False,
        help_text=_("The day a full file ends the missing memberships (empty: today)."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(FILE_TOO_LARGE, params={"mb": MAX_FILE_BYTES // 2**20})
        return upload


def member_upload_view(model_admin: ModelAdmin[Any], request: HttpRequest) -> HttpResponse:
    """Upload a member file; on success back to the memberships with the summary."""
    if not all(request.user.has_perm(p) for p in UPLOAD_PERMISSIONS):
        raise PermissionDenied
    form = MemberFileForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data["organisation"]
        if form.cleaned_data["full"] and not request.user.has_perm(f"core.feed_{organisation}"):
            # Ending memberships wholesale is the organisation's feed's power (ADR 0023),
            # not every course administrator's.
            form.add_error("full", FULL_NEEDS_FEED_PERMISSION % {
                "organisation": Organisation(organisation).label})
    if request.method == "POST" and form.is_valid():
        organisation = form.cleaned_data["organisation"]
        try:
            rows = check_members(read_csv(form.cleaned_data["file"].read(), MEMBER_COLUMNS))
            summary = members_import(
                organisation=organisation, rows=rows, full=form.cleaned_data["full"],
                as_of=form.cleaned_data["as_of"],
                actor=f"staff:{request.user.get_username()}", source="admin",
            )
        except FeedRefused as exc:
            problems = exc.problems
        else:
            name = Organisation(organisation).label
            if summary.nothing_changed:
                messages.info(request, NOTHING_CHANGED % {"organisation": name})
            else:
                messages.success(request, UPLOADED % {
                    "organisation": name, "rows": summary.rows, "started": summary.started,
                    "ended": summary.ended, "changed": summary.changed,
                    "unchanged": summary.unchanged, "persons": summary.persons_created,
                    "subscriptions": summary.subscriptions_ended,
                })
            return HttpResponseRedirect(reverse("admin:core_membership_changelist"))
    opts = model_admin.model._meta
    return TemplateResponse(request, "admin/core/membership/upload.html", {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": _("Upload a member file"),
        "form": form,
        "problems": problems,
        "changelist_url": reverse("admin:core_membership_changelist"),
    })

"""Back office: files received through the secure channel (read-only, downloadable).

Files are scanned for malware before they are stored (R21). Only a file whose
scan is ``clean`` can be downloaded; the list shows each file's scan status. A
download is always served as an attachment with ``nosniff``, never rendered in
the browser.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from personvern.core.admin_scoping import ScopedModelAdmin
from personvern.core.scanning import ScanStatus
from personvern.site.models import SecureUpload
from personvern.site.services import NOT_CLEAN, secure_upload_open


@admin.register(SecureUpload)
class SecureUploadAdmin(ScopedModelAdmin):
    list_display = ("filename", "content_type", "size", "received_at", "inquiry", "scan_status",
                    "download")
    list_filter = ("scan_status",)
    readonly_fields = ("inquiry", "filename", "content_type", "size", "sha256", "received_at",
                       "scan_status", "scanned_at", "download")
    exclude = ("content",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # files arrive through the secure form only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deleted with their inquiry by retention or erasure

    @admin.display(description=_("Download"))
    def download(self, obj: SecureUpload) -> str:
        if obj.scan_status != ScanStatus.CLEAN:
            return format_html("{}", _("not available"))
        url = reverse("admin:site_secureupload_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="site_secureupload_download",
            )
        ]
        return extra + super().get_urls()

    def download_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The file as an attachment, for staff who may view uploads; clean files only.

        Read through the admin's scoped queryset (ADR 0017): a file of a person
        hidden from the staff member is "not found", whatever id the URL holds.
        The download is audited as an access to the person's data.
        """
        upload = self.get_object(request, str(pk))
        if upload is None:
            raise Http404
        if not self.has_view_permission(request, upload):
            raise PermissionDenied
        try:
            content = secure_upload_open(
                upload=upload, actor=f"staff:{request.user.get_username()}"
            )
        except ValidationError:
            messages.error(request, NOT_CLEAN)
            return HttpResponseRedirect(reverse("admin:site_secureupload_changelist"))
        response = HttpResponse(content, content_type=upload.content_type)
        response["Content-Disposition"] = f'attachment; filename="{upload.pk}-upload"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "no-store"
        return response

"""Back office: files received through the secure channel (read-only, downloadable).

Files are NOT scanned for malware yet (R21): the list says so, and a download is
always served as an attachment with ``nosniff``, never rendered in the browser.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from personvern.site.models import SecureUpload


@admin.register(SecureUpload)
class SecureUploadAdmin(admin.ModelAdmin):
    list_display = ("filename", "content_type", "size", "received_at", "inquiry", "download")
    readonly_fields = ("inquiry", "filename", "content_type", "size", "sha256", "received_at",
                       "download")
    exclude = ("content",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # files arrive through the secure form only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deleted with their inquiry by retention or erasure

    @admin.display(description=_("Download (not scanned for malware)"))
    def download(self, obj: SecureUpload) -> str:
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
        """The file as an attachment, for staff who may view uploads."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        upload = get_object_or_404(SecureUpload, pk=pk)
        response = HttpResponse(bytes(upload.content), content_type=upload.content_type)
        response["Content-Disposition"] = f'attachment; filename="{upload.pk}-upload"'
        response["X-Content-Type-Options"] = "nosniff"
        return response

"""URL map: thin front doors over the services."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("personvern.site_urls")),
]

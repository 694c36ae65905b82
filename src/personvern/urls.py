"""URL map: thin front doors over the services."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("personvern.api.urls")),
    path("courses/", include("personvern.courses.urls")),
    path("competitions/", include("personvern.competitions.urls")),
    path("newsletter/", include("personvern.newsletter.urls")),
    path("me/", include("personvern.portal.urls")),
    path("privacy/requests/", include("personvern.rights.urls")),
    path("jobs/", include("personvern.recruitment.urls")),
    path("", include("personvern.site_urls")),
]

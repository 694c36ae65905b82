"""The public URL map as the site URLconf will have it (site pages + course pages).

Tests use it until ``personvern.site_urls`` includes both; it mirrors that file.
"""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("courses/", include("personvern.courses.urls")),
    path("", include("personvern.site.urls")),
]

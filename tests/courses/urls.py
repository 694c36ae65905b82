"""URL map for the courses view tests (the lead's site_urls includes the same URLs)."""

from django.urls import include, path

urlpatterns = [path("courses/", include("personvern.courses.urls"))]

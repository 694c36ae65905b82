"""URL map for the API tests until the project's urls include personvern.api.urls."""

from django.urls import include, path

urlpatterns = [
    path("api/", include("personvern.api.urls")),
    path("", include("personvern.urls")),
]

"""Include at ``api/``: ``path("api/", include("personvern.api.urls"))``."""

from django.urls import URLPattern, URLResolver, path

from personvern.api.api import api

urlpatterns: list[URLPattern | URLResolver] = [path("", api.urls)]

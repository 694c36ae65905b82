"""Public pages: the site (home, notice, cookies, secure message)."""

from django.urls import URLPattern, URLResolver, include, path

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("personvern.site.urls")),
]

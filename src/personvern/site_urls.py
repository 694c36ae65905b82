"""Public pages. Each app adds its views here as it grows."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []

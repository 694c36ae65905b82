"""URLs of the public policy pages; include under ``privacy/``."""

from django.urls import path

from .views import cookie_policy_view, notice_view

app_name = "policy"

urlpatterns = [
    path("", notice_view, name="notice"),
    path("cookies/", cookie_policy_view, name="cookies"),
]

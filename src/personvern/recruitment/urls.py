"""Public pages of recruitment: the open job application (R24, R27)."""

from django.urls import path

from personvern.recruitment import views

app_name = "recruitment"

urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("apply/received/", views.apply_received, name="apply-received"),
]

"""Public newsletter URLs; the site includes them under ``newsletter/``."""

from django.urls import path

from personvern.newsletter import views

app_name = "newsletter"

urlpatterns = [
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

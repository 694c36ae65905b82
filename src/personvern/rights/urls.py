"""Public pages of the rights app: entering the confirmation code of a privacy request."""

from django.urls import path

from personvern.rights import views

app_name = "rights"

urlpatterns = [
    path("<uuid:public_id>/verify/", views.verify, name="verify"),
]

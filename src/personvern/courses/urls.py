"""Public course URLs; the site includes them under ``courses/``."""

from django.urls import path

from personvern.courses import views

app_name = "courses"

urlpatterns = [
    path("<slug:slug>/register/", views.register, name="register"),
    path("<slug:slug>/registered/", views.registered, name="registered"),
]

"""Public course URLs; the site includes them under ``courses/``."""

from django.urls import path

from personvern.courses import views

app_name = "courses"

urlpatterns = [
    path("", views.course_list, name="list"),
    path("cancel/<str:token>/", views.cancel, name="cancel"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/register/", views.register, name="register"),
    path("<slug:slug>/registered/", views.registered, name="registered"),
]

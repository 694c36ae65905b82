"""Public competition URLs; the site includes them under ``competitions/``."""

from django.urls import path

from personvern.competitions import views

app_name = "competitions"

urlpatterns = [
    path("", views.competition_list, name="list"),
    path("<slug:slug>/", views.enter, name="enter"),
    path("<slug:slug>/entered/", views.entered, name="entered"),
]

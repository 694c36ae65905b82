"""Public newsletter URLs; the site includes them under ``newsletter/``."""

from django.urls import path

from personvern.newsletter import views

app_name = "newsletter"

urlpatterns = [
    path("subscribe/", views.subscribe, name="subscribe"),
    path("subscribe/sent/", views.subscribe_sent, name="subscribe-sent"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("o/<str:token>/", views.opened, name="open"),
    path("c/<str:token>/", views.clicked, name="click"),
]

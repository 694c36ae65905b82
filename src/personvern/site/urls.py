"""Public pages of the site; the site URLconf includes them at the root."""

from django.urls import path
from django.views.i18n import set_language

from personvern.site import views

urlpatterns = [
    path("", views.home, name="home"),
    path("privacy/", views.privacy_notice, name="privacy-notice"),
    path("privacy/cookies/", views.cookie_policy, name="cookie-policy"),
    path("privacy/cookies/choice/", views.cookie_consent, name="cookie-consent"),
    path("secure-message/", views.secure_channel, name="secure-channel"),
    path("secure-message/sent/", views.secure_channel_sent, name="secure-channel-sent"),
    path("i18n/setlang/", set_language, name="set_language"),
]

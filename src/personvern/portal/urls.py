"""Min side URLs: the page, the sign-in, and every app's declared pages under it."""

from django.urls import URLPattern, URLResolver, include, path

from personvern.portal import registry, views

app_name = "portal"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-in/sent/", views.sign_in_sent, name="sign-in-sent"),
    path("sign-in/link/<str:token>/", views.sign_in_link, name="sign-in-link"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("signed-out/", views.signed_out, name="signed-out"),
]

# The apps' own pages (cancel, download, withdraw ...), each under its prefix and
# in its own namespace: reverse("portal:portal-courses:cancel", ...).
urlpatterns += [
    path(f"{pages.prefix}/", include((list(pages.urlpatterns), f"portal-{pages.prefix}")))
    for pages in registry.pages()
]

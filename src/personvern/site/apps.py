"""App configuration for the public web site (home, privacy pages, cookie banner)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SiteConfig(AppConfig):
    """Public pages in Norwegian Bokmål and English."""

    name = "personvern.site"
    label = "site"
    verbose_name = _("Public site")

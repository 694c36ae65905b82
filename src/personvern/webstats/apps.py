"""App configuration for web statistics and analytics consent."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebstatsConfig(AppConfig):
    """Anonymous page statistics and consent-based analytics."""

    name = "personvern.webstats"
    label = "webstats"
    verbose_name = _("Web statistics")

"""App configuration for Min side, the signed-in person's own pages."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """Min side: each domain app contributes its parts in its ``portal.py``."""

    name = "personvern.portal"
    label = "portal"
    verbose_name = _("Min side")

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Each app declares its sections and pages of Min side in ``portal.py``,
        # as it declares its holders in ``privacy.py``: the portal imports no app.
        autodiscover_modules("portal")

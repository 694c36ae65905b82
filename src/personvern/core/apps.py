from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "personvern.core"
    label = "core"
    verbose_name = _("Persons and privacy")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django.utils.module_loading import autodiscover_modules

        from personvern.core import checks, roles  # noqa: F401  (registers system checks)

        # Holder declarations live in each app's privacy.py, found like admin.py.
        autodiscover_modules("privacy")
        post_migrate.connect(roles.ensure_roles, dispatch_uid="personvern-roles")

        from personvern.core import admin_icons

        admin_icons.install()  # the yes/no icons' alt text in the reader's language

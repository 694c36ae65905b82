from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkerConfig(AppConfig):
    name = "personvern.worker"
    label = "worker"
    verbose_name = _("Background work")

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        # Periodic jobs live in each app's jobs.py, found like admin.py and privacy.py.
        autodiscover_modules("jobs")

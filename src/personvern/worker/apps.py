from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkerConfig(AppConfig):
    name = "personvern.worker"
    label = "worker"
    verbose_name = _("Background work")

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules
        from django_tasks.signals import task_finished

        # Periodic jobs live in each app's jobs.py, found like admin.py and privacy.py.
        autodiscover_modules("jobs")
        task_finished.connect(_forget_traceback, dispatch_uid="personvern-forget-traceback")


def _forget_traceback(sender: object, task_result: object, **kwargs: object) -> None:
    """A failed task's traceback may quote personal data (an address in an SMTP answer):
    the task record keeps the exception's type only; django-tasks logs the traceback to
    the worker's log, where the operator reads it."""
    from django_tasks_db.compat import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    if getattr(task_result, "status", None) == TaskResultStatus.FAILED:
        DBTaskResult.objects.filter(pk=str(getattr(task_result, "id", ""))).update(traceback="")

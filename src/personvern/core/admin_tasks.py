"""The task queue's results (django_tasks_db) in the reader's language.

django_tasks_db's admin heads a few columns with English text that is not
marked for translation (``task_name``, ``id``, "traceback", "run after"); this
subclass says the same in words from our catalogue, and is registered in its place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

RENAMED = {"id": "task_id", "traceback": "formatted_traceback", "run_after": "display_run_after"}


class TaskResultAdmin(DBTaskResultAdmin):
    list_display = (
        "task_id", "task", "status", "enqueued_at", "started_at", "finished_at", "priority",
        "queue_name",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [RENAMED.get(f.name, f.name) for f in self.model._meta.fields]

    @admin.display(description=_("ID"), ordering="id")
    def task_id(self, obj: DBTaskResult) -> str:
        return str(obj.id)

    @admin.display(description=_("task"), ordering="task_path")
    def task(self, obj: DBTaskResult) -> str:
        return str(obj.task_name)

    @admin.display(description=_("error details"))
    def formatted_traceback(self, obj: DBTaskResult) -> str:
        return super().formatted_traceback(obj)

    @admin.display(description=_("not before"))
    def display_run_after(self, obj: DBTaskResult) -> datetime | str:
        return super().display_run_after(obj)


if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)
admin.site.register(DBTaskResult, TaskResultAdmin)

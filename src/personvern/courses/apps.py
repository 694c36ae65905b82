from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "personvern.courses"
    label = "courses"
    verbose_name = _("Courses")

    def ready(self) -> None:
        # Registers the outbox's builder of the participant's mails (ADR 0031), so a
        # worker that has imported nothing else of the app can write them.
        from personvern.courses import mails  # noqa: F401

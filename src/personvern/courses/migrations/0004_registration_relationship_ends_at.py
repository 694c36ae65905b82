"""Store the end of each participant's customer relationship on their registrations (ADR 0009)."""

from typing import Any

from django.db import migrations, models
from django.db.models import Max, OuterRef, Subquery


def backfill(apps: Any, schema_editor: Any) -> None:
    """One set-based UPDATE: every row gets the end of its person's last course."""
    registration = apps.get_model("courses", "Registration")
    latest = (
        registration.objects.filter(person_id=OuterRef("person_id"))
        .order_by()
        .values("person_id")
        .annotate(last_end=Max("course__ends_at"))
        .values("last_end")[:1]
    )
    registration.objects.update(relationship_ends_at=Subquery(latest))


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0003_hotel_deletion_follow_up"),
    ]

    operations = [
        migrations.AddField(
            model_name="registration",
            name="relationship_ends_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="customer relationship ends"
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]

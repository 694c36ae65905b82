"""Move the free-text cancellation reason out of ``result`` (R35).

``result`` outlives the erasure of the person; a reason such as "Kari Nordmann
withdrew by phone" must not. Open cases keep the reason in ``notes`` (which an
erasure clears); cases of persons already erased lose it. Set-based updates.
"""

from typing import Any

from django.db import migrations
from django.db.models import TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Concat


def move_reasons(apps: Any, schema_editor: Any) -> None:
    Request = apps.get_model("rights", "Request")
    with_reason = Request.objects.filter(result__has_key="reason")
    named = with_reason.filter(person__isnull=False).exclude(result__reason="")
    # Rows with notes first: the second update gives the others notes too.
    named.exclude(notes="").update(
        notes=Concat(
            "notes", Value("\n\nCancelled: "), KT("result__reason"), output_field=TextField()
        )
    )
    named.filter(notes="").update(
        notes=Concat(Value("Cancelled: "), KT("result__reason"), output_field=TextField())
    )
    with_reason.filter(status="cancelled").update(result={"cancelled": True})


class Migration(migrations.Migration):
    dependencies = [
        ("rights", "0002_request_type_unclassified"),
    ]

    operations = [migrations.RunPython(move_reasons, migrations.RunPython.noop)]

"""Audit entries are inserted unsealed and sealed later into a keyed chain (ADR 0013).

Entries written before this migration were chained with plain SHA-256, which
anyone able to write to the database could recompute. Each gets its entry MAC
now, their old chain positions and hashes are dropped, and they become unsealed
entries in their old order (``id`` was taken under the old chain lock, so it
follows the old ``seq``); the worker's sealer (``personvern audit seal``) seals
them into the keyed chain. Run ``personvern audit verify`` with the previous
version before upgrading if the old chain's verdict matters to you.
"""

import hashlib
import hmac
import json
from datetime import UTC
from typing import Any

from django.conf import settings
from django.db import migrations, models

BATCH = 5000


def _entry_mac(key: bytes, row: tuple[Any, ...]) -> str:
    # The formula of personvern.core.audit (entry MAC, label v1), frozen here.
    at, actor, action, subject, activity, data, personal_digest = row
    content = [
        at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        actor, action, subject, activity, data, personal_digest,
    ]
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def mac_and_unseal_existing_entries(apps: Any, schema_editor: Any) -> None:
    entry = apps.get_model("core", "AuditEntry")
    connection = schema_editor.connection
    manager = entry.objects.using(connection.alias)
    key = hmac.new(
        settings.PERSONVERN_AUDIT_KEY.encode(), b"personvern:audit-entry:v1", hashlib.sha256
    ).digest()
    qn = connection.ops.quote_name
    update = (
        f"UPDATE {qn(entry._meta.db_table)} SET {qn('mac')} = %s, {qn('prev_hash')} = '', "
        f"{qn('hash')} = '' WHERE {qn('id')} = %s"
    )
    fields = ("at", "actor", "action", "subject", "activity", "data", "personal_digest")
    last = 0
    while True:
        rows = list(manager.filter(id__gt=last).order_by("id").values_list("id", *fields)[:BATCH])
        if not rows:
            return
        with connection.cursor() as cursor:
            cursor.executemany(update, [(_entry_mac(key, row[1:]), row[0]) for row in rows])
        last = rows[-1][0]


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='auditentry',
            options={'ordering': ['id'], 'verbose_name': 'audit entry', 'verbose_name_plural': 'audit entries'},
        ),
        migrations.RemoveField(
            model_name='auditentry',
            name='seq',
        ),
        migrations.AddField(
            model_name='auditentry',
            name='chain_seq',
            field=models.BigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='mac',
            field=models.CharField(default='', max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='auditentry',
            name='sealed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='hash',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='prev_hash',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(condition=models.Q(('chain_seq__isnull', True)), fields=['id'], name='core_audit_unsealed'),
        ),
        migrations.RunPython(mac_and_unseal_existing_entries, migrations.RunPython.noop, elidable=True),
    ]

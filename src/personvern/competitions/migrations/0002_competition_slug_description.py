"""Competitions get a public address (slug) and a description with their rules.

Existing competitions get a slug from their title (and number, so it is unique).
"""

from django.db import migrations, models
from django.utils.text import slugify


def fill_slugs(apps, schema_editor):  # type: ignore[no-untyped-def]
    Competition = apps.get_model("competitions", "Competition")
    for competition in Competition.objects.order_by("pk").only("pk", "title"):
        base = slugify(competition.title)[:60] or "competition"
        Competition.objects.filter(pk=competition.pk).update(slug=f"{base}-{competition.pk}")


class Migration(migrations.Migration):
    dependencies = [
        ("competitions", "0001_initial_competitions"),
    ]

    operations = [
        migrations.AddField(
            model_name="competition",
            name="description",
            field=models.TextField(
                blank=True,
                help_text="Shown on the entry page: what to do, the prize, how the winner is chosen.",
                verbose_name="description and rules",
            ),
        ),
        migrations.AddField(
            model_name="competition",
            name="slug",
            # No index yet: the unique one comes with the AlterField below (adding
            # both made PostgreSQL's "_like" index twice).
            field=models.SlugField(
                db_index=False, default="", max_length=80, verbose_name="address"
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill_slugs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="competition",
            name="slug",
            field=models.SlugField(
                help_text="The last part of the competition's web address: /competitions/<address>/.",
                max_length=80,
                unique=True,
                verbose_name="address",
            ),
        ),
    ]

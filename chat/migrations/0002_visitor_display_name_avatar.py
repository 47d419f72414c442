from django.db import migrations, models

from chat.names import avatar_for, display_name_for


def name_existing_visitors(apps, schema_editor):
    Visitor = apps.get_model("chat", "Visitor")
    batch = []
    for visitor in Visitor.objects.only("id").iterator(chunk_size=2000):
        visitor.display_name = display_name_for(visitor.id)
        visitor.avatar = avatar_for(visitor.id)
        batch.append(visitor)
        if len(batch) == 2000:
            Visitor.objects.bulk_update(batch, ["display_name", "avatar"])
            batch = []
    Visitor.objects.bulk_update(batch, ["display_name", "avatar"])


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="visitor",
            name="avatar",
            field=models.CharField(blank=True, max_length=16),
        ),
        migrations.AddField(
            model_name="visitor",
            name="display_name",
            field=models.CharField(blank=True, max_length=24),
        ),
        migrations.RunPython(name_existing_visitors, migrations.RunPython.noop, elidable=True),
    ]

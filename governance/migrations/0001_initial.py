from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="WorkerHeartbeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("queue", models.CharField(max_length=32)),
                ("hostname", models.CharField(max_length=255)),
                ("seen_at", models.DateTimeField()),
                ("token", models.CharField(blank=True, help_text="caller's correlation id", max_length=64)),
            ],
            options={
                "ordering": ["-seen_at"],
                "indexes": [models.Index(fields=["queue", "-seen_at"], name="governance__queue_d4a00b_idx")],
            },
        ),
    ]

from django.db import migrations

GENESIS_HASH = "0" * 64


def create_head(apps, schema_editor):
    apps.get_model("governance", "AuditChainHead").objects.get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS_HASH})


class Migration(migrations.Migration):
    dependencies = [("governance", "0002_roles")]
    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]

from django.core.management import call_command
from django.db import migrations


def create_roles(apps, schema_editor):
    from kontor.core.permissions import DEFAULT_ROLES

    Role = apps.get_model("core", "Role")
    for code, spec in DEFAULT_ROLES.items():
        Role.objects.get_or_create(
            code=str(code),
            defaults={
                "visibility": str(spec["visibility"]),
                "capabilities": [str(c) for c in spec["capabilities"]],
            },
        )


def create_cache_table(apps, schema_editor):
    # The database cache is shared by all web processes (rate limits, lock-outs);
    # creating its table here keeps `kontor migrate` the only set-up step.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]

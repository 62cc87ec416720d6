"""Existing roles get the new mail.manage capability where the defaults grant it."""

from django.db import migrations

GRANTED_TO = ("administrator", "sales_manager")


def grant(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for role in Role.objects.filter(code__in=GRANTED_TO):
        if "mail.manage" not in role.capabilities:
            role.capabilities = [*role.capabilities, "mail.manage"]
            role.save(update_fields=["capabilities"])


def revoke(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for role in Role.objects.all():
        if "mail.manage" in role.capabilities:
            role.capabilities = [c for c in role.capabilities if c != "mail.manage"]
            role.save(update_fields=["capabilities"])


class Migration(migrations.Migration):
    dependencies = [("mail", "0001_initial"), ("core", "0006_searchentry")]

    operations = [migrations.RunPython(grant, revoke)]

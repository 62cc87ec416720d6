"""Customer numbers for organizations created before they were assigned: K-0000123
from the primary key, as organization_create assigns them — one set-based UPDATE.
And a contact role for each person's primary organization, as the services keep one."""

from django.db import migrations

from kontor.customers.backfill import contact_roles_link_primary, customer_numbers_assign


def assign(apps, schema_editor):
    customer_numbers_assign(apps.get_model("customers", "Organization").objects.all())


def link_primary_organizations(apps, schema_editor):
    contact_roles_link_primary(
        person_model=apps.get_model("customers", "Person"),
        contact_role_model=apps.get_model("customers", "ContactRole"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_tag_organization_custom_organization_customer_number_and_more"),
    ]

    operations = [
        migrations.RunPython(assign, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(link_primary_organizations, migrations.RunPython.noop, elidable=True),
    ]

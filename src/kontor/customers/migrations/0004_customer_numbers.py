"""Customer numbers for organizations created before they were assigned: K-0000123
from the primary key, as organization_create assigns them — one set-based UPDATE.
And a contact role for each person's primary organization, as the services keep one."""

from django.db import migrations
from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, Greatest, Length, LPad


def assign(apps, schema_editor):
    Organization = apps.get_model("customers", "Organization")
    digits = Cast("id", output_field=CharField())
    # LPAD cuts longer strings: at least seven digits, more when the id has more.
    Organization.objects.filter(customer_number="").update(
        customer_number=Concat(
            Value("K-"), LPad(digits, Greatest(Value(7), Length(digits)), Value("0"))
        )
    )


def link_primary_organizations(apps, schema_editor):
    Person = apps.get_model("customers", "Person")
    ContactRole = apps.get_model("customers", "ContactRole")
    missing = (
        Person.objects.filter(organization__isnull=False)
        .exclude(contact_roles__organization_id=F("organization_id"))
        .values_list("pk", "organization_id", "job_title", "department")
    )
    batch = []
    for person_id, organization_id, job_title, department in missing.iterator(chunk_size=2000):
        batch.append(
            ContactRole(
                person_id=person_id,
                organization_id=organization_id,
                job_title=job_title,
                department=department,
                buying_roles=[],
            )
        )
        if len(batch) >= 2000:
            ContactRole.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    ContactRole.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_tag_organization_custom_organization_customer_number_and_more"),
    ]

    operations = [
        migrations.RunPython(assign, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(link_primary_organizations, migrations.RunPython.noop, elidable=True),
    ]

"""Set-based fills for customer data that rows got without the services: customer
numbers and the contact role of each person's primary organization. One statement
each, so they suit a migration over existing rows and a bulk load of demo data alike.
They take the models (or querysets) to work on, so migrations pass historical ones."""

# S608: the SQL names only tables and columns from the models' _meta.
# ruff: noqa: S608

from django.db import connections
from django.db.models import CharField, QuerySet, Value
from django.db.models.functions import Cast, Concat, Greatest, Length, LPad
from django.utils import timezone


def customer_numbers_assign(organizations: QuerySet, **also) -> int:
    """Give every organization of ``organizations`` without a customer number the one
    derived from its primary key (K-0000123, as contact_data.customer_number_for), in
    one UPDATE. ``also``: more columns to set in the same statement (a bulk load then
    rewrites each row once, not once per column). Returns how many were numbered."""
    digits = Cast("id", output_field=CharField())
    # LPAD cuts longer strings: at least seven digits, more when the id has more.
    return organizations.filter(customer_number="").update(
        customer_number=Concat(
            Value("K-"), LPad(digits, Greatest(Value(7), Length(digits)), Value("0"))
        ),
        **also,
    )


def contact_roles_link_primary(
    *,
    person_model,
    contact_role_model,
    after_id: int = 0,
    buying_roles: tuple[str, list] = ("'[]'", []),
) -> int:
    """Add the missing contact role of each person (with an id above ``after_id``) at
    their primary organization, job title and department copied, in one INSERT …
    SELECT. ``buying_roles`` is an SQL expression (and its parameters) over the person
    row ``p`` giving the roles as JSON text; none by default. Returns the rows added."""
    connection = connections[person_model.objects.db]
    quote = connection.ops.quote_name
    person = quote(person_model._meta.db_table)
    role = quote(contact_role_model._meta.db_table)
    roles_sql, roles_params = buying_roles
    if connection.vendor == "postgresql":
        roles_sql = f"CAST(({roles_sql}) AS jsonb)"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {role}
                (person_id, organization_id, job_title, department, buying_roles, created_at)
            SELECT p.id, p.organization_id, p.job_title, p.department, {roles_sql}, %s
            FROM {person} p
            WHERE p.organization_id IS NOT NULL AND p.id > %s
              AND NOT EXISTS (
                SELECT 1 FROM {role} c
                WHERE c.person_id = p.id AND c.organization_id = p.organization_id
              )
            """,
            [*roles_params, now, after_id],
        )
        return cursor.rowcount

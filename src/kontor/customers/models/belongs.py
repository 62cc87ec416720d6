"""Records that belong to exactly one customer: an organization or a person."""

from django.db import models


def one_customer_constraint(name: str) -> models.CheckConstraint:
    """Exactly one of the explicit ``organization`` / ``person`` foreign keys is set."""
    return models.CheckConstraint(
        condition=models.Q(organization__isnull=False, person__isnull=True)
        | models.Q(organization__isnull=True, person__isnull=False),
        name=name,
    )

"""Reads on customers shared by the views and the API."""

from django.db.models import Q, QuerySet

from kontor.customers.models import Organization, Person


def person_list(*, user, q: str = "") -> QuerySet[Person]:
    persons = Person.objects.visible_to(user).select_related("organization", "owner")
    if q:
        persons = persons.filter(
            Q(last_name__istartswith=q)
            | Q(first_name__istartswith=q)
            | Q(email__istartswith=q)
            | Q(organization__name__istartswith=q)
        )
    return persons


def organization_list(*, user, q: str = "") -> QuerySet[Organization]:
    organizations = Organization.objects.visible_to(user).select_related("owner")
    if q:
        organizations = organizations.filter(Q(name__istartswith=q) | Q(city__istartswith=q))
    return organizations

"""Reads on customers shared by the views and the API. Each loads what its callers
show (select_related), so a page costs the same number of queries at any size."""

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404

from kontor.customers.models import Organization, Person


def _clean_query(q: str) -> str:
    # NUL cannot be sent to PostgreSQL; no name contains one anyway.
    return q.replace("\x00", "").strip()


def person_list(*, user, q: str = "") -> QuerySet[Person]:
    persons = Person.objects.visible_to(user).select_related("organization", "owner")
    q = _clean_query(q)
    if q:
        persons = persons.filter(
            Q(last_name__istartswith=q)
            | Q(first_name__istartswith=q)
            | Q(email__istartswith=q)
            | Q(organization__name__istartswith=q)
        )
    return persons


def person_get(*, user, uuid) -> Person:
    """One person ``user`` may see, with what the detail page and the API show;
    404 for a person one may not see, as for one that does not exist."""
    try:
        return (
            Person.objects.visible_to(user)
            .select_related("organization", "owner", "team")
            .get(uuid=uuid)
        )
    except (Person.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc


def organization_list(*, user, q: str = "") -> QuerySet[Organization]:
    organizations = Organization.objects.visible_to(user).select_related("owner")
    q = _clean_query(q)
    if q:
        organizations = organizations.filter(Q(name__istartswith=q) | Q(city__istartswith=q))
    return organizations


def organization_get(*, user, uuid) -> Organization:
    """One organization ``user`` may see; 404 otherwise (see person_get)."""
    try:
        return Organization.objects.visible_to(user).select_related("owner", "team").get(uuid=uuid)
    except (Organization.DoesNotExist, ValueError, ValidationError) as exc:
        raise Http404 from exc

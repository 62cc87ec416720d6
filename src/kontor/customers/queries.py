"""Reads on customers shared by the views and the API. Each loads what its callers
show (select_related), so a page costs the same number of queries at any size."""

from django.db.models import QuerySet
from django.http import Http404

from kontor.core.access import get_object_for_user
from kontor.customers.models import ContactRole, Equipment, Organization, Person


def person_list(*, user) -> QuerySet[Person]:
    """The persons ``user`` may see, with what the list shows; the list's filters
    (the search-index ``q`` among them) are applied by customers.listing."""
    return Person.objects.visible_to(user).select_related("organization", "owner")


def person_get(*, user, uuid) -> Person:
    """One person ``user`` may see, with what the detail page and the API show;
    404 for a person one may not see, as for one that does not exist."""
    return get_object_for_user(Person, user, related=("organization", "owner", "team"), uuid=uuid)


def organization_list(*, user) -> QuerySet[Organization]:
    return Organization.objects.visible_to(user).select_related("owner")


def organization_get(*, user, uuid) -> Organization:
    """One organization ``user`` may see; 404 otherwise (see person_get)."""
    return get_object_for_user(Organization, user, related=("owner", "team"), uuid=uuid)


def customer_get(*, user, kind: str, uuid) -> Person | Organization:
    """A person (``kind="person"``) or an organization the user may see; 404 otherwise.
    For pages that hang off either kind of customer (buying center, equipment)."""
    if kind == "person":
        return person_get(user=user, uuid=uuid)
    return organization_get(user=user, uuid=uuid)


# --- The 360° view: one query per section, whatever the customer's size -------------------


def person_contact_roles(*, user, person: Person) -> QuerySet[ContactRole]:
    """The person's links to organizations ``user`` may see."""
    return (
        ContactRole.objects.filter(
            person=person, organization__in=Organization.objects.visible_to(user)
        )
        .select_related("organization")
        .order_by("organization__name", "id")
    )


def organization_contact_roles(*, user, organization: Organization) -> QuerySet[ContactRole]:
    """The organization's contact persons ``user`` may see, with their roles."""
    return (
        ContactRole.objects.filter(
            organization=organization, person__in=Person.objects.visible_to(user)
        )
        .select_related("person")
        .order_by("person__last_name", "person__first_name", "id")
    )


def contact_role_get(*, user, pk, person=None, organization=None) -> ContactRole:
    """One link of a record ``user`` may see, whose other side they may see too."""
    roles = (
        person_contact_roles(user=user, person=person)
        if person is not None
        else organization_contact_roles(user=user, organization=organization)
    )
    try:
        return roles.select_related("person", "organization").get(pk=pk)
    except (ContactRole.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def equipment_of(*, organization=None, person=None) -> QuerySet[Equipment]:
    if organization is not None:
        return Equipment.objects.filter(organization=organization)
    return Equipment.objects.filter(person=person)


def equipment_get(*, pk, organization=None, person=None) -> Equipment:
    try:
        return equipment_of(organization=organization, person=person).get(pk=pk)
    except (Equipment.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def organization_subsidiaries(*, user, organization: Organization) -> QuerySet[Organization]:
    return Organization.objects.visible_to(user).filter(parent=organization)

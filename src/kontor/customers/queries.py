"""Reads on customers shared by the views and the API. Each loads what its callers
show (select_related), so a page costs the same number of queries at any size."""

import dataclasses

from django.core.exceptions import ValidationError
from django.db.models import BooleanField, ExpressionWrapper, QuerySet, Value
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kontor.customers.models import ContactRole, Equipment, Organization, Person

# --- Organizations linked to a record, as far as the viewer may see them ------------------

# The links to an organization that a record of each kind shows: a person's employer,
# an organization's parent.
ORGANIZATION_LINKS = {Person: ("organization",), Organization: ("parent",)}
NOT_VISIBLE = _("(organization not visible)")


def with_organization_visibility(records: QuerySet, *, user) -> QuerySet:
    """``records`` (persons or organizations) with their linked organizations (see
    ORGANIZATION_LINKS) joined, and for each link whether ``user`` may see it:
    ``<link>_visible``, the rule of ``Organization.objects.visible_to`` checked on the
    joined row — no extra query and no subquery, however long the page.

    The rule, everywhere a record shows an organization it is linked to (the person
    list and its organization column, CSV/XLSX exports, the 360° page, the merge
    form, the edit conflict, search results, the API, vCards):

    - linked to an organization the viewer may see: its name (and link, uuid);
    - linked to one the viewer may not see: the fact of a link, nothing of the
      organization — on pages the neutral ``NOT_VISIBLE`` text without a link; in
      exports an empty cell, in the API ``organization: null`` with
      ``organization_hidden: true``, in a vCard no ORG line, in a search result's
      subtitle ``NOT_VISIBLE`` in the name's place;
    - not linked: nothing (a person: a consumer).

    A record loaded without this annotation counts as linked to an organization the
    viewer may not see (fail closed). Lists cannot be sorted by the organization's
    name: the order would give away names one may not see. Buying-center links
    (ContactRole) to organizations one may not see are left out altogether
    (``person_contact_roles``): they are the organization's records, not the
    person's. The employer one may not see cannot be changed by that viewer either
    (PersonForm leaves the field out; a PATCH keeps it on ``organization: null`` and
    refuses another organization with a 422). Same for an organization's parent."""
    fields = ORGANIZATION_LINKS[records.model]
    return records.select_related(*fields).annotate(
        **{f"{name}_visible": _visible_through(user, name) for name in fields}
    )


def _visible_through(user, link: str):
    """Whether the organization behind ``link`` is visible to ``user``, as an
    expression on the joined row (True for one who sees all)."""
    condition = Organization.objects.role_condition_through(user, link)
    if condition is None:
        return Value(True, output_field=BooleanField())
    return ExpressionWrapper(condition, output_field=BooleanField())


def mark_organization_visibility(records, *, user, link: str = "organization") -> None:
    """Set ``<link>_visible`` on records already loaded some other way (a few: the
    capture's candidates, the compose page's person) with one query, so the rule
    of with_organization_visibility holds for them too."""
    records = [r for r in records if r is not None]
    ids = {getattr(r, f"{link}_id") for r in records} - {None}
    visible = set(
        Organization.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True)
        if ids
        else ()
    )
    for record in records:
        setattr(record, f"{link}_visible", getattr(record, f"{link}_id") in visible)


def organization_hidden(record, link: str = "organization") -> bool:
    """``record`` is linked by ``link`` to an organization the viewer may not see
    (see with_organization_visibility)."""
    return getattr(record, f"{link}_id") is not None and not getattr(
        record, f"{link}_visible", False
    )


def linked_organization(record, link: str = "organization") -> Organization | None:
    """The organization ``record`` is linked to by ``link`` if the viewer may see
    it; None if there is none or it is hidden (see with_organization_visibility)."""
    if getattr(record, f"{link}_id") is None or organization_hidden(record, link):
        return None
    return getattr(record, link)


def organization_text(record, link: str = "organization") -> str:
    """The linked organization's name, ``NOT_VISIBLE`` or "" (for people, not files)."""
    if organization_hidden(record, link):
        return str(NOT_VISIBLE)
    organization = linked_organization(record, link)
    return organization.name if organization is not None else ""


def person_search_hits(*, user, hits: list) -> list:
    """Search hits of persons (core.search.Hit) as ``user`` may see them: the name
    of an organization they may not see taken out of the subtitle, which
    Person.search_document starts with the organization's name. One query for the
    page of hits (see with_organization_visibility)."""
    rows = (
        Person.objects.filter(uuid__in=[hit.uuid for hit in hits], organization__isnull=False)
        .annotate(organization_visible=_visible_through(user, "organization"))
        .values_list("uuid", "organization__name", "organization_visible")
    )
    hidden = {uuid: name for uuid, name, visible in rows if not visible}
    if not hidden:
        return hits
    result = []
    for hit in hits:
        name = hidden.get(hit.uuid)
        if name is not None and (hit.subtitle == name or hit.subtitle.startswith(name + " · ")):
            hit = dataclasses.replace(hit, subtitle=str(NOT_VISIBLE) + hit.subtitle[len(name) :])
        result.append(hit)
    return result


def person_list(*, user) -> QuerySet[Person]:
    """The persons ``user`` may see, with what the list shows; the list's filters
    (the search-index ``q`` among them) are applied by customers.listing."""
    persons = Person.objects.visible_to(user).select_related("owner")
    return with_organization_visibility(persons, user=user)


def person_get(*, user, uuid) -> Person:
    """One person ``user`` may see, with what the detail page and the API show;
    404 for a person one may not see, as for one that does not exist."""
    persons = Person.objects.visible_to(user).select_related("owner", "team")
    return _get(with_organization_visibility(persons, user=user), uuid=uuid)


def organization_list(*, user) -> QuerySet[Organization]:
    organizations = Organization.objects.visible_to(user).select_related("owner")
    return with_organization_visibility(organizations, user=user)


def organization_get(*, user, uuid) -> Organization:
    """One organization ``user`` may see; 404 otherwise (see person_get)."""
    organizations = Organization.objects.visible_to(user).select_related("owner", "team")
    return _get(with_organization_visibility(organizations, user=user), uuid=uuid)


def _get(records: QuerySet, **lookup):
    """One of the (visible) ``records``; 404 otherwise, a malformed uuid included —
    as core.access.get_object_for_user, which takes no annotations."""
    try:
        return records.get(**lookup)
    except (records.model.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404 from exc


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

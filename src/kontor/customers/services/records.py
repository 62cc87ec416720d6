"""Writes on customers: one function per use case, each audited in its transaction."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kontor.core import audit, customfields, normalize, search
from kontor.core.access import EditConflict, user_can
from kontor.core.models import AuditAction
from kontor.core.permissions import Capability
from kontor.customers import contact_data
from kontor.customers.models import (
    PSYCHOGRAPHIC_FIELDS,
    BuyingRole,
    ContactRole,
    Equipment,
    Organization,
    Person,
)


def _require(actor, capability: str) -> None:
    if not user_can(actor, capability):
        raise PermissionDenied(_("Your role does not allow this."))


def _require_psychographic(model, actor, data: dict[str, Any]) -> None:
    """Psychographic fields are written only by roles that may see them; anyone
    else's write of them is refused as a whole, not silently dropped."""
    if model is Person and set(data) & set(PSYCHOGRAPHIC_FIELDS):
        _require(actor, Capability.CUSTOMERS_PSYCHOGRAPHIC)


# The phone fields of each model, stored in E.164.
_PHONE_FIELDS = {Person: ("phone", "mobile"), Organization: ("phone",)}
# Names as stored: NFC, without invisible format characters (core.normalize.clean_name).
NAME_FIELDS = {
    Person: ("title", "first_name", "last_name"),
    Organization: ("name", "legal_name"),
}


def _validate(record, *, fields, custom=None, partial: bool = True) -> None:
    """Normalise the contact data among ``fields`` (phones to E.164, VAT ID), apply
    the ``custom`` field values (validated by their definitions; errors keyed
    ``custom.<key>``) and run the model's checks, raising every field's errors at once."""
    errors: dict[str, list[str]] = {}
    if custom is not None or not partial:
        try:
            cleaned = customfields.clean_values(
                customfields.entity_of(type(record)), custom or {}, partial=partial
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            record.custom = customfields.merge_values(record.custom, cleaned)

    def check(name, normalize):
        if name not in fields:
            return
        try:
            setattr(record, name, normalize(getattr(record, name)))
        except ValidationError as exc:
            errors[name] = exc.messages

    for name in NAME_FIELDS[type(record)]:
        # Forms and API clean names already; this catches the other ways in (vCard).
        check(name, normalize.clean_name)
    check("country", contact_data.country_normalize)
    if isinstance(record, Person):
        check("language", contact_data.language_normalize)
        check("birth_date", contact_data.birth_date_check)
    country = record.country or contact_data.DEFAULT_REGION
    if "country" in errors:
        country = contact_data.DEFAULT_REGION
    for name in _PHONE_FIELDS.get(type(record), ()):
        check(name, lambda v: contact_data.phone_normalize(v, region=country))
    if "country" in fields:
        fields = {*fields, "postal_code"}
    check("postal_code", lambda v: contact_data.postal_code_normalize(v, country=country))
    if isinstance(record, Organization):
        check("vat_id", contact_data.vat_id_normalize)
    try:
        record.full_clean(exclude=[name for name in errors if "." not in name])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def _derive_keys(record) -> None:
    """The duplicate-matching keys (email_key, phonetic_key …) from the record's values."""
    from kontor.customers import duplicates

    duplicates.derive_keys(record)


def _create(model, *, actor, data: dict[str, Any], via: str):
    _require(actor, Capability.CUSTOMERS_EDIT)
    data = dict(data)
    custom = data.pop("custom", None)
    tags = data.pop("tags", None)
    _require_psychographic(model, actor, data)
    data.setdefault("owner", actor)
    if "team" not in data:
        data["team"] = actor.primary_team
    record = model(**data)
    _validate(
        record, fields={f.name for f in model._meta.concrete_fields}, custom=custom, partial=False
    )
    _derive_keys(record)
    with transaction.atomic():
        record.save()
        if isinstance(record, Organization) and not record.customer_number:
            # Derived from the primary key, so known only after the insert.
            record.customer_number = contact_data.customer_number_for(record.pk)
            model.objects.filter(pk=record.pk).update(customer_number=record.customer_number)
        if tags:
            record.tags.set(tags)
        audit.record(
            actor=actor,
            action=AuditAction.CREATE,
            instance=record,
            related={"tags": [None, sorted(t.name for t in tags)]} if tags else None,
            via=via,
        )
        search.index(record)
    return record


def _update(record, *, actor, data: dict[str, Any], version: int | None, via: str):
    _require(actor, Capability.CUSTOMERS_EDIT)
    model = type(record)
    data = dict(data)
    custom = data.pop("custom", None)
    tags = data.pop("tags", None)
    _require_psychographic(model, actor, data)
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=record.pk)
        if version is not None and current.version != version:
            raise EditConflict(current)
        before = audit.snapshot(current)
        for name, value in data.items():
            setattr(current, name, value)
        _validate(current, fields=set(data), custom=custom, partial=True)
        _derive_keys(current)
        current.version = F("version") + 1
        current.save()
        current.refresh_from_db()
        related = None
        if tags is not None:
            old_tags = sorted(current.tags.values_list("name", flat=True))
            current.tags.set(tags)
            related = {"tags": [old_tags, sorted(t.name for t in tags)]}
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=current,
            before=before,
            related=related,
            via=via,
        )
        search.index(current)
    return current


def _delete(record, *, actor, via: str) -> None:
    _require(actor, Capability.CUSTOMERS_DELETE)
    with transaction.atomic():
        audit.record(actor=actor, action=AuditAction.DELETE, instance=record, via=via)
        search.unindex(record)
        record.delete()


def organization_create(*, actor, data: dict[str, Any], via: str = "ui") -> Organization:
    return _create(Organization, actor=actor, data=data, via=via)


def organization_update(
    *,
    organization: Organization,
    actor,
    data: dict[str, Any],
    version: int | None = None,
    via: str = "ui",
) -> Organization:
    return _update(organization, actor=actor, data=data, version=version, via=via)


def organization_delete(*, organization: Organization, actor, via: str = "ui") -> None:
    _delete(organization, actor=actor, via=via)


@transaction.atomic
def person_create(*, actor, data: dict[str, Any], via: str = "ui") -> Person:
    person = _create(Person, actor=actor, data=data, via=via)
    _keep_primary_contact_role(person, actor=actor, via=via)
    return person


@transaction.atomic
def person_update(
    *, person: Person, actor, data: dict[str, Any], version: int | None = None, via: str = "ui"
) -> Person:
    person = _update(person, actor=actor, data=data, version=version, via=via)
    if "organization" in data:
        _keep_primary_contact_role(person, actor=actor, via=via)
    return person


def _keep_primary_contact_role(person: Person, *, actor, via: str) -> None:
    """The primary organization is always one of the person's contact roles."""
    if person.organization_id is None:
        return
    role, created = ContactRole.objects.get_or_create(
        person=person,
        organization_id=person.organization_id,
        defaults={"job_title": person.job_title, "department": person.department},
    )
    if created:
        audit.record(actor=actor, action=AuditAction.CREATE, instance=role, via=via)


# --- Buying center ---------------------------------------------------------------------


def _clean_buying_roles(roles) -> list[str]:
    valid = set(BuyingRole.values)
    roles = list(dict.fromkeys(roles or []))  # unique, in the order given
    unknown = [r for r in roles if r not in valid]
    if unknown:
        raise ValidationError(
            {
                "buying_roles": _("Unknown buying-center role: %(roles)s.")
                % {"roles": ", ".join(map(str, unknown))}
            }
        )
    # Stored in the order of BuyingRole, so that equal sets compare equal.
    return [r for r in BuyingRole.values if r in roles]


@transaction.atomic
def contact_role_set(
    *,
    person: Person,
    organization: Organization,
    actor,
    job_title: str = "",
    department: str = "",
    buying_roles: list[str] | tuple[str, ...] = (),
    via: str = "ui",
) -> ContactRole:
    """Link ``person`` to ``organization`` with a job, department and buying-center
    roles, or change the existing link. The caller has checked that ``actor`` may
    see both records."""
    _require(actor, Capability.CUSTOMERS_EDIT)
    role = (
        ContactRole.objects.select_for_update()
        .filter(person=person, organization=organization)
        .first()
    )
    created = role is None
    if created:
        role = ContactRole(person=person, organization=organization)
        before = None
    else:
        before = audit.snapshot(role)
    role.job_title = (job_title or "").strip()
    role.department = (department or "").strip()
    role.buying_roles = _clean_buying_roles(buying_roles)
    role.full_clean(validate_constraints=False)
    role.save()
    audit.record(
        actor=actor,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        instance=role,
        before=before,
        via=via,
    )
    return role


@transaction.atomic
def contact_role_remove(*, contact_role: ContactRole, actor, via: str = "ui") -> None:
    """Remove a person–organization link. Removing the link to the person's primary
    organization also clears that (the person becomes a consumer)."""
    _require(actor, Capability.CUSTOMERS_EDIT)
    person = contact_role.person
    if person.organization_id == contact_role.organization_id:
        _update(person, actor=actor, data={"organization": None}, version=None, via=via)
    audit.record(actor=actor, action=AuditAction.DELETE, instance=contact_role, via=via)
    contact_role.delete()


@transaction.atomic
def contact_roles_replace(
    *, person: Person, links: list[dict[str, Any]], scope, actor, via: str = "ui"
) -> None:
    """Make the person's links to the organizations in ``scope`` (those the actor may
    see) exactly ``links`` ({organization, job_title, department, buying_roles});
    links outside ``scope`` are kept."""
    _require(actor, Capability.CUSTOMERS_EDIT)
    wanted = {link["organization"].pk for link in links}
    for link in links:
        contact_role_set(
            person=person,
            organization=link["organization"],
            actor=actor,
            job_title=link.get("job_title", ""),
            department=link.get("department", ""),
            buying_roles=link.get("buying_roles", ()),
            via=via,
        )
    stale = ContactRole.objects.filter(person=person, organization__in=scope).exclude(
        organization_id__in=wanted
    )
    for contact_role in stale.select_related("person", "organization"):
        contact_role_remove(contact_role=contact_role, actor=actor, via=via)


# --- Equipment -------------------------------------------------------------------------

EQUIPMENT_FIELDS = (
    "product",
    "model",
    "serial_number",
    "installed_on",
    "location",
    "service_contract_until",
)


@transaction.atomic
def equipment_create(
    *,
    actor,
    data: dict[str, Any],
    organization: Organization | None = None,
    person: Person | None = None,
    via: str = "ui",
) -> Equipment:
    """Record a product installed at a customer (an organization or a person)."""
    _require(actor, Capability.CUSTOMERS_EDIT)
    equipment = Equipment(organization=organization, person=person)
    for name in EQUIPMENT_FIELDS:
        if name in data:
            setattr(equipment, name, data[name])
    equipment.full_clean()
    equipment.save()
    audit.record(actor=actor, action=AuditAction.CREATE, instance=equipment, via=via)
    return equipment


@transaction.atomic
def equipment_update(
    *, equipment: Equipment, actor, data: dict[str, Any], via: str = "ui"
) -> Equipment:
    _require(actor, Capability.CUSTOMERS_EDIT)
    current = Equipment.objects.select_for_update().get(pk=equipment.pk)
    before = audit.snapshot(current)
    for name in EQUIPMENT_FIELDS:
        if name in data:
            setattr(current, name, data[name])
    current.full_clean()
    current.save()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current


@transaction.atomic
def equipment_delete(*, equipment: Equipment, actor, via: str = "ui") -> None:
    _require(actor, Capability.CUSTOMERS_EDIT)
    audit.record(actor=actor, action=AuditAction.DELETE, instance=equipment, via=via)
    equipment.delete()


def person_delete(*, person: Person, actor, via: str = "ui") -> None:
    _delete(person, actor=actor, via=via)


__all__ = [
    "EditConflict",
    "ValidationError",
    "contact_role_remove",
    "contact_role_set",
    "contact_roles_replace",
    "equipment_create",
    "equipment_delete",
    "equipment_update",
    "organization_create",
    "organization_delete",
    "organization_update",
    "person_create",
    "person_delete",
    "person_update",
]

"""Writes on customers: one function per use case, each audited in its transaction."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from kontor.core import audit, search
from kontor.core.access import user_can
from kontor.core.models import AuditAction
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person


class EditConflict(Exception):
    """Someone else saved the record after this edit started."""

    def __init__(self, current):
        super().__init__(_("Someone else changed this record in the meantime."))
        self.current = current


def _require(actor, capability: str) -> None:
    if not user_can(actor, capability):
        raise PermissionDenied(_("Your role does not allow this."))


def _create(model, *, actor, data: dict[str, Any], via: str):
    _require(actor, Capability.CUSTOMERS_EDIT)
    data = dict(data)
    data.setdefault("owner", actor)
    if "team" not in data:
        data["team"] = actor.teams.order_by("id").first()
    record = model(**data)
    record.full_clean()
    with transaction.atomic():
        record.save()
        audit.record(actor=actor, action=AuditAction.CREATE, instance=record, via=via)
        search.index(record)
    return record


def _update(record, *, actor, data: dict[str, Any], version: int | None, via: str):
    _require(actor, Capability.CUSTOMERS_EDIT)
    model = type(record)
    with transaction.atomic():
        current = model.objects.select_for_update().get(pk=record.pk)
        if version is not None and current.version != version:
            raise EditConflict(current)
        before = audit.snapshot(current)
        for name, value in data.items():
            setattr(current, name, value)
        current.full_clean()
        current.version = F("version") + 1
        current.save()
        current.refresh_from_db()
        audit.record(
            actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via
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


def person_create(*, actor, data: dict[str, Any], via: str = "ui") -> Person:
    return _create(Person, actor=actor, data=data, via=via)


def person_update(
    *, person: Person, actor, data: dict[str, Any], version: int | None = None, via: str = "ui"
) -> Person:
    return _update(person, actor=actor, data=data, version=version, via=via)


def person_delete(*, person: Person, actor, via: str = "ui") -> None:
    _delete(person, actor=actor, via=via)


__all__ = [
    "EditConflict",
    "ValidationError",
    "organization_create",
    "organization_delete",
    "organization_update",
    "person_create",
    "person_delete",
    "person_update",
]

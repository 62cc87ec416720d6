"""Writing the audit trail. Services call these explicitly (no signals), inside the
same transaction as the change, so a change and its entry land together or not at all."""

from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from kontor.core.models import AuditAction, AuditEntry

# Never written into the trail, whatever the model.
SECRET_FIELDS = {"password", "digest", "version", "updated_at", "created_at", "last_login"}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The audited field values of ``instance``, as JSON-safe values."""
    values = {}
    for field in instance._meta.concrete_fields:
        # Derived fields (audited = False, e.g. duplicate-matching keys) repeat others.
        if field.name in SECRET_FIELDS or field.primary_key or not getattr(field, "audited", True):
            continue
        values[field.name] = _plain(field.value_from_object(instance))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def record(
    *,
    actor,
    action: str,
    instance: models.Model,
    before: dict[str, Any] | None = None,
    related: dict[str, list[Any]] | None = None,
    via: str = "",
) -> AuditEntry | None:
    """Write one audit entry. For an update, pass the ``snapshot`` taken before the
    change (or None to record only ``related``). ``related`` adds changes the field
    snapshot cannot see — many-to-many relations, authenticators — as
    ``{name: [old, new]}``. An update that changed nothing writes nothing."""
    if action == AuditAction.CREATE:
        changes = {k: [None, v] for k, v in snapshot(instance).items() if v not in (None, "")}
    elif action == AuditAction.UPDATE:
        changes = diff(before, snapshot(instance)) if before is not None else {}
    else:
        changes = {k: [v, None] for k, v in snapshot(instance).items() if v not in (None, "")}
    changes.update(
        {name: values for name, values in (related or {}).items() if values[0] != values[1]}
    )
    if action == AuditAction.UPDATE and not changes:
        return None
    signed_in = actor is not None and actor.is_authenticated
    return AuditEntry.objects.create(
        actor=actor if signed_in else None,
        actor_name=actor.get_username() if signed_in else "",
        action=action,
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=instance.pk,
        object_repr=str(instance)[:200],
        changes=changes,
        via=via,
    )


def entries_for(instance: models.Model):
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
        object_id=instance.pk,
    ).select_related("actor")

"""Writes on custom field definitions (Administration → Custom fields): one function
per use case, each checked (admin.users) and audited in the same transaction.

A field is never deleted: archiving hides it everywhere but leaves the values in
the records' ``custom`` JSON, and restoring brings them back. The key is fixed at
creation (the values are stored under it); the type may change only while no record
has a value for the field.
"""

import re
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.core import audit
from kontor.core.access import user_can
from kontor.core.customfields import ENTITIES
from kontor.core.models import AuditAction, CustomField, CustomFieldType
from kontor.core.permissions import Capability

FIELDS = ("label", "label_en", "field_type", "required", "help_text", "choices")
# A key is used in JSON paths and ORM lookups (custom__<key>__gte): lower-case, starting
# with a letter (a digit would read as an array index), no "__" (the lookup separator).
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CHOICE_TYPES = {CustomFieldType.CHOICE, CustomFieldType.MULTIPLE_CHOICE}


def _require_admin(actor) -> None:
    if actor is None or not user_can(actor, Capability.ADMIN_USERS):
        raise PermissionDenied(_("Your role does not allow this."))


def _check_fields(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")


def _clean_choices(field: CustomField) -> None:
    if field.field_type not in CHOICE_TYPES:
        field.choices = []
        return
    raw = field.choices or []
    if isinstance(raw, str):
        raw = raw.splitlines()
    choices: list[str] = []
    for choice in raw:
        text = str(choice).strip()
        if text and text not in choices:
            choices.append(text)
    if not choices:
        raise ValidationError({"choices": [_("Enter at least one choice, one per line.")]})
    field.choices = choices


def values_count(field: CustomField) -> int:
    """How many records hold a value for ``field`` (archived or not)."""
    model = apps.get_model(field.entity)
    return model.objects.filter(custom__has_key=field.key).count()


@transaction.atomic
def custom_field_create(*, actor, data: dict[str, Any], via: str = "ui") -> CustomField:
    """Define a new field for ``data["entity"]`` under ``data["key"]``, placed last."""
    _require_admin(actor)
    data = dict(data)
    _check_fields(data, ("entity", "key", "position", *FIELDS))
    field = CustomField(**data)
    errors: dict[str, list[str]] = {}
    if field.entity not in ENTITIES:
        errors["entity"] = [_("Choose an entity from the list.")]
    field.key = (field.key or "").strip()
    if not KEY_RE.match(field.key) or "__" in field.key:
        errors["key"] = [
            _(
                "Use lower-case letters, digits and single underscores, starting with a "
                "letter (e.g. shoe_size)."
            )
        ]
    elif CustomField.objects.filter(entity=field.entity, key=field.key).exists():
        # Archived fields count too: their values are still stored under the key.
        errors["key"] = [_("This entity already has a field with this key (perhaps archived).")]
    try:
        _clean_choices(field)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if "position" not in data:
        last = CustomField.objects.filter(entity=field.entity).aggregate(m=Max("position"))["m"]
        field.position = 0 if last is None else last + 1
    try:
        field.full_clean(exclude=[*errors, "position"], validate_unique=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    field.save()
    audit.record(actor=actor, action=AuditAction.CREATE, instance=field, via=via)
    return field


@transaction.atomic
def custom_field_update(
    *, actor, field: CustomField, data: dict[str, Any], via: str = "ui"
) -> CustomField:
    """Change a field's label, help text, required flag, choices or — while no record
    has a value for it — its type. The key and entity never change."""
    _require_admin(actor)
    data = dict(data)
    for fixed in ("key", "entity"):
        if fixed in data and data.pop(fixed) != getattr(field, fixed):
            raise ValidationError({fixed: [_("This cannot be changed after creation.")]})
    _check_fields(data, FIELDS)
    current = CustomField.objects.select_for_update().get(pk=field.pk)
    before = audit.snapshot(current)
    old_type = current.field_type
    for name, value in data.items():
        setattr(current, name, value)
    if current.field_type != old_type:
        count = values_count(current)
        if count:
            raise ValidationError(
                {
                    "field_type": [
                        _(
                            "The type cannot change while records hold values for this "
                            "field (%(count)s). Create a new field instead."
                        )
                        % {"count": count}
                    ]
                }
            )
    _clean_choices(current)
    current.full_clean(validate_unique=False)
    current.save()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current


def _set_archived(*, actor, field: CustomField, archived: bool, via: str) -> CustomField:
    _require_admin(actor)
    current = CustomField.objects.select_for_update().get(pk=field.pk)
    if (current.archived_at is not None) == archived:
        return current
    before = audit.snapshot(current)
    current.archived_at = timezone.now() if archived else None
    current.save(update_fields=["archived_at", "updated_at"])
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current


@transaction.atomic
def custom_field_archive(*, actor, field: CustomField, via: str = "ui") -> CustomField:
    """Hide the field from forms, pages, lists, filters and the API. The values stay
    in the records and come back with ``custom_field_restore``."""
    return _set_archived(actor=actor, field=field, archived=True, via=via)


@transaction.atomic
def custom_field_restore(*, actor, field: CustomField, via: str = "ui") -> CustomField:
    """Un-archive the field: its stored values show again."""
    return _set_archived(actor=actor, field=field, archived=False, via=via)


@transaction.atomic
def custom_field_move(*, actor, field: CustomField, offset: int, via: str = "ui") -> None:
    """Move ``field`` ``offset`` places (−1 up, +1 down) among its entity's fields;
    positions are renumbered 0, 1, 2 … and each changed one audited."""
    _require_admin(actor)
    fields = list(CustomField.objects.select_for_update().filter(entity=field.entity))
    index = next(i for i, f in enumerate(fields) if f.pk == field.pk)
    target = max(0, min(len(fields) - 1, index + offset))
    fields.insert(target, fields.pop(index))
    for position, item in enumerate(fields):
        if item.position != position:
            before = audit.snapshot(item)
            item.position = position
            item.save(update_fields=["position", "updated_at"])
            audit.record(
                actor=actor, action=AuditAction.UPDATE, instance=item, before=before, via=via
            )

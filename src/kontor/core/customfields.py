"""Custom fields: what an administrator defines per entity (core.CustomField) and how
values are validated, shown, edited and filtered. Values live in the record's
``custom`` JSON (OwnedRecord.custom) under the field's key.

Entities are named "<app_label>.<model_name>", e.g. "customers.person".

This is the one interface the forms, detail pages, lists, API, import/export and
search use; do not reimplement any of it elsewhere.
"""

from typing import Any

from django import forms
from django.db.models import Q

from kontor.core.models import CustomField


def entity_of(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def active_fields(entity: str) -> list[CustomField]:
    """The entity's fields that are not archived, in their order."""
    return list(CustomField.objects.filter(entity=entity, archived_at__isnull=True))


def form_fields(entity: str) -> dict[str, forms.Field]:
    """Django form fields for the entity's custom fields, named ``cf_<key>``."""
    raise NotImplementedError


def clean_values(entity: str, data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate and convert ``{key: value}`` to JSON-safe values. Raises
    ValidationError keyed by ``custom.<key>``. With ``partial`` (PATCH), missing
    required fields are not an error."""
    raise NotImplementedError


def display_values(entity: str, custom: dict[str, Any]) -> list[tuple[str, str]]:
    """(label in the active language, display text) for each active field."""
    raise NotImplementedError


def filter_q(entity: str, key: str, value: str, *, lookup: str = "exact") -> Q:
    """A filter on one custom field for list views and the API."""
    raise NotImplementedError

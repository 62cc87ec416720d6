"""What a step item asks for, read from its customer: the field a field item (or a
step's ``required_fields``) names, its current value and how it is filled in; and
whether an e-mail item can be sent on its own (and why not).

A field path is ``person.<attr>``, ``organization.<attr>`` (the organization of the
instance, or the person's primary one), ``custom.<key>`` (a custom field of the
instance's customer) or ``activity.body`` (a note in the customer's history). Only
plain, editable attributes are filled in here; psychographic fields and keys that
Kontor keeps itself are unknown to processes (neither shown nor written). A path
Kontor cannot check (``activity.body``, an undefined custom field) never holds an
item up: it is ticked off by hand."""

import datetime as dt
import uuid as uuid_module
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from kontor.core import customfields
from kontor.core.models import CustomField
from kontor.customers.models import PSYCHOGRAPHIC_FIELDS, Organization, Person
from kontor.customers.models.matchkeys import MatchKeyField
from kontor.mail.models import EmailTemplate
from kontor.processes.models import ProcessInstance

NOTE_FIELD = "activity.body"
# Attributes Kontor keeps itself (identity, ownership, bookkeeping).
_KEPT = {"id", "uuid", "owner", "team", "created_at", "updated_at", "custom", "version"}


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


@dataclass
class FieldSpec:
    """One field of one instance's customer."""

    path: str
    label: str
    record: Person | Organization | None = None
    attr: str = ""  # a model attribute …
    custom: CustomField | None = None  # … or a custom field …
    note: bool = False  # … or a note in the history

    @property
    def checkable(self) -> bool:
        """Whether Kontor can tell that the field is filled."""
        return self.record is not None and not self.note

    @property
    def fillable(self) -> bool:
        """Whether the field can be filled in from the process."""
        if self.note:
            return True
        if self.record is None:
            return False
        if self.custom is not None:
            return True
        field = self.record._meta.get_field(self.attr)
        return not field.is_relation

    @property
    def value(self) -> Any:
        """The stored value (JSON-safe: a related record as its uuid)."""
        if not self.checkable:
            return None
        if self.custom is not None:
            return (self.record.custom or {}).get(self.custom.key)
        value = getattr(self.record, self.attr, None)
        if isinstance(value, models.Model):
            return getattr(value, "uuid", value.pk)
        if isinstance(value, Decimal):
            return str(value)
        return value

    @property
    def filled(self) -> bool:
        return self.checkable and not _empty(self.value)

    @property
    def display(self) -> str:
        """The value as the instance page shows it ("" when empty)."""
        if not self.filled:
            return ""
        if self.custom is not None:
            entity = customfields.entity_of(type(self.record))
            return customfields.display_values(
                entity, self.record.custom or {}, fields=[self.custom]
            )[0][1]
        field = self.record._meta.get_field(self.attr)
        value = getattr(self.record, self.attr)
        if field.is_relation:
            return str(value)
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, dt.date):
            return formats.date_format(value, "SHORT_DATE_FORMAT")
        return str(value)

    def formfield(self) -> forms.Field | None:
        """A form field for the value (required), None when not fillable."""
        if not self.fillable:
            return None
        if self.note:
            return forms.CharField(
                label=self.label, max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
            )
        if self.custom is not None:
            entity = customfields.entity_of(type(self.record))
            field = customfields.form_fields(entity).get(f"cf_{self.custom.key}")
        else:
            field = self.record._meta.get_field(self.attr).formfield()
        if field is None:
            return None
        field.required = True
        field.label = self.label
        return field


def _model_attr(model, name: str) -> str | None:
    """``name`` if it is a concrete, editable attribute of ``model`` processes may use."""
    if name in _KEPT or name in PSYCHOGRAPHIC_FIELDS or name.startswith("_"):
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not getattr(field, "concrete", False) or not field.editable:
        return None
    if isinstance(field, MatchKeyField) or field.many_to_many:
        return None
    return name


def field_spec(instance: ProcessInstance, path: Any) -> FieldSpec | None:
    """The field ``path`` names on the instance's customer; None for a path that
    names nothing Kontor knows."""
    if not isinstance(path, str):
        return None
    if path == NOTE_FIELD:
        return FieldSpec(path=path, label=_("Note in the history"), note=True)
    head, _sep, name = path.partition(".")
    if not name:
        return None
    subject = instance.person if instance.person_id else instance.organization
    if head == "custom":
        entity = customfields.entity_of(type(subject))
        field = next((f for f in customfields.active_fields(entity) if f.key == name), None)
        if field is None:
            return FieldSpec(path=path, label=name)
        return FieldSpec(
            path=path, label=customfields.label_of(field), record=subject, custom=field
        )
    if head == "person":
        model, record = Person, instance.person
    elif head == "organization":
        model = Organization
        record = instance.organization or (
            instance.person.organization if instance.person_id else None
        )
    else:
        return None
    attr = _model_attr(model, name)
    if attr is None:
        return None
    label = capfirst(str(model._meta.get_field(attr).verbose_name))
    return FieldSpec(path=path, label=label, record=record, attr=attr)


def item_field(instance: ProcessInstance, activity) -> FieldSpec | None:
    config = activity.config if isinstance(activity.config, dict) else {}
    return field_spec(instance, config.get("field"))


# --- E-mail items ---------------------------------------------------------------------------


def _template_uuid(config: dict) -> uuid_module.UUID | None:
    try:
        return uuid_module.UUID(str(config.get("template") or ""))
    except ValueError:
        return None


def mail_template(config: Any) -> EmailTemplate | None:
    """The item's template, if it is set and still usable (not archived)."""
    config = config if isinstance(config, dict) else {}
    key = _template_uuid(config)
    if key is None:
        return None
    return EmailTemplate.objects.filter(uuid=key, archived=False).first()


def mail_sends(config: Any) -> bool:
    return isinstance(config, dict) and config.get("send") is True


def mail_problem(instance: ProcessInstance, config: Any, *, sender) -> str:
    """Why the e-mail of an item cannot go out by itself ("" when it can)."""
    config = config if isinstance(config, dict) else {}
    if not instance.person_id:
        return _("The process runs on an organization: there is no person to write to.")
    if not config.get("template"):
        return _("No e-mail template is set for this activity.")
    if mail_template(config) is None:
        return _("The e-mail template no longer exists.")
    if not instance.person.email:
        return _("%(name)s has no e-mail address.") % {"name": instance.person.full_name}
    if sender is None or not sender.is_active:
        return _("No one is responsible for sending it.")
    return ""

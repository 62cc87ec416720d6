"""Custom fields: what an administrator defines per entity (core.CustomField) and how
values are validated, shown, edited and filtered. Values live in the record's
``custom`` JSON (OwnedRecord.custom) under the field's key.

Entities are named "<app_label>.<model_name>", e.g. "customers.person".

This is the one interface the forms, detail pages, lists, API, import/export and
search use; do not reimplement any of it elsewhere.

Stored (JSON-safe) values by type: text, long text, choice, URL, e-mail → str;
number → int; decimal → str of the Decimal ("1234.50"); date → ISO "YYYY-MM-DD";
yes/no → bool; multiple choice → list of str. An empty value is not stored: the
key is absent (``clean_values`` returns None for it so that a merge removes it,
see ``merge_values``). Values of archived fields stay in ``custom`` untouched, so
un-archiving a field brings them back.
"""

import datetime
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import DecimalField, Q
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.db.models.lookups import Exact, GreaterThanOrEqual, LessThanOrEqual
from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from kontor.core.models import CustomField, CustomFieldType

T = CustomFieldType

# The entities that have custom fields: "<app_label>.<model_name>" → plural name, in
# the order their apps registered them (``register_entity`` in ``AppConfig.ready()``;
# customers: persons, organizations). The administration lists them in this order.
ENTITIES: dict[str, Promise] = {}


def register_entity(entity: str, label: Promise) -> None:
    """Let administrators define custom fields for ``entity`` ("customers.person").
    Call it from the app's ``AppConfig.ready()``: the API reads the known entities
    when its URLs load."""
    ENTITIES[entity] = label


# JavaScript clients lose precision above 2**53; keep whole numbers inside it.
MAX_NUMBER = 2**53 - 1
TEXT_MAX_LENGTH = 255
LONG_TEXT_MAX_LENGTH = 10_000
# Filters cast decimal values to numeric(30, 10); the form field keeps inside it.
DECIMAL_MAX_DIGITS = 30
DECIMAL_PLACES = 10

LOOKUPS = ("exact", "contains", "gte", "lte", "isnull")
_TEXT_TYPES = {T.TEXT, T.LONG_TEXT, T.CHOICE, T.URL, T.EMAIL}
_RANGE_TYPES = {T.NUMBER, T.DECIMAL, T.DATE}
_TRUE = {"true", "1", "yes", "on", "ja"}
_FALSE = {"false", "0", "no", "off", "nein"}


def entity_of(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def active_fields(entity: str) -> list[CustomField]:
    """The entity's fields that are not archived, in their order."""
    return list(CustomField.objects.filter(entity=entity, archived_at__isnull=True))


def label_of(field: CustomField) -> str:
    """The field's label in the active language: label_en in English if set."""
    language = translation.get_language() or ""
    if language.startswith("en") and field.label_en:
        return field.label_en
    return field.label


def _choice_list(field: CustomField) -> list[str]:
    return [str(c) for c in (field.choices or [])]


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationError(_("Enter yes or no."), code="invalid")


def _form_field(field: CustomField) -> forms.Field:
    common = {
        "label": label_of(field),
        "help_text": field.help_text,
        "required": field.required,
    }
    match field.field_type:
        case T.TEXT:
            return forms.CharField(max_length=TEXT_MAX_LENGTH, **common)
        case T.LONG_TEXT:
            return forms.CharField(
                max_length=LONG_TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4}), **common
            )
        case T.NUMBER:
            return forms.IntegerField(min_value=-MAX_NUMBER, max_value=MAX_NUMBER, **common)
        case T.DECIMAL:
            return forms.DecimalField(
                max_digits=DECIMAL_MAX_DIGITS, decimal_places=DECIMAL_PLACES, **common
            )
        case T.DATE:
            return forms.DateField(
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common
            )
        case T.BOOLEAN:
            # A select (—/yes/no) rather than a checkbox: "required" then means
            # "answer the question", and an unanswered optional field stays empty.
            return forms.TypedChoiceField(
                choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))],
                coerce=_boolean,
                empty_value=None,
                **common,
            )
        case T.CHOICE:
            return forms.ChoiceField(
                choices=[("", "—"), *((c, c) for c in _choice_list(field))], **common
            )
        case T.MULTIPLE_CHOICE:
            return forms.MultipleChoiceField(
                choices=[(c, c) for c in _choice_list(field)],
                widget=forms.CheckboxSelectMultiple,
                **common,
            )
        case T.URL:
            return forms.URLField(max_length=500, assume_scheme="https", **common)
        case T.EMAIL:
            return forms.EmailField(max_length=254, **common)
    raise ValueError(f"unknown custom field type {field.field_type!r}")


def form_fields(entity: str) -> dict[str, forms.Field]:
    """Django form fields for the entity's custom fields, named ``cf_<key>``.

    Use ``form_initial`` to fill them from a record's ``custom`` and
    ``form_values`` to turn a bound form's cleaned_data back into the ``custom``
    dict the services take (they validate it again with ``clean_values``)."""
    return {f"cf_{field.key}": _form_field(field) for field in active_fields(entity)}


def form_initial(entity: str, custom: dict[str, Any] | None) -> dict[str, Any]:
    """Initial values for ``form_fields`` from a record's ``custom``."""
    custom = custom or {}
    initial: dict[str, Any] = {}
    for field in active_fields(entity):
        value = custom.get(field.key)
        if value is None:
            continue
        if field.field_type == T.BOOLEAN:
            value = "true" if value else "false"
        initial[f"cf_{field.key}"] = value
    return initial


def form_values(cleaned_data: dict[str, Any]) -> dict[str, Any]:
    """``{key: value}`` from the ``cf_<key>`` entries of a form's cleaned_data."""
    return {name[3:]: value for name, value in cleaned_data.items() if name.startswith("cf_")}


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _convert(field: CustomField, value: Any) -> Any:
    """One non-empty value → its JSON-safe form, or ValidationError (translated)."""
    kind = field.field_type
    if kind in (T.TEXT, T.LONG_TEXT, T.URL, T.EMAIL):
        if not isinstance(value, str):
            raise ValidationError(_("Enter text."), code="invalid")
        return _form_field(field).clean(value)
    if kind == T.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | str | float | Decimal):
            raise ValidationError(_("Enter a whole number."), code="invalid")
        return _form_field(field).clean(value)
    if kind == T.DECIMAL:
        if isinstance(value, bool) or not isinstance(value, int | str | float | Decimal):
            raise ValidationError(_("Enter a number."), code="invalid")
        if isinstance(value, float):
            value = str(value)  # the shortest repr, not the binary expansion
        number = _form_field(field).clean(value)
        return format(number, "f")
    if kind == T.DATE:
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass  # perhaps a localised date from a form: the form field knows them
        elif not isinstance(value, datetime.date):
            raise ValidationError(_("Enter a valid date."), code="invalid")
        return _form_field(field).clean(value).isoformat()
    if kind == T.BOOLEAN:
        return _boolean(value)
    if kind == T.CHOICE:
        if not isinstance(value, str) or value not in _choice_list(field):
            raise ValidationError(
                _("Select a valid choice. %(value)s is not one of the available choices.")
                % {"value": value},
                code="invalid_choice",
            )
        return value
    if kind == T.MULTIPLE_CHOICE:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise ValidationError(_("Enter a list of values."), code="invalid_list")
        allowed = _choice_list(field)
        chosen: list[str] = []
        for item in value:
            if not isinstance(item, str) or item not in allowed:
                raise ValidationError(
                    _("Select a valid choice. %(value)s is not one of the available choices.")
                    % {"value": item},
                    code="invalid_choice",
                )
            if item not in chosen:
                chosen.append(item)
        return chosen
    raise ValidationError(_("Unknown field."), code="unknown")


def clean_values(entity: str, data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate and convert ``{key: value}`` to JSON-safe values. Raises
    ValidationError keyed by ``custom.<key>``. With ``partial`` (PATCH), missing
    required fields are not an error.

    The result holds the keys of ``data`` only; an emptied value comes back as None
    (``merge_values`` then removes the key). Keys of unknown or archived fields
    are an error."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError({"custom": [_("Send a JSON object.")]})
    fields = {field.key: field for field in active_fields(entity)}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key in data:
        if key not in fields:
            errors[f"custom.{key}"] = [_("Unknown field.")]
    for key, field in fields.items():
        if key not in data:
            if field.required and not partial:
                errors[f"custom.{key}"] = [_("This field is required.")]
            continue
        value = data[key]
        if isinstance(value, str) and field.field_type not in (T.TEXT, T.LONG_TEXT):
            value = value.strip()
        if _is_empty(value):
            if field.required:
                errors[f"custom.{key}"] = [_("This field is required.")]
            else:
                cleaned[key] = None
            continue
        try:
            cleaned[key] = _convert(field, value)
        except ValidationError as exc:
            errors[f"custom.{key}"] = [str(m) for m in exc.messages]
    if errors:
        raise ValidationError(errors)
    return cleaned


def merge_values(existing: dict[str, Any] | None, cleaned: dict[str, Any]) -> dict[str, Any]:
    """``existing`` with ``cleaned`` (from clean_values) applied: None removes a key.
    Values of archived fields in ``existing`` are kept."""
    merged = dict(existing or {})
    for key, value in cleaned.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def active_values(entity: str, custom: dict[str, Any] | None) -> dict[str, Any]:
    """The stored values of the entity's active fields (for the API and exports):
    archived fields' values are hidden, not lost."""
    custom = custom or {}
    return {f.key: custom[f.key] for f in active_fields(entity) if f.key in custom}


def _display(field: CustomField, value: Any) -> str:
    if _is_empty(value):
        return ""
    try:
        match field.field_type:
            case T.NUMBER:
                return formats.number_format(int(value), force_grouping=True)
            case T.DECIMAL:
                return formats.number_format(Decimal(str(value)), force_grouping=True)
            case T.DATE:
                day = datetime.date.fromisoformat(str(value))
                return formats.date_format(day, "SHORT_DATE_FORMAT")
            case T.BOOLEAN:
                return _("Yes") if value else _("No")
            case T.MULTIPLE_CHOICE:
                if isinstance(value, list | tuple):
                    return ", ".join(str(v) for v in value)
    except (ValueError, TypeError, InvalidOperation):
        pass  # a value stored before a type change: show it as it is
    return str(value)


def display_values(
    entity: str, custom: dict[str, Any], *, fields: list[CustomField] | None = None
) -> list[tuple[str, str]]:
    """(label in the active language, display text) for each active field.

    Empty values come back as "" (the template decides whether to show a dash or
    skip the row). Numbers and dates use the active locale's format. Lists pass the
    ``fields`` they loaded once, so a page of rows costs no query per row."""
    custom = custom or {}
    fields = active_fields(entity) if fields is None else fields
    return [(label_of(f), _display(f, custom.get(f.key))) for f in fields]


def _filter_value(field: CustomField, value: str) -> Any:
    try:
        return _convert(field, [value] if field.field_type == T.MULTIPLE_CHOICE else value)
    except ValidationError as exc:
        raise ValidationError({f"custom.{field.key}": [str(m) for m in exc.messages]}) from exc


def filter_q(entity: str, key: str, value: str, *, lookup: str = "exact") -> Q:
    """A filter on one custom field for list views and the API.

    Lookups: ``exact`` (for multiple choice: the value is among the chosen ones),
    ``contains`` (case-insensitive for text types; for multiple choice the same
    as exact), ``gte``/``lte`` (number, decimal, date), ``isnull`` (value
    "true": no value stored). Unknown or archived keys, a lookup the type does not
    support, or a value of the wrong type raise ValidationError keyed
    ``custom.<key>``. Works on SQLite and PostgreSQL."""
    field = next((f for f in active_fields(entity) if f.key == key), None)
    error_key = f"custom.{key}"
    if field is None:
        raise ValidationError({error_key: [_("Unknown field.")]})
    kind = field.field_type
    path = f"custom__{key}"
    value = (value or "").strip() if isinstance(value, str) else value

    if lookup == "isnull":
        missing = _boolean(value) if value not in ("", None) else True
        # Empty values are never stored, so "no value" means "key absent".
        return Q(**{f"{path}__isnull": missing})
    if lookup in ("gte", "lte"):
        if kind not in _RANGE_TYPES:
            raise ValidationError({error_key: [_("This field cannot be filtered by range.")]})
        converted = _filter_value(field, value)
        compare = GreaterThanOrEqual if lookup == "gte" else LessThanOrEqual
        if kind == T.DECIMAL:
            # Stored as strings: compare as numbers, not text.
            number = Cast(
                KT(path), DecimalField(max_digits=DECIMAL_MAX_DIGITS, decimal_places=DECIMAL_PLACES)
            )
            return Q(compare(number, Decimal(converted)))
        if kind == T.DATE:
            # ISO dates order correctly as text.
            return Q(compare(KT(path), converted))
        return Q(**{f"{path}__{lookup}": converted})
    if lookup not in ("exact", "contains"):
        raise ValidationError({error_key: [_("Unknown filter.")]})

    if kind == T.MULTIPLE_CHOICE:
        (choice,) = _filter_value(field, value)
        if connection.vendor == "postgresql":
            return Q(**{"custom__contains": {key: [choice]}})
        # SQLite has no JSON containment: match the JSON-encoded element in the
        # array's text, encoded as Django stores it (ensure_ascii).
        # (Its LIKE ignores ASCII case either way; choices differing only in case
        # are not told apart here.)
        return Q(**{f"{path}__icontains": json.dumps(choice)})
    if lookup == "contains" and kind in _TEXT_TYPES:
        if not value:
            return Q()
        return Q(**{f"{path}__icontains": value})
    if lookup == "contains":
        raise ValidationError({error_key: [_("Unknown filter.")]})
    converted = _filter_value(field, value)
    if kind == T.DECIMAL:
        number = Cast(
            KT(path), DecimalField(max_digits=DECIMAL_MAX_DIGITS, decimal_places=DECIMAL_PLACES)
        )
        return Q(Exact(number, Decimal(converted)))
    return Q(**{f"{path}__exact": converted})


def api_schema(entity: str) -> list[dict[str, Any]]:
    """The entity's active fields as the API describes them: key, label (active
    language), type, required, choices, help text — in their order."""
    return [
        {
            "key": f.key,
            "label": label_of(f),
            "type": str(f.field_type),
            "required": f.required,
            "choices": _choice_list(f) if f.field_type in (T.CHOICE, T.MULTIPLE_CHOICE) else [],
            "help_text": f.help_text,
        }
        for f in active_fields(entity)
    ]

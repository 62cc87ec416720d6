"""Cursor pagination: stable while rows are inserted, fast at any depth (keyset).

Lists are ordered by a unique key; the cursor is that key of the last row served,
opaque to clients (base64 of JSON). The web lists page the same way."""

import base64
import binascii
import json
from typing import Any

from django.core.exceptions import BadRequest, FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from ninja import Field, Schema

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CURSOR_LENGTH = 2000


class InvalidCursor(BadRequest):
    """The cursor was not made by us (or by this list). The API answers 400 as a
    problem; a web view answers with the 400 page."""

    def __init__(self):
        super().__init__(_("The cursor is not valid. Start again without it."))


class ListParams(Schema):
    """The query parameters every list endpoint takes."""

    q: str = Field(
        "",
        max_length=200,
        description="Filter: matched like the search box (umlauts, prefixes, typos in names).",
    )
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page; leave out for the first page.",
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page (1 to 200).")


class CursorPage(Schema):
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` to get the next page; null on the last page."
    )


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidCursor from exc
    if not isinstance(values, list):
        raise InvalidCursor
    return values


def paginate(
    queryset: QuerySet, *, cursor: str | None, limit: int, order: tuple[str, ...] = ("id",)
) -> tuple[list, str | None]:
    """One page of ``queryset`` in ``order`` (field names, ``-`` for descending; the
    last one must be unique and not nullable), and the cursor of the page after
    it or None. A cursor that does not fit ``order`` raises InvalidCursor.

    Nullable fields sort as if NULL were the largest value on every database
    (last ascending, first descending), so the keyset condition stays exact."""
    limit = max(1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))
    queryset = queryset.order_by(*_order_by(queryset.model, order))
    if cursor:
        values = _typed(queryset.model, order, decode_cursor(cursor))
        queryset = queryset.filter(_after(order, values, _nullable(queryset.model, order)))
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor([_value(last, f.lstrip("-")) for f in order])


def _nullable(model, order: tuple[str, ...]) -> list[bool]:
    return [_field(model, f.lstrip("-")).null for f in order]


def _order_by(model, order: tuple[str, ...]) -> list:
    terms = []
    for field_path, nullable in zip(order, _nullable(model, order), strict=True):
        name = field_path.lstrip("-")
        if not nullable:
            terms.append(field_path)
        elif field_path.startswith("-"):
            terms.append(F(name).desc(nulls_first=True))
        else:
            terms.append(F(name).asc(nulls_last=True))
    return terms


def _typed(model, order: tuple[str, ...], values: list[Any]) -> list[Any]:
    """The cursor's values as the model's fields expect them, or InvalidCursor: a
    made-up cursor must be a 400, never a database error."""
    if len(values) != len(order):
        raise InvalidCursor
    typed = []
    for field_path, value in zip(order, values, strict=True):
        field = _field(model, field_path.lstrip("-"))
        if value is None and field.null:
            typed.append(None)
            continue
        if not isinstance(value, str | int | float) or "\x00" in str(value):
            raise InvalidCursor
        try:
            value = field.to_python(value)
            field.run_validators(value)  # e.g. the integer range of the id
        except (DjangoValidationError, ValueError, TypeError, OverflowError) as exc:
            raise InvalidCursor from exc
        typed.append(value)
    return typed


def _field(model, path: str):
    parts = path.split("__")
    try:
        for part in parts[:-1]:
            model = model._meta.get_field(part).related_model
        return model._meta.get_field(parts[-1])
    except FieldDoesNotExist as exc:  # a programming error, not the client's
        raise ValueError(f"Cannot page by {path!r}") from exc


def _value(row: Any, path: str) -> Any:
    for part in path.split("__"):
        row = getattr(row, part)
    return row


def _after(order: tuple[str, ...], values: list[Any], nullable: list[bool] | None = None) -> Q:
    """(a, b) > (x, y) as a filter, honouring each field's direction; NULL counts
    as the largest value (see paginate)."""
    nullable = nullable or [False] * len(order)
    condition = Q()
    for i, field in enumerate(order):
        name = field.lstrip("-")
        descending = field.startswith("-")
        value = values[i]
        if value is None:
            # Nothing is larger than NULL; descending, every non-NULL comes after it.
            if not descending:
                continue
            step = Q(**{f"{name}__isnull": False})
        else:
            step = Q(**{f"{name}__{'lt' if descending else 'gt'}": value})
            if nullable[i] and not descending:
                step |= Q(**{f"{name}__isnull": True})
        for prev_field, prev_value in zip(order[:i], values[:i], strict=True):
            prev_name = prev_field.lstrip("-")
            if prev_value is None:
                step &= Q(**{f"{prev_name}__isnull": True})
            else:
                step &= Q(**{prev_name: prev_value})
        condition |= step
    # A bound on the leading column alone lets the database start an index range
    # scan at the cursor instead of filtering every row before it.
    if values and values[0] is not None and not nullable[0]:
        lead = order[0].lstrip("-")
        condition &= Q(**{f"{lead}__{'lte' if order[0].startswith('-') else 'gte'}": values[0]})
    return condition

"""Cursor pagination: stable while rows are inserted, fast at any depth (keyset).

Lists are ordered by a unique key; the cursor is that key of the last row served,
opaque to clients (base64 of JSON)."""

import base64
import binascii
import json
from typing import Any

from django.db.models import Q, QuerySet
from ninja import Field, Schema
from ninja.errors import HttpError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class CursorPage(Schema):
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page.")


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise HttpError(400, "Invalid cursor.") from exc
    if not isinstance(values, list):
        raise HttpError(400, "Invalid cursor.")
    return values


def paginate(
    queryset: QuerySet, *, cursor: str | None, limit: int, order: tuple[str, ...] = ("id",)
) -> tuple[list, str | None]:
    """One page of ``queryset`` in ``order`` (field names, ``-`` for descending; the
    last one must be unique), and the cursor of the page after it or None."""
    limit = max(1, min(limit or DEFAULT_LIMIT, MAX_LIMIT))
    queryset = queryset.order_by(*order)
    if cursor:
        values = decode_cursor(cursor)
        if len(values) != len(order):
            raise HttpError(400, "Invalid cursor.")
        queryset = queryset.filter(_after(order, values))
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor([_value(last, f.lstrip("-")) for f in order])


def _value(row: Any, path: str) -> Any:
    for part in path.split("__"):
        row = getattr(row, part)
    return row


def _after(order: tuple[str, ...], values: list[Any]) -> Q:
    """(a, b) > (x, y) as a filter, honouring each field's direction."""
    condition = Q()
    for i, field in enumerate(order):
        name = field.lstrip("-")
        op = "lt" if field.startswith("-") else "gt"
        step = Q(**{f"{name}__{op}": values[i]})
        for prev_field, prev_value in zip(order[:i], values[:i], strict=True):
            step &= Q(**{prev_field.lstrip("-"): prev_value})
        condition |= step
    return condition

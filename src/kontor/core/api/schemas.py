"""Base for request bodies: unknown fields are refused (a typo must not be a silent
no-op), and text never carries NUL characters (PostgreSQL cannot store them). Text
arrives in NFC; names (``Name``, ``RequiredName``) also lose invisible format
characters, as in the forms (core.normalize)."""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, field_validator

from kontor.core import normalize
from kontor.core.api.datetimes import within_the_calendar

_NUMBER = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*")


def _not_a_number(value: Any) -> Any:
    # pydantic reads a number as a Unix timestamp ("since=0.5" is 1970); the document
    # promises an ISO 8601 date-time, so a number is refused as in the document.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError(_("Enter a valid date/time."))
    return value


def _not_a_day_number(value: Any) -> Any:
    # The same for a date: pydantic took "due_before=0" for 1970-01-01.
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise ValueError(_("Enter a valid date."))
    return value


IsoDate = Annotated[date, BeforeValidator(_not_a_day_number)]


def _in_utc(value: datetime) -> datetime:
    # PostgreSQL refuses an offset beyond ±15:59 ("-20:49" was a 500), and an instant
    # near year 1 or 9999 may not exist in UTC: both are refused here, on both databases.
    if value.tzinfo is None:
        return value
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(_("Enter a valid date/time.")) from None


# A date-time the databases can store: no number, within the calendar in UTC (see
# core.api.datetimes), kept as its UTC instant.
IsoDateTime = Annotated[
    datetime,
    BeforeValidator(_not_a_number),
    AfterValidator(within_the_calendar),
    AfterValidator(_in_utc),
]

# A row id as a filter takes it: the databases' 64-bit range (SQLite cannot bind more).
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(_("Null characters are not allowed."))
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _nfc(cls, value: Any) -> Any:
        return _nfc_deep(value)


def _nfc_deep(value: Any) -> Any:
    if isinstance(value, str):
        return normalize.nfc(value)
    if isinstance(value, list):
        return [_nfc_deep(v) for v in value]
    if isinstance(value, dict):
        return {k: _nfc_deep(v) for k, v in value.items()}
    return value


def _name(value: Any) -> Any:
    return normalize.clean_name(value) if isinstance(value, str) else value


def _required_name(value: Any) -> Any:
    value = _name(value)
    if value == "":
        # The forms' message for the same input (spaces or invisible characters only).
        raise ValueError(_("This field is required."))
    return value


Name = Annotated[str, BeforeValidator(_name)]
RequiredName = Annotated[str, BeforeValidator(_required_name)]

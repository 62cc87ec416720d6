"""Base for request bodies: unknown fields are refused (a typo must not be a silent
no-op), and text never carries NUL characters (PostgreSQL cannot store them)."""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, field_validator

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


IsoDateTime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_in_utc)]

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

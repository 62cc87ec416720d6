"""Base for request bodies: unknown fields are refused (a typo must not be a silent
no-op), and text never carries NUL characters (PostgreSQL cannot store them)."""

from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

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

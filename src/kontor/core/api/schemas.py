"""Base for request bodies: unknown fields are refused (a typo must not be a silent
no-op), and text never carries NUL characters (PostgreSQL cannot store them). Text
arrives in NFC; names (``Name``, ``RequiredName``) also lose invisible format
characters, as in the forms (core.normalize)."""

from typing import Annotated, Any

from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import BeforeValidator, ConfigDict, field_validator

from kontor.core import normalize


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

"""The API's request and response bodies for customers.

Create bodies (``…In``) give defaults for everything optional; change bodies
(``…Patch``) change only the fields sent. A text field may be left out but not sent
as null; the fields that may be empty in the database (``organization``,
``birth_date``) take null. Lengths and choices come from the models."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from ninja import Field, Schema

from kontor.core.api.pagination import CursorPage
from kontor.core.api.schemas import InputSchema
from kontor.customers.models import Organization, Person

VERSION_HELP = "Optimistic locking: the `version` you read. If the record changed since, 409."


def _text(model, name: str, default: Any = None, **kwargs) -> Any:
    """A text field as the model defines it: its choices (documented; the model
    validates them, with a translated message) or its maximum length."""
    field = model._meta.get_field(name)
    if field.choices:
        kwargs["json_schema_extra"] = {"enum": [value for value, _label in field.choices]}
    elif field.max_length:
        kwargs["max_length"] = field.max_length
    return Field(default, **kwargs)


def _org(name: str, default: Any = None, **kwargs) -> Any:
    return _text(Organization, name, default, **kwargs)


def _person(name: str, default: Any = None, **kwargs) -> Any:
    return _text(Person, name, default, **kwargs)


class OrganizationIn(InputSchema):
    name: str = _org("name", ..., min_length=1)
    kind: str = _org("kind", "business")
    status: str = _org("status", "prospect")
    industry: str = _org("industry", "")
    street: str = _org("street", "")
    postal_code: str = _org("postal_code", "")
    city: str = _org("city", "")
    country: str = _org("country", "DE", description="ISO 3166 code, e.g. DE, AT, CH.")
    website: str = _org("website", "")
    phone: str = _org("phone", "")
    email: str = _org("email", "")


class OrganizationPatch(InputSchema):
    name: str = _org("name", min_length=1)
    kind: str = _org("kind")
    status: str = _org("status")
    industry: str = _org("industry")
    street: str = _org("street")
    postal_code: str = _org("postal_code")
    city: str = _org("city")
    country: str = _org("country")
    website: str = _org("website")
    phone: str = _org("phone")
    email: str = _org("email")
    version: int | None = Field(None, description=VERSION_HELP)


class OrganizationOut(Schema):
    uuid: UUID
    name: str
    kind: str
    status: str
    industry: str
    street: str
    postal_code: str
    city: str
    country: str
    website: str
    phone: str
    email: str
    owner: str | None = Field(None, alias="owner.username")
    version: int
    created_at: datetime
    updated_at: datetime


class OrganizationPage(CursorPage):
    items: list[OrganizationOut]


class PersonIn(InputSchema):
    salutation: str = _person("salutation", "")
    title: str = _person("title", "")
    first_name: str = _person("first_name", "")
    last_name: str = _person("last_name", ..., min_length=1)
    organization: UUID | None = Field(None, description="The `uuid` of an organization.")
    job_title: str = _person("job_title", "")
    email: str = _person("email", "")
    phone: str = _person("phone", "")
    city: str = _person("city", "")
    birth_date: date | None = None


class PersonPatch(InputSchema):
    salutation: str = _person("salutation")
    title: str = _person("title")
    first_name: str = _person("first_name")
    last_name: str = _person("last_name", min_length=1)
    organization: UUID | None = Field(
        None, description="The `uuid` of an organization; null unlinks."
    )
    job_title: str = _person("job_title")
    email: str = _person("email")
    phone: str = _person("phone")
    city: str = _person("city")
    birth_date: date | None = None
    version: int | None = Field(None, description=VERSION_HELP)


class PersonOut(Schema):
    uuid: UUID
    salutation: str
    title: str
    first_name: str
    last_name: str
    organization: UUID | None = Field(None, alias="organization.uuid")
    job_title: str
    email: str
    phone: str
    city: str
    birth_date: date | None
    owner: str | None = Field(None, alias="owner.username")
    version: int
    created_at: datetime
    updated_at: datetime


class PersonPage(CursorPage):
    items: list[PersonOut]

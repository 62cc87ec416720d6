from datetime import date, datetime
from uuid import UUID

from ninja import Field, Schema

from kontor.core.api.pagination import CursorPage


class OrganizationIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    kind: str = "business"
    status: str = "prospect"
    industry: str = ""
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "DE"
    website: str = ""
    phone: str = ""
    email: str = ""


class OrganizationPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: str | None = None
    status: str | None = None
    industry: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    website: str | None = None
    phone: str | None = None
    email: str | None = None
    version: int | None = Field(None, description="Optimistic locking: the version you read.")


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


class PersonIn(Schema):
    salutation: str = ""
    title: str = ""
    first_name: str = ""
    last_name: str = Field(..., min_length=1, max_length=100)
    organization: UUID | None = None
    job_title: str = ""
    email: str = ""
    phone: str = ""
    city: str = ""
    birth_date: date | None = None


class PersonPatch(Schema):
    salutation: str | None = None
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = Field(None, min_length=1, max_length=100)
    organization: UUID | None = None
    job_title: str | None = None
    email: str | None = None
    phone: str | None = None
    city: str | None = None
    birth_date: date | None = None
    version: int | None = Field(None, description="Optimistic locking: the version you read.")


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

"""The API's request and response bodies for customers.

Create bodies (``…In``) give defaults for everything optional; change bodies
(``…Patch``) change only the fields sent. A text field may be left out but not sent
as null; the fields that may be empty in the database (``organization``,
``birth_date``) take null. Lengths and choices come from the models."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from ninja import Field, Schema

from kontor.core import customfields
from kontor.core.access import user_can
from kontor.core.api.pagination import CursorPage
from kontor.core.api.schemas import InputSchema, IsoDate, Name, RequiredName
from kontor.core.permissions import Capability
from kontor.customers import queries
from kontor.customers.models import (
    PSYCHOGRAPHIC_FIELDS,
    BuyingRole,
    ContactRole,
    Organization,
    Person,
)

VERSION_HELP = (
    "Required (optimistic locking): the `version` you read. If the record changed since, "
    "409; without it, 422."
)


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


CUSTOM_HELP = (
    "Custom field values by key, typed by the field: text, long_text, choice, url, "
    'email → string; number → integer; decimal → string ("1234.50"); date → '
    '"YYYY-MM-DD"; boolean → true/false; multiple_choice → list of strings. '
    "GET /api/v1/custom-fields lists the fields. In a PATCH, the keys sent are "
    'changed; null or "" empties a value.'
)
PSYCHOGRAPHIC_HELP = (
    "Interests, values, attitudes and preferences. Only roles with the "
    "customers.psychographic capability read them (otherwise null) and write them "
    "(otherwise 403, nothing saved)."
)
LINK_HELP = "The `uuid` of the organization; null if there is none or you may not see it."
HIDDEN_HELP = (
    "True if linked to an organization you may not see (then the uuid above is null). "
    "A change that sends null for it keeps that link."
)
TAGS_HELP = "Tag names; unknown names are refused. Replaces the record's tags."


def remember_custom_fields(request, entity: str, fields) -> None:
    """Tell ``_custom_out`` the entity's active fields when a caller has read them
    already (the list filters do), saving the query."""
    request.__dict__.setdefault("_kontor_custom_keys", {})[entity] = [f.key for f in fields]


def _custom_out(obj, context) -> dict[str, Any]:
    """The values of the entity's active fields. The field list is read once per
    request, so a page of 200 records costs one query for it, not 200."""
    request = context["request"]
    cache = request.__dict__.setdefault("_kontor_custom_keys", {})
    entity = customfields.entity_of(type(obj))
    if entity not in cache:
        cache[entity] = [field.key for field in customfields.active_fields(entity)]
    custom = obj.custom or {}
    return {key: custom[key] for key in cache[entity] if key in custom}


def _link_out(obj, link: str) -> UUID | None:
    # Read with customers.queries.with_organization_visibility: no query per record.
    organization = queries.linked_organization(obj, link)
    return organization.uuid if organization is not None else None


def _tags_out(obj) -> list[str]:
    # Prefetched by the queries (prefetch_related("tags")): no query per record.
    return [tag.name for tag in obj.tags.all()]


class OrganizationIn(InputSchema):
    name: RequiredName = _org("name", ..., min_length=1)
    legal_name: Name = _org("legal_name", "")
    kind: str = _org("kind", "business")
    status: str = _org("status", "prospect")
    industry: str = _org("industry", "")
    parent: UUID | None = Field(None, description="The `uuid` of the parent organization.")
    employees: int | None = Field(None, ge=0)
    revenue_band: str = _org("revenue_band", "")
    street: str = _org("street", "")
    postal_code: str = _org("postal_code", "", description="In Germany five digits.")
    city: str = _org("city", "")
    country: str = _org("country", "DE", description="ISO 3166 code, e.g. DE, AT, CH.")
    website: str = _org("website", "")
    phone: str = _org("phone", "", description="Any notation; stored in E.164 (+49…).")
    email: str = _org("email", "")
    vat_id: str = _org("vat_id", "", description="German: DE and nine digits.")
    tags: list[str] = Field(default_factory=list, description=TAGS_HELP)
    custom: dict[str, Any] = Field(default_factory=dict, description=CUSTOM_HELP)


class OrganizationPatch(InputSchema):
    name: RequiredName = _org("name", min_length=1)
    legal_name: Name = _org("legal_name")
    kind: str = _org("kind")
    status: str = _org("status")
    industry: str = _org("industry")
    parent: UUID | None = Field(None, description="The `uuid` of the parent; null unlinks.")
    employees: int | None = Field(None, ge=0)
    revenue_band: str = _org("revenue_band")
    street: str = _org("street")
    postal_code: str = _org("postal_code")
    city: str = _org("city")
    country: str = _org("country")
    website: str = _org("website")
    phone: str = _org("phone")
    email: str = _org("email")
    vat_id: str = _org("vat_id")
    tags: list[str] = Field(None, description=TAGS_HELP)
    custom: dict[str, Any] = Field(None, description=CUSTOM_HELP)
    version: int = Field(..., description=VERSION_HELP)


class OrganizationOut(Schema):
    uuid: UUID
    customer_number: str
    name: str
    legal_name: str
    kind: str
    status: str
    industry: str
    parent: UUID | None = Field(None, description=LINK_HELP)
    parent_hidden: bool = Field(False, description=HIDDEN_HELP)
    employees: int | None
    revenue_band: str
    street: str
    postal_code: str
    city: str
    country: str
    website: str
    phone: str
    email: str
    vat_id: str
    tags: list[str]
    custom: dict[str, Any]
    owner: str | None = Field(None, alias="owner.username")
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_parent(obj) -> UUID | None:
        return _link_out(obj, "parent")

    @staticmethod
    def resolve_parent_hidden(obj) -> bool:
        return queries.organization_hidden(obj, "parent")

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return _tags_out(obj)

    @staticmethod
    def resolve_custom(obj, context) -> dict[str, Any]:
        return _custom_out(obj, context)


class OrganizationPage(CursorPage):
    items: list[OrganizationOut]


class Psychographic(InputSchema):
    interests: str = _person("interests", "")
    values: str = _person("values", "")
    attitudes: str = _person("attitudes", "")
    preferences: str = _person("preferences", "")


class PsychographicPatch(InputSchema):
    interests: str = _person("interests")
    values: str = _person("values")
    attitudes: str = _person("attitudes")
    preferences: str = _person("preferences")


class PsychographicOut(Schema):
    interests: str
    values: str
    attitudes: str
    preferences: str


class PersonIn(InputSchema):
    salutation: str = _person("salutation", "", description="mr (Herr), ms (Frau), diverse.")
    title: Name = _person("title", "", description="e.g. Dr., Prof.")
    first_name: Name = _person("first_name", "")
    last_name: RequiredName = _person("last_name", ..., min_length=1)
    organization: UUID | None = Field(
        None, description="The `uuid` of the primary organization (also a contact role)."
    )
    job_title: str = _person("job_title", "")
    department: str = _person("department", "")
    email: str = _person("email", "")
    email2: str = _person("email2", "")
    phone: str = _person("phone", "", description="Any notation; stored in E.164 (+49…).")
    mobile: str = _person("mobile", "", description="Any notation; stored in E.164 (+49…).")
    street: str = _person("street", "")
    postal_code: str = _person("postal_code", "", description="In Germany five digits.")
    city: str = _person("city", "")
    country: str = _person("country", "DE", description="ISO 3166 code, e.g. DE, AT, CH.")
    birth_date: IsoDate | None = None
    language: str = _person("language", "de")
    preferred_channel: str = _person("preferred_channel", "")
    gender: str = _person("gender", "")
    household_size: int | None = Field(None, ge=0, le=100)
    profession: str = _person("profession", "")
    income_band: str = _person("income_band", "")
    psychographic: Psychographic | None = Field(None, description=PSYCHOGRAPHIC_HELP)
    tags: list[str] = Field(default_factory=list, description=TAGS_HELP)
    custom: dict[str, Any] = Field(default_factory=dict, description=CUSTOM_HELP)


class PersonPatch(InputSchema):
    salutation: str = _person("salutation")
    title: Name = _person("title")
    first_name: Name = _person("first_name")
    last_name: RequiredName = _person("last_name", min_length=1)
    organization: UUID | None = Field(
        None, description="The `uuid` of an organization; null unlinks."
    )
    job_title: str = _person("job_title")
    department: str = _person("department")
    email: str = _person("email")
    email2: str = _person("email2")
    phone: str = _person("phone")
    mobile: str = _person("mobile")
    street: str = _person("street")
    postal_code: str = _person("postal_code")
    city: str = _person("city")
    country: str = _person("country")
    birth_date: IsoDate | None = None
    language: str = _person("language")
    preferred_channel: str = _person("preferred_channel")
    gender: str = _person("gender")
    household_size: int | None = Field(None, ge=0, le=100)
    profession: str = _person("profession")
    income_band: str = _person("income_band")
    psychographic: PsychographicPatch = Field(None, description=PSYCHOGRAPHIC_HELP)
    tags: list[str] = Field(None, description=TAGS_HELP)
    custom: dict[str, Any] = Field(None, description=CUSTOM_HELP)
    version: int = Field(..., description=VERSION_HELP)


class PersonOut(Schema):
    uuid: UUID
    salutation: str
    title: str
    first_name: str
    last_name: str
    organization: UUID | None = Field(None, description=LINK_HELP)
    organization_hidden: bool = Field(False, description=HIDDEN_HELP)
    job_title: str
    department: str
    email: str
    email2: str
    phone: str
    mobile: str
    street: str
    postal_code: str
    city: str
    country: str
    birth_date: date | None
    language: str
    preferred_channel: str
    gender: str
    household_size: int | None
    profession: str
    income_band: str
    psychographic: PsychographicOut | None = Field(None, description=PSYCHOGRAPHIC_HELP)
    tags: list[str]
    custom: dict[str, Any]
    owner: str | None = Field(None, alias="owner.username")
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_organization(obj) -> UUID | None:
        return _link_out(obj, "organization")

    @staticmethod
    def resolve_organization_hidden(obj) -> bool:
        return queries.organization_hidden(obj, "organization")

    @staticmethod
    def resolve_psychographic(obj, context) -> dict[str, str] | None:
        if not user_can(context["request"].auth, Capability.CUSTOMERS_PSYCHOGRAPHIC):
            return None
        return {name: getattr(obj, name) for name in PSYCHOGRAPHIC_FIELDS}

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return _tags_out(obj)

    @staticmethod
    def resolve_custom(obj, context) -> dict[str, Any]:
        return _custom_out(obj, context)


class PersonPage(CursorPage):
    items: list[PersonOut]


# --- Contact roles and equipment ---------------------------------------------------------


class ContactRoleIn(InputSchema):
    organization: UUID = Field(..., description="The `uuid` of an organization.")
    job_title: str = Field("", max_length=ContactRole._meta.get_field("job_title").max_length)
    department: str = Field("", max_length=ContactRole._meta.get_field("department").max_length)
    buying_roles: list[str] = Field(
        default_factory=list,
        json_schema_extra={"items": {"type": "string", "enum": list(BuyingRole.values)}},
        description="Buying-center roles: " + ", ".join(BuyingRole.values) + ".",
    )


class ContactRoleOut(Schema):
    organization: UUID = Field(..., alias="organization.uuid")
    organization_name: str = Field(..., alias="organization.name")
    job_title: str
    department: str
    buying_roles: list[str]


class EquipmentIn(InputSchema):
    product: str = Field(..., min_length=1, max_length=200)
    model: str = Field("", max_length=120)
    serial_number: str = Field("", max_length=120)
    installed_on: IsoDate | None = None
    location: str = Field("", max_length=200)
    service_contract_until: IsoDate | None = None


class EquipmentPatch(InputSchema):
    product: str = Field(None, min_length=1, max_length=200)
    model: str = Field(None, max_length=120)
    serial_number: str = Field(None, max_length=120)
    installed_on: IsoDate | None = None
    location: str = Field(None, max_length=200)
    service_contract_until: IsoDate | None = None


class EquipmentOut(Schema):
    id: int
    product: str
    model: str
    serial_number: str
    installed_on: date | None
    location: str
    service_contract_until: date | None


class VCardImportOut(Schema):
    created: list[PersonOut]
    skipped: list[str] = Field(..., description="One reason per card that was not imported.")

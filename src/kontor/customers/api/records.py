"""Customers in the API. Each endpoint: authorize → (body validated by ninja) →
query or service → response. Errors (404, 403, 422 from the model) are turned
into problems by the handlers in kontor.api."""

from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Status, UploadedFile

from kontor.core.access import get_object_for_user, user_can
from kontor.core.api.auth import requires
from kontor.core.api.errors import problem
from kontor.core.api.pagination import ListParams, paginate
from kontor.core.api.schemas import RowId
from kontor.core.permissions import Capability
from kontor.customers import listing, queries, services, vcard
from kontor.customers.api.duplicates import (
    ALLOW_DUPLICATES_HELP,
    CONFLICT_409,
    create_check,
)
from kontor.customers.models import CustomerKind, LifecycleStatus, Organization, Person, Tag
from kontor.customers.schemas import (
    ContactRoleIn,
    ContactRoleOut,
    EquipmentIn,
    EquipmentOut,
    EquipmentPatch,
    OrganizationIn,
    OrganizationOut,
    OrganizationPage,
    OrganizationPatch,
    PersonIn,
    PersonOut,
    PersonPage,
    PersonPatch,
    VCardImportOut,
    remember_custom_fields,
)

router = Router()

FILTERS_HELP = (
    "More filters, as in the web lists: `<field>=text` (contains), `<field>__start=`, "
    "`<date or number field>__from=` / `__to=`, `has_email=1`, `has_phone=1`, "
    "`cf.<key>=` for custom fields; `sort=<column>` or `sort=-<column>`."
)


class PersonListParams(ListParams):
    owner: list[str] = Field(None, description="Owner's user uuid, or `me`; repeatable.")
    team: list[UUID] = Field(None, description="Team uuid; repeatable.")
    organization: list[UUID] = Field(None, description="Organization uuid; repeatable.")
    city: str = Field(None, max_length=120, description="City contains this text.")
    tag: list[RowId] = Field(None, description="Tag id; repeatable (any of them).")
    sort: str = Field(None, max_length=40, description=FILTERS_HELP)


class OrganizationListParams(ListParams):
    owner: list[str] = Field(None, description="Owner's user uuid, or `me`; repeatable.")
    team: list[UUID] = Field(None, description="Team uuid; repeatable.")
    status: list[str] = Field(
        None,
        description="Lifecycle status; repeatable.",
        json_schema_extra={"items": {"type": "string", "enum": list(LifecycleStatus.values)}},
    )
    kind: list[str] = Field(
        None,
        description="Customer kind; repeatable.",
        json_schema_extra={"items": {"type": "string", "enum": list(CustomerKind.values)}},
    )
    city: str = Field(None, max_length=120, description="City contains this text.")
    tag: list[RowId] = Field(None, description="Tag id; repeatable (any of them).")
    parent: list[UUID] = Field(None, description="Parent organization uuid; repeatable.")
    sort: str = Field(None, max_length=40, description=FILTERS_HELP)


PERSON_ORDER = ("last_name", "first_name", "id")
ORGANIZATION_ORDER = ("name", "id")


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.auth, capability):
        raise PermissionDenied(_("Your role does not allow this."))


def _conflict(request: HttpRequest, exc: services.EditConflict):
    return problem(
        request,
        409,
        detail=_(
            "Someone else changed this record in the meantime. Read it again "
            "(now version %(version)s) and repeat your change."
        )
        % {"version": exc.current.version},
        current_version=exc.current.version,
    )


def _tags(names: list[str]) -> list[Tag]:
    """Tags by name; an unknown name is a field error (tags are managed centrally)."""
    tags = {t.name: t for t in Tag.objects.filter(name__in=names)}
    unknown = [n for n in names if n not in tags]
    if unknown:
        raise ValidationError(
            {"tags": _("Unknown tag: %(names)s.") % {"names": ", ".join(unknown)}}
        )
    return [tags[n] for n in dict.fromkeys(names)]


def _common_data(data: dict) -> dict:
    if data.get("tags") is not None:
        data["tags"] = _tags(data["tags"])
    elif "tags" in data:
        del data["tags"]
    if data.get("custom") is None:
        data.pop("custom", None)
    return data


def _person_data(request: HttpRequest, data: dict) -> dict:
    """The organization uuid as the record (404 for one the user may not see),
    tags by name, the psychographic object as the person's fields."""
    if data.get("organization") is not None:
        data["organization"] = get_object_for_user(
            Organization, request.auth, uuid=data["organization"]
        )
    psychographic = data.pop("psychographic", None)
    if psychographic:
        # Refused as a whole for a role that may not see them (services check too).
        _require(request, Capability.CUSTOMERS_PSYCHOGRAPHIC)
        data.update(psychographic)
    return _common_data(data)


def _organization_data(request: HttpRequest, data: dict, organization=None) -> dict:
    """The parent uuid as the record (404 for one the user may not see; not the
    organization itself or one below it), tags by name."""
    if data.get("parent") is not None:
        parent = get_object_for_user(Organization, request.auth, uuid=data["parent"])
        if organization is not None:
            node, seen = parent, set()
            while node is not None and node.pk not in seen:
                if node.pk == organization.pk:
                    raise ValidationError(
                        {
                            "parent": _(
                                "An organization cannot be placed below one of its subsidiaries."
                            )
                        }
                    )
                seen.add(node.pk)
                node = node.parent
        data["parent"] = parent
    return _common_data(data)


def _keep_hidden_link(record, data: dict, link: str) -> dict:
    """A link to an organization the user may not see stays as it is: null (what a
    read gave them) keeps it, another organization is refused — as the web form,
    which leaves the field out (customers.queries.with_organization_visibility)."""
    if link not in data or not queries.organization_hidden(record, link):
        return data
    if data[link] is not None:
        raise ValidationError(
            {link: _("Linked to an organization you may not see; you cannot change that link.")}
        )
    del data[link]
    return data


def _as_seen(request: HttpRequest, record):
    """A record just written, read back with what the user may see of the
    organizations it is linked to (PersonOut/OrganizationOut show only those)."""
    records = type(record).objects.filter(pk=record.pk).select_related("owner")
    return queries.with_organization_visibility(records, user=request.auth).get()


def _filtered(request: HttpRequest, entity: listing.Entity):
    """The list's rows with the filters of the query string — the same parameters and
    rules as the web lists (customers.listing) — and their keyset order."""
    list_query = listing.parse(entity, request.auth, request.GET)
    if list_query.errors:
        raise ValidationError(list_query.errors)
    remember_custom_fields(request, entity.key, list_query.custom_fields)
    return list_query.queryset().prefetch_related("tags"), list_query.order


# --- Persons ---------------------------------------------------------------------------


@router.get("/persons", response=PersonPage, summary="List persons")
def person_list(request: HttpRequest, params: Query[PersonListParams]):
    _require(request, Capability.CUSTOMERS_VIEW)
    rows, order = _filtered(request, listing.PERSONS)
    rows, next_cursor = paginate(rows, cursor=params.cursor, limit=params.limit, order=order)
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/persons/{uuid:uuid}", response=PersonOut, summary="One person")
def person_get(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    return queries.person_get(user=request.auth, uuid=uuid)


@router.post(
    "/persons", response={201: PersonOut}, summary="Create a person", openapi_extra=CONFLICT_409
)
@requires(Capability.CUSTOMERS_EDIT)
def person_create(
    request: HttpRequest,
    payload: PersonIn,
    allow_duplicates: bool = Query(False, description=ALLOW_DUPLICATES_HELP),
):
    _require(request, Capability.CUSTOMERS_EDIT)
    data = _person_data(request, payload.dict())
    if found := create_check(request, Person, data, allow_duplicates):
        return found
    person = services.person_create(actor=request.auth, data=data, via="api")
    return Status(201, _as_seen(request, person))


@router.patch("/persons/{uuid:uuid}", response=PersonOut, summary="Change a person")
@requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_EDIT)
def person_update(request: HttpRequest, uuid: UUID, payload: PersonPatch):
    _require(request, Capability.CUSTOMERS_VIEW)
    person = queries.person_get(user=request.auth, uuid=uuid)
    _require(request, Capability.CUSTOMERS_EDIT)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    data = _person_data(request, _keep_hidden_link(person, data, "organization"))
    try:
        person = services.person_update(
            person=person, actor=request.auth, data=data, version=version, via="api"
        )
        return _as_seen(request, person)
    except services.EditConflict as exc:
        return _conflict(request, exc)


@router.delete("/persons/{uuid:uuid}", response={204: None}, summary="Delete a person")
@requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_DELETE)
def person_delete(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    person = queries.person_get(user=request.auth, uuid=uuid)
    _require(request, Capability.CUSTOMERS_DELETE)
    services.person_delete(person=person, actor=request.auth, via="api")
    return Status(204, None)


# --- Organizations ---------------------------------------------------------------------


@router.get("/organizations", response=OrganizationPage, summary="List organizations")
def organization_list(request: HttpRequest, params: Query[OrganizationListParams]):
    _require(request, Capability.CUSTOMERS_VIEW)
    rows, order = _filtered(request, listing.ORGANIZATIONS)
    rows, next_cursor = paginate(rows, cursor=params.cursor, limit=params.limit, order=order)
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/organizations/{uuid:uuid}", response=OrganizationOut, summary="One organization")
def organization_get(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    return queries.organization_get(user=request.auth, uuid=uuid)


@router.post(
    "/organizations",
    response={201: OrganizationOut},
    summary="Create an organization",
    openapi_extra=CONFLICT_409,
)
@requires(Capability.CUSTOMERS_EDIT)
def organization_create(
    request: HttpRequest,
    payload: OrganizationIn,
    allow_duplicates: bool = Query(False, description=ALLOW_DUPLICATES_HELP),
):
    _require(request, Capability.CUSTOMERS_EDIT)
    data = _organization_data(request, payload.dict())
    if found := create_check(request, Organization, data, allow_duplicates):
        return found
    organization = services.organization_create(actor=request.auth, data=data, via="api")
    return Status(201, _as_seen(request, organization))


@router.patch(
    "/organizations/{uuid:uuid}", response=OrganizationOut, summary="Change an organization"
)
@requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_EDIT)
def organization_update(request: HttpRequest, uuid: UUID, payload: OrganizationPatch):
    _require(request, Capability.CUSTOMERS_VIEW)
    organization = queries.organization_get(user=request.auth, uuid=uuid)
    _require(request, Capability.CUSTOMERS_EDIT)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    data = _organization_data(
        request, _keep_hidden_link(organization, data, "parent"), organization
    )
    try:
        organization = services.organization_update(
            organization=organization, actor=request.auth, data=data, version=version, via="api"
        )
        return _as_seen(request, organization)
    except services.EditConflict as exc:
        return _conflict(request, exc)


@router.delete("/organizations/{uuid:uuid}", response={204: None}, summary="Delete an organization")
@requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_DELETE)
def organization_delete(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    organization = queries.organization_get(user=request.auth, uuid=uuid)
    _require(request, Capability.CUSTOMERS_DELETE)
    services.organization_delete(organization=organization, actor=request.auth, via="api")
    return Status(204, None)


# --- Contact roles (buying center) -------------------------------------------------------


@router.get(
    "/persons/{uuid:uuid}/contact-roles",
    response=list[ContactRoleOut],
    summary="A person's organizations and buying-center roles",
)
def person_contact_roles(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    person = queries.person_get(user=request.auth, uuid=uuid)
    return list(queries.person_contact_roles(user=request.auth, person=person))


@router.put(
    "/persons/{uuid:uuid}/contact-roles",
    response=list[ContactRoleOut],
    summary="Replace a person's organizations and buying-center roles",
    description=(
        "The person's links to the organizations you may see become exactly the list "
        "sent; links to organizations you may not see stay as they are. Removing the "
        "link to the primary organization unlinks it."
    ),
)
@requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_EDIT)
def person_contact_roles_replace(request: HttpRequest, uuid: UUID, payload: list[ContactRoleIn]):
    _require(request, Capability.CUSTOMERS_VIEW)
    person = queries.person_get(user=request.auth, uuid=uuid)
    _require(request, Capability.CUSTOMERS_EDIT)
    links, seen = [], set()
    for item in payload:
        if item.organization in seen:
            raise ValidationError({"organization": _("Each organization may appear only once.")})
        seen.add(item.organization)
        organization = get_object_for_user(Organization, request.auth, uuid=item.organization)
        links.append({**item.dict(), "organization": organization})
    services.contact_roles_replace(
        person=person,
        links=links,
        scope=Organization.objects.visible_to(request.auth),
        actor=request.auth,
        via="api",
    )
    return list(queries.person_contact_roles(user=request.auth, person=person))


# --- Equipment ---------------------------------------------------------------------------


def _customer(request: HttpRequest, kind: str, uuid: UUID, *, edit: bool = False):
    _require(request, Capability.CUSTOMERS_VIEW)
    if kind == "person":
        record = queries.person_get(user=request.auth, uuid=uuid)
    else:
        record = queries.organization_get(user=request.auth, uuid=uuid)
    if edit:
        _require(request, Capability.CUSTOMERS_EDIT)
    return record


def _equipment_routes(kind: str, prefix: str, label: str) -> None:
    """list / add / change / delete for the equipment of one kind of customer."""

    def equipment_list(request: HttpRequest, uuid: UUID):
        record = _customer(request, kind, uuid)
        return list(queries.equipment_of(**{kind: record}))

    @requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_EDIT)
    def equipment_create(request: HttpRequest, uuid: UUID, payload: EquipmentIn):
        record = _customer(request, kind, uuid, edit=True)
        item = services.equipment_create(
            actor=request.auth, data=payload.dict(), via="api", **{kind: record}
        )
        return Status(201, item)

    @requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_EDIT)
    def equipment_update(request: HttpRequest, uuid: UUID, id: int, payload: EquipmentPatch):
        record = _customer(request, kind, uuid, edit=True)
        item = queries.equipment_get(pk=id, **{kind: record})
        return services.equipment_update(
            equipment=item, actor=request.auth, data=payload.dict(exclude_unset=True), via="api"
        )

    @requires(Capability.CUSTOMERS_VIEW, Capability.CUSTOMERS_EDIT)
    def equipment_delete(request: HttpRequest, uuid: UUID, id: int):
        record = _customer(request, kind, uuid, edit=True)
        item = queries.equipment_get(pk=id, **{kind: record})
        services.equipment_delete(equipment=item, actor=request.auth, via="api")
        return Status(204, None)

    for view in (equipment_list, equipment_create, equipment_update, equipment_delete):
        view.__name__ = view.__name__.replace("equipment_", f"{kind}_equipment_")
    path = f"/{prefix}/{{uuid:uuid}}/equipment"
    router.get(path, response=list[EquipmentOut], summary=f"Equipment at {label}")(equipment_list)
    router.post(path, response={201: EquipmentOut}, summary=f"Add equipment at {label}")(
        equipment_create
    )
    router.patch(path + "/{id}", response=EquipmentOut, summary=f"Change equipment at {label}")(
        equipment_update
    )
    router.delete(path + "/{id}", response={204: None}, summary=f"Delete equipment at {label}")(
        equipment_delete
    )


_equipment_routes("organization", "organizations", "an organization")
_equipment_routes("person", "persons", "a person")


# --- vCard -------------------------------------------------------------------------------


@router.get(
    "/persons/{uuid:uuid}/vcard",
    summary="A person as vCard",
    description="vCard 4.0; `?version=3` for vCard 3.0.",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The vCard.",
                "content": {"text/vcard": {"schema": {"type": "string"}}},
            }
        }
    },
)
def person_vcard(request: HttpRequest, uuid: UUID, version: str = "4"):
    _require(request, Capability.CUSTOMERS_VIEW)
    person = queries.person_get(user=request.auth, uuid=uuid)
    return vcard.http_response(person, version)


@router.post(
    "/persons/import-vcard",
    response=VCardImportOut,
    summary="Import persons from a .vcf file",
    description=(
        "Every card becomes a person owned by you. Cards without a name, or that are "
        "likely duplicates of a person you can see (or of an earlier card in the file), "
        "are skipped (listed in `skipped` with the reason). "
        "An unreadable file or an invalid card is a 422 and imports nothing."
    ),
)
@requires(Capability.CUSTOMERS_EDIT)
def person_import_vcard(request: HttpRequest, file: File[UploadedFile]):
    _require(request, Capability.CUSTOMERS_EDIT)
    if file.size > vcard.MAX_FILE_SIZE:
        return problem(
            request,
            413,
            detail=_("The file is larger than 2 MB."),
        )
    try:
        result = vcard.person_import_vcards(actor=request.auth, content=file.read(), via="api")
    except vcard.VCardError as exc:
        return problem(
            request,
            422,
            detail=_("The file was not imported."),
            errors=[{"field": "file", "message": m} for m in exc.messages],
        )
    return {"created": result.created, "skipped": result.skipped}

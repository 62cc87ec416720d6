from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Schema

from kontor.core.access import get_object_for_user, user_can
from kontor.core.api.errors import problem
from kontor.core.api.pagination import DEFAULT_LIMIT, paginate
from kontor.core.permissions import Capability
from kontor.customers import queries, services
from kontor.customers.models import Organization, Person
from kontor.customers.schemas import (
    OrganizationIn,
    OrganizationOut,
    OrganizationPage,
    OrganizationPatch,
    PersonIn,
    PersonOut,
    PersonPage,
    PersonPatch,
)

router = Router(tags=["customers"])


class ListParams(Schema):
    q: str = ""
    cursor: str | None = None
    limit: int = DEFAULT_LIMIT


def _require(request, capability):
    if not user_can(request.auth, capability):
        raise PermissionDenied


def _invalid(request, exc: ValidationError):
    errors = [
        {"field": field if field != "__all__" else None, "message": str(message)}
        for field, messages in exc.message_dict.items()
        for message in messages
    ]
    return problem(request, 422, "Invalid input", "Some fields are not valid.", errors=errors)


def _conflict(request, exc: services.EditConflict):
    return problem(request, 409, "Conflict", f"{exc} Current version: {exc.current.version}.")


def _person_data(request, payload: dict) -> dict:
    if "organization" in payload:
        org = payload["organization"]
        payload["organization"] = (
            get_object_for_user(Organization, request.auth, uuid=org) if org else None
        )
    return payload


@router.get("/persons", response=PersonPage, summary="List persons")
def person_list(request: HttpRequest, params: Query[ListParams]):
    _require(request, Capability.CUSTOMERS_VIEW)
    rows, next_cursor = paginate(
        queries.person_list(user=request.auth, q=params.q.strip()),
        cursor=params.cursor,
        limit=params.limit,
        order=("last_name", "first_name", "id"),
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/persons/{uuid}", response=PersonOut, summary="One person")
def person_get(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    return get_object_for_user(Person, request.auth, uuid=uuid)


@router.post("/persons", response={201: PersonOut}, summary="Create a person")
def person_create(request: HttpRequest, payload: PersonIn):
    data = _person_data(request, payload.dict())
    try:
        return 201, services.person_create(actor=request.auth, data=data, via="api")
    except ValidationError as exc:
        return _invalid(request, exc)


@router.patch("/persons/{uuid}", response=PersonOut, summary="Change a person")
def person_update(request: HttpRequest, uuid: UUID, payload: PersonPatch):
    person = get_object_for_user(Person, request.auth, uuid=uuid)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    try:
        return services.person_update(
            person=person,
            actor=request.auth,
            data=_person_data(request, data),
            version=version,
            via="api",
        )
    except ValidationError as exc:
        return _invalid(request, exc)
    except services.EditConflict as exc:
        return _conflict(request, exc)


@router.delete("/persons/{uuid}", response={204: None}, summary="Delete a person")
def person_delete(request: HttpRequest, uuid: UUID):
    person = get_object_for_user(Person, request.auth, uuid=uuid)
    services.person_delete(person=person, actor=request.auth, via="api")
    return 204, None


@router.get("/organizations", response=OrganizationPage, summary="List organizations")
def organization_list(request: HttpRequest, params: Query[ListParams]):
    _require(request, Capability.CUSTOMERS_VIEW)
    rows, next_cursor = paginate(
        queries.organization_list(user=request.auth, q=params.q.strip()),
        cursor=params.cursor,
        limit=params.limit,
        order=("name", "id"),
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/organizations/{uuid}", response=OrganizationOut, summary="One organization")
def organization_get(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    return get_object_for_user(Organization, request.auth, uuid=uuid)


@router.post("/organizations", response={201: OrganizationOut}, summary="Create an organization")
def organization_create(request: HttpRequest, payload: OrganizationIn):
    try:
        return 201, services.organization_create(actor=request.auth, data=payload.dict(), via="api")
    except ValidationError as exc:
        return _invalid(request, exc)


@router.patch("/organizations/{uuid}", response=OrganizationOut, summary="Change an organization")
def organization_update(request: HttpRequest, uuid: UUID, payload: OrganizationPatch):
    organization = get_object_for_user(Organization, request.auth, uuid=uuid)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    try:
        return services.organization_update(
            organization=organization, actor=request.auth, data=data, version=version, via="api"
        )
    except ValidationError as exc:
        return _invalid(request, exc)
    except services.EditConflict as exc:
        return _conflict(request, exc)


@router.delete("/organizations/{uuid}", response={204: None}, summary="Delete an organization")
def organization_delete(request: HttpRequest, uuid: UUID):
    organization = get_object_for_user(Organization, request.auth, uuid=uuid)
    services.organization_delete(organization=organization, actor=request.auth, via="api")
    return 204, None

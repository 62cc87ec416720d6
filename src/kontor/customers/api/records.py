"""Customers in the API. Each endpoint: authorize → (body validated by ninja) →
query or service → response. Errors (404, 403, 422 from the model) are turned
into problems by the handlers in kontor.api."""

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from kontor.core.access import get_object_for_user, user_can
from kontor.core.api.errors import problem
from kontor.core.api.pagination import ListParams, paginate
from kontor.core.permissions import Capability
from kontor.customers import queries, services
from kontor.customers.models import Organization
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

router = Router()

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


def _person_data(request: HttpRequest, data: dict) -> dict:
    """The organization uuid as the record; 404 for one the user may not see."""
    if data.get("organization") is not None:
        data["organization"] = get_object_for_user(
            Organization, request.auth, uuid=data["organization"]
        )
    return data


# --- Persons ---------------------------------------------------------------------------


@router.get("/persons", response=PersonPage, summary="List persons")
def person_list(request: HttpRequest, params: Query[ListParams]):
    _require(request, Capability.CUSTOMERS_VIEW)
    rows, next_cursor = paginate(
        queries.person_list(user=request.auth, q=params.q),
        cursor=params.cursor,
        limit=params.limit,
        order=PERSON_ORDER,
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/persons/{uuid:uuid}", response=PersonOut, summary="One person")
def person_get(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    return queries.person_get(user=request.auth, uuid=uuid)


@router.post("/persons", response={201: PersonOut}, summary="Create a person")
def person_create(request: HttpRequest, payload: PersonIn):
    _require(request, Capability.CUSTOMERS_EDIT)
    data = _person_data(request, payload.dict())
    return Status(201, services.person_create(actor=request.auth, data=data, via="api"))


@router.patch("/persons/{uuid:uuid}", response=PersonOut, summary="Change a person")
def person_update(request: HttpRequest, uuid: UUID, payload: PersonPatch):
    _require(request, Capability.CUSTOMERS_VIEW)
    person = queries.person_get(user=request.auth, uuid=uuid)
    _require(request, Capability.CUSTOMERS_EDIT)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    data = _person_data(request, data)
    try:
        return services.person_update(
            person=person, actor=request.auth, data=data, version=version, via="api"
        )
    except services.EditConflict as exc:
        return _conflict(request, exc)


@router.delete("/persons/{uuid:uuid}", response={204: None}, summary="Delete a person")
def person_delete(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    person = queries.person_get(user=request.auth, uuid=uuid)
    _require(request, Capability.CUSTOMERS_DELETE)
    services.person_delete(person=person, actor=request.auth, via="api")
    return Status(204, None)


# --- Organizations ---------------------------------------------------------------------


@router.get("/organizations", response=OrganizationPage, summary="List organizations")
def organization_list(request: HttpRequest, params: Query[ListParams]):
    _require(request, Capability.CUSTOMERS_VIEW)
    rows, next_cursor = paginate(
        queries.organization_list(user=request.auth, q=params.q),
        cursor=params.cursor,
        limit=params.limit,
        order=ORGANIZATION_ORDER,
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.get("/organizations/{uuid:uuid}", response=OrganizationOut, summary="One organization")
def organization_get(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    return queries.organization_get(user=request.auth, uuid=uuid)


@router.post("/organizations", response={201: OrganizationOut}, summary="Create an organization")
def organization_create(request: HttpRequest, payload: OrganizationIn):
    _require(request, Capability.CUSTOMERS_EDIT)
    return Status(
        201, services.organization_create(actor=request.auth, data=payload.dict(), via="api")
    )


@router.patch(
    "/organizations/{uuid:uuid}", response=OrganizationOut, summary="Change an organization"
)
def organization_update(request: HttpRequest, uuid: UUID, payload: OrganizationPatch):
    _require(request, Capability.CUSTOMERS_VIEW)
    organization = queries.organization_get(user=request.auth, uuid=uuid)
    _require(request, Capability.CUSTOMERS_EDIT)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    try:
        return services.organization_update(
            organization=organization, actor=request.auth, data=data, version=version, via="api"
        )
    except services.EditConflict as exc:
        return _conflict(request, exc)


@router.delete("/organizations/{uuid:uuid}", response={204: None}, summary="Delete an organization")
def organization_delete(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    organization = queries.organization_get(user=request.auth, uuid=uuid)
    _require(request, Capability.CUSTOMERS_DELETE)
    services.organization_delete(organization=organization, actor=request.auth, via="api")
    return Status(204, None)

"""Activities (the contact history) in the API: list and filter (a customer's
timeline with ``person`` / ``organization``), log, read, change (with ``version``;
409 on a conflict), delete, and files. The same services and queries as the web
pages (kontor.activities.services / queries)."""

from datetime import datetime
from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema, Status, UploadedFile
from pydantic import Field, StrictBool

from kontor.activities.models import ACTIVITY_TEXT_MAX_LENGTH, Activity, ActivityKind, Attachment
from kontor.activities.queries import activities as queries
from kontor.activities.services import activities as services
from kontor.activities.services import attachments as attachment_services
from kontor.core.access import get_object_for_user, user_can
from kontor.core.api.auth import requires
from kontor.core.api.errors import problem
from kontor.core.api.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT, CursorPage
from kontor.core.api.schemas import InputSchema, IsoDateTime
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person

router = Router(tags=["activities"])

VERSION_HELP = (
    "Required (optimistic locking): the `version` you read. If the activity changed "
    "since, 409; without it, 422."
)
KIND_SCHEMA = {"enum": list(ActivityKind.values)}


class AttachmentOut(Schema):
    uuid: UUID
    filename: str
    content_type: str
    size: int = Field(description="Bytes.")
    sha256: str
    created_at: datetime


class ActivityOut(Schema):
    uuid: UUID
    kind: str = Field(json_schema_extra=KIND_SCHEMA)
    direction: str = Field(description="`in`, `out` or empty.")
    occurred_at: datetime
    duration_minutes: int | None
    subject: str
    text: str
    outcome: str
    person: UUID | None
    organization: UUID | None
    author: str | None = Field(description="Username; null for what Kontor filed itself.")
    internal_participants: list[str] = Field(description="Usernames.")
    external_participants: list[UUID] = Field(description="Person uuids.")
    private: bool
    attachments: list[AttachmentOut]
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_person(activity: Activity) -> UUID | None:
        return activity.person.uuid if activity.person_id else None

    @staticmethod
    def resolve_organization(activity: Activity) -> UUID | None:
        return activity.organization.uuid if activity.organization_id else None

    @staticmethod
    def resolve_author(activity: Activity) -> str | None:
        return activity.author.get_username() if activity.author else None

    @staticmethod
    def resolve_internal_participants(activity: Activity) -> list[str]:
        return sorted(u.get_username() for u in activity.internal_participants.all())

    @staticmethod
    def resolve_external_participants(activity: Activity) -> list[UUID]:
        return [p.uuid for p in activity.external_participants.all()]

    @staticmethod
    def resolve_attachments(activity: Activity) -> list[Attachment]:
        return list(activity.attachments.all())


class ActivityPage(CursorPage):
    items: list[ActivityOut]


class ActivityListParams(Schema):
    person: UUID | None = Field(None, description="A person's timeline (incl. participations).")
    organization: UUID | None = Field(
        None, description="An organization's timeline (incl. its persons')."
    )
    kind: list[str] = Field(
        None, description="Type; repeatable.", json_schema_extra={"items": KIND_SCHEMA}
    )
    author: str | None = Field(None, max_length=150, description="Username of who logged it.")
    since: IsoDateTime | None = Field(None, description="Occurred at or after.")
    until: IsoDateTime | None = Field(None, description="Occurred before.")
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page; leave out for the first page.",
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Rows per page (1 to 200).")


class ActivityIn(InputSchema):
    kind: str = Field(json_schema_extra=KIND_SCHEMA)
    subject: str = Field(max_length=300)
    person: UUID | None = Field(None, description="The person's uuid (or give `organization`).")
    organization: UUID | None = Field(
        None, description="The organization's uuid; for a person, their primary one if left out."
    )
    occurred_at: IsoDateTime | None = Field(None, description="Now if left out.")
    direction: str = Field("", description="`in`, `out` or empty.")
    duration_minutes: int | None = Field(None, ge=0)
    text: str = Field("", max_length=ACTIVITY_TEXT_MAX_LENGTH)
    outcome: str = Field("", max_length=300)
    internal_participants: list[str] = Field([], description="Usernames.")
    external_participants: list[UUID] = Field([], description="Person uuids.")
    private: StrictBool = False


class ActivityPatch(InputSchema):
    kind: str = Field(None, json_schema_extra=KIND_SCHEMA)
    subject: str = Field(None, max_length=300)
    occurred_at: IsoDateTime = None
    direction: str = Field(None, description="`in`, `out` or empty.")
    duration_minutes: int | None = Field(None, ge=0)
    text: str = Field(None, max_length=ACTIVITY_TEXT_MAX_LENGTH)
    outcome: str = Field(None, max_length=300)
    internal_participants: list[str] = Field(None, description="Usernames; replaces them.")
    external_participants: list[UUID] = Field(None, description="Person uuids; replaces them.")
    private: StrictBool = None
    version: int = Field(..., description=VERSION_HELP)


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.auth, capability):
        raise PermissionDenied(_("Your role does not allow this."))


def _users(usernames: list[str], field: str = "internal_participants") -> list:
    users = {
        u.get_username(): u
        for u in get_user_model().objects.filter(username__in=usernames, is_active=True)
    }
    unknown = [name for name in usernames if name not in users]
    if unknown:
        raise ValidationError(
            {field: _("Unknown user: %(names)s.") % {"names": ", ".join(unknown)}}
        )
    return [users[name] for name in dict.fromkeys(usernames)]


def _persons(request: HttpRequest, uuids: list[UUID]) -> list[Person]:
    """Persons by uuid; one the user may not see is an unknown one (a field error)."""
    found = {p.uuid: p for p in Person.objects.visible_to(request.auth).filter(uuid__in=uuids)}
    unknown = [str(u) for u in uuids if u not in found]
    if unknown:
        raise ValidationError(
            {"external_participants": _("Unknown person: %(ids)s.") % {"ids": ", ".join(unknown)}}
        )
    return [found[u] for u in dict.fromkeys(uuids)]


def _with_details(queryset):
    return queryset.select_related("author", "person", "organization").prefetch_related(
        "internal_participants", "external_participants", "attachments"
    )


@router.get("/activities", response=ActivityPage, summary="List activities")
def activity_list(request: HttpRequest, params: Query[ActivityListParams]):
    """Newest first. With `person` or `organization`: that customer's timeline (404
    for one you may not see); without: every activity you may see."""
    _require(request, Capability.CUSTOMERS_VIEW)
    subject = {}
    if params.person is not None:
        subject["person"] = get_object_for_user(Person, request.auth, uuid=params.person)
    elif params.organization is not None:
        subject["organization"] = get_object_for_user(
            Organization, request.auth, uuid=params.organization
        )
    author = None
    if params.author:
        author = get_user_model().objects.filter(username=params.author).first()
        if author is None:
            raise ValidationError(
                {"author": _("Unknown user: %(names)s.") % {"names": params.author}}
            )
    for kind in params.kind or ():
        if kind not in ActivityKind.values:
            raise ValidationError({"kind": _("Choose a valid type.")})
    rows, next_cursor = queries.timeline_page(
        user=request.auth,
        **subject,
        kinds=params.kind or (),
        author=author,
        since=params.since,
        until=params.until,
        cursor=params.cursor,
        limit=params.limit,
    )
    # The page's participants and files in three queries, not three per row.
    prefetch_related_objects(
        rows,
        "internal_participants",
        queries.external_participants_visible_to(request.auth),
        "attachments",
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.post("/activities", response={201: ActivityOut}, summary="Log an activity")
@requires(Capability.ACTIVITIES_EDIT)
def activity_create(request: HttpRequest, payload: ActivityIn):
    _require(request, Capability.ACTIVITIES_EDIT)
    data = payload.dict()
    person = organization = None
    if data.pop("person") is not None:
        person = get_object_for_user(Person, request.auth, uuid=payload.person)
    if data.pop("organization") is not None:
        organization = get_object_for_user(Organization, request.auth, uuid=payload.organization)
    data["internal_participants"] = _users(data["internal_participants"])
    data["external_participants"] = _persons(request, data["external_participants"])
    activity = services.activity_create(
        actor=request.auth, person=person, organization=organization, via="api", **data
    )
    return Status(201, _with_details(Activity.objects.filter(pk=activity.pk)).get())


@router.get("/activities/{uuid:uuid}", response=ActivityOut, summary="One activity")
def activity_get(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    return queries.activity_get(user=request.auth, uuid=uuid)


@router.patch("/activities/{uuid:uuid}", response=ActivityOut, summary="Change an activity")
@requires(Capability.CUSTOMERS_VIEW, Capability.ACTIVITIES_EDIT)
def activity_update(request: HttpRequest, uuid: UUID, payload: ActivityPatch):
    """The author, or a role that may delete customers."""
    _require(request, Capability.CUSTOMERS_VIEW)
    activity = queries.activity_get(user=request.auth, uuid=uuid)
    _require(request, Capability.ACTIVITIES_EDIT)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    for name in ("kind", "subject", "occurred_at", "direction", "text", "outcome", "private"):
        if name in data and data[name] is None:
            raise ValidationError({name: _("This field is required.")})
    if data.get("internal_participants") is not None:
        data["internal_participants"] = _users(data["internal_participants"])
    if data.get("external_participants") is not None:
        data["external_participants"] = _persons(request, data["external_participants"])
    try:
        services.activity_update(
            actor=request.auth, activity=activity, data=data, version=version, via="api"
        )
    except services.EditConflict as exc:
        return problem(
            request,
            409,
            detail=_(
                "Someone else changed this activity in the meantime. Read it again "
                "(now version %(version)s) and repeat your change."
            )
            % {"version": exc.current.version},
            current_version=exc.current.version,
        )
    return queries.activity_get(user=request.auth, uuid=uuid)


@router.delete("/activities/{uuid:uuid}", response={204: None}, summary="Delete an activity")
@requires(Capability.CUSTOMERS_VIEW, Capability.ACTIVITIES_EDIT)
def activity_delete(request: HttpRequest, uuid: UUID):
    _require(request, Capability.CUSTOMERS_VIEW)
    activity = queries.activity_get(user=request.auth, uuid=uuid)
    services.activity_delete(actor=request.auth, activity=activity, via="api")
    return Status(204, None)


@router.post(
    "/activities/{uuid:uuid}/attachments",
    response={201: AttachmentOut},
    summary="Add a file to an activity",
    description="Multipart form with `file`. Executables and scripts are refused (422), "
    "as is a file over the size limit.",
)
@requires(Capability.CUSTOMERS_VIEW, Capability.ACTIVITIES_EDIT)
def activity_attachment_create(request: HttpRequest, uuid: UUID, file: File[UploadedFile]):
    _require(request, Capability.CUSTOMERS_VIEW)
    activity = queries.activity_get(user=request.auth, uuid=uuid)
    if not services.can_change(request.auth, activity):
        raise PermissionDenied(_("Only the author or a manager may change this activity."))
    (attachment,) = attachment_services.attachments_add(
        actor=request.auth, activity=activity, files=[file], via="api"
    )
    return Status(201, attachment)


@router.get(
    "/activities/{uuid:uuid}/attachments/{uuid:attachment_uuid}",
    summary="Download a file of an activity",
    description="Always `Content-Disposition: attachment` with the original file name.",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The file, in the content type it was stored with.",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def activity_attachment_download(request: HttpRequest, uuid: UUID, attachment_uuid: UUID):
    from kontor.activities.views.activities import file_response

    _require(request, Capability.CUSTOMERS_VIEW)
    activity = queries.activity_get(user=request.auth, uuid=uuid)
    attachment = activity.attachments.filter(uuid=attachment_uuid).first()
    if attachment is None:
        raise Http404
    return file_response(attachment)

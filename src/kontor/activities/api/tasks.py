"""Tasks and follow-ups in the API: list (filtered, cursor-paged), create, read,
change (with the version: 409 on a conflict), delete, done and reopen. The same
services and rules as the pages (kontor.activities.services.tasks)."""

from datetime import date, datetime, time
from typing import Annotated
from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import AfterValidator, Field, WithJsonSchema

from kontor.activities.models import Recurrence, Task, TaskPriority, TaskStatus
from kontor.activities.queries import tasks as queries
from kontor.activities.services import tasks as services
from kontor.core.access import get_object_for_user, user_can
from kontor.core.api.auth import requires
from kontor.core.api.errors import problem
from kontor.core.api.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT, CursorPage, paginate
from kontor.core.api.schemas import InputSchema, IsoDate
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person

router = Router(tags=["tasks"])


# JSON Schema's "time" format requires an offset (RFC 3339); a due time has none, so
# the document describes it as the wall-clock time it is.
WALL_CLOCK_SCHEMA = WithJsonSchema(
    {
        "type": "string",
        "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$",
        "description": "Wall-clock time without a UTC offset, e.g. 09:30.",
        "examples": ["09:30"],
    }
)
WallClockTime = Annotated[time, WALL_CLOCK_SCHEMA]


class TaskOut(Schema):
    uuid: UUID
    title: str
    description: str
    due_date: date
    due_time: WallClockTime | None
    priority: TaskPriority
    status: TaskStatus
    assignee: str | None = Field(description="Username; null once the user is gone.")
    created_by: str | None
    done_at: datetime | None
    done_by: str | None
    recurrence: Recurrence
    recurrence_interval: int
    previous: UUID | None = Field(description="The task this one follows (repeating tasks).")
    person: UUID | None
    organization: UUID | None
    version: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_assignee(task: Task) -> str | None:
        return task.owner.get_username() if task.owner_id else None

    @staticmethod
    def resolve_created_by(task: Task) -> str | None:
        return task.created_by.get_username() if task.created_by_id else None

    @staticmethod
    def resolve_done_by(task: Task) -> str | None:
        return task.done_by.get_username() if task.done_by_id else None

    @staticmethod
    def resolve_previous(task: Task) -> UUID | None:
        return task.previous.uuid if task.previous_id else None

    @staticmethod
    def resolve_person(task: Task) -> UUID | None:
        return task.person.uuid if task.person_id else None

    @staticmethod
    def resolve_organization(task: Task) -> UUID | None:
        return task.organization.uuid if task.organization_id else None


class TaskPage(CursorPage):
    items: list[TaskOut]


def _wall_clock(value: time) -> time:
    """A due time is the wall-clock time of the due day where the assignee works, as
    the pages take it. An offset ("10:00+02:00") would mean another time, even another
    day, depending on the season: refused rather than converted (SQLite answered 500
    and PostgreSQL dropped it)."""
    if value.tzinfo is not None:
        raise ValueError(_("Enter the time without a UTC offset, e.g. 09:30."))
    return value


LocalTime = Annotated[time, AfterValidator(_wall_clock), WALL_CLOCK_SCHEMA]


class TaskListParams(Schema):
    assignee: str | None = Field(
        None, max_length=150, description='A username, or "me"; leave out for everyone visible.'
    )
    status: TaskStatus | None = None
    due_after: IsoDate | None = Field(None, description="Due on or after this day.")
    due_before: IsoDate | None = Field(None, description="Due on or before this day.")
    person: UUID | None = None
    organization: UUID | None = None
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page; leave out for the first page.",
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Rows per page (1 to 200).")


class TaskIn(InputSchema):
    title: str = Field(max_length=200)
    due_date: IsoDate
    due_time: LocalTime | None = None
    priority: TaskPriority = TaskPriority.NORMAL
    description: str = Field("", max_length=20_000)
    assignee: str | None = Field(None, description="Username; default: you.")
    recurrence: Recurrence = Recurrence.NONE
    recurrence_interval: int = Field(1, ge=1, le=services.MAX_RECURRENCE_INTERVAL)
    person: UUID | None = None
    organization: UUID | None = None


class TaskPatch(InputSchema):
    title: str | None = Field(None, max_length=200)
    due_date: IsoDate | None = None
    due_time: LocalTime | None = None
    priority: TaskPriority | None = None
    description: str | None = Field(None, max_length=20_000)
    assignee: str | None = Field(None, description="Username.")
    recurrence: Recurrence | None = None
    recurrence_interval: int | None = Field(None, ge=1, le=services.MAX_RECURRENCE_INTERVAL)
    person: UUID | None = None
    organization: UUID | None = None
    version: int = Field(
        ..., description="Required: the version you read; a 409 if someone changed the task since."
    )


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.auth, capability):
        raise PermissionDenied(_("Your role does not allow this."))


def _user(username: str, field: str = "assignee"):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError({field: [_("Unknown user: %(name)s.") % {"name": username}]})
    return user


def _customer(request: HttpRequest, model, uuid: UUID | None):
    if uuid is None:
        return None
    record = model.objects.visible_to(request.auth).filter(uuid=uuid).first()
    if record is None:
        field = model._meta.model_name
        raise ValidationError({field: [_("No such customer.")]})
    return record


def _task(request: HttpRequest, uuid: UUID) -> Task:
    return queries.task_get(user=request.auth, uuid=uuid)


def _out(request: HttpRequest, task: Task) -> Task:
    # Read again with its related rows: the answer shows usernames and uuids.
    return get_object_for_user(
        Task,
        request.auth,
        uuid=task.uuid,
        related=("owner", "created_by", "done_by", "previous", "person", "organization"),
    )


@router.get("/tasks", response=TaskPage, summary="Tasks")
def task_list(request: HttpRequest, params: Query[TaskListParams]):
    assignee = None
    if params.assignee == "me":
        assignee = "me"
    elif params.assignee:
        assignee = get_user_model().objects.filter(username=params.assignee).first()
        if assignee is None:
            return {"items": [], "next_cursor": None}
    person = organization = None
    if params.person:
        person = Person.objects.visible_to(request.auth).filter(uuid=params.person).first()
        if person is None:
            return {"items": [], "next_cursor": None}
    if params.organization:
        organization = (
            Organization.objects.visible_to(request.auth).filter(uuid=params.organization).first()
        )
        if organization is None:
            return {"items": [], "next_cursor": None}
    tasks = queries.task_list(
        user=request.auth,
        assignee=assignee,
        status=params.status or "",
        due_after=params.due_after,
        due_before=params.due_before,
        person=person,
        organization=organization,
    ).select_related("created_by", "done_by", "previous")
    rows, next_cursor = paginate(
        tasks, cursor=params.cursor, limit=params.limit, order=queries.TASK_ORDER
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.post("/tasks", response={201: TaskOut}, summary="Create a task")
@requires(Capability.ACTIVITIES_EDIT)
def task_create(request: HttpRequest, payload: TaskIn):
    _require(request, Capability.ACTIVITIES_EDIT)
    task = services.task_create(
        actor=request.auth,
        title=payload.title,
        due_date=payload.due_date,
        due_time=payload.due_time,
        priority=payload.priority,
        description=payload.description,
        assignee=_user(payload.assignee) if payload.assignee else None,
        recurrence=payload.recurrence,
        recurrence_interval=payload.recurrence_interval,
        person=_customer(request, Person, payload.person),
        organization=_customer(request, Organization, payload.organization),
        via="api",
    )
    return Status(201, _out(request, task))


@router.get("/tasks/{uuid:uuid}", response=TaskOut, summary="A task")
def task_get(request: HttpRequest, uuid: UUID):
    return _out(request, _task(request, uuid))


@router.patch("/tasks/{uuid:uuid}", response=TaskOut, summary="Change a task")
@requires(Capability.ACTIVITIES_EDIT)
def task_update(request: HttpRequest, uuid: UUID, payload: TaskPatch):
    task = _task(request, uuid)
    _require(request, Capability.ACTIVITIES_EDIT)
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    for name in ("title", "due_date", "priority", "recurrence", "recurrence_interval"):
        if name in data and data[name] is None:
            raise ValidationError({name: [_("This field cannot be null.")]})
    if "description" in data:
        data["description"] = data["description"] or ""
    if "assignee" in data:
        if not data["assignee"]:
            raise ValidationError({"assignee": [_("This field cannot be null.")]})
        data["assignee"] = _user(data["assignee"])
    if "person" in data:
        data["person"] = _customer(request, Person, data["person"])
    if "organization" in data:
        data["organization"] = _customer(request, Organization, data["organization"])
    try:
        task = services.task_update(
            actor=request.auth, task=task, data=data, version=version, via="api"
        )
    except services.EditConflict as exc:
        return problem(
            request,
            409,
            detail=_(
                "Someone else changed this task in the meantime. Read it again "
                "(now version %(version)s) and repeat your change."
            )
            % {"version": exc.current.version},
            current_version=exc.current.version,
        )
    return _out(request, task)


@router.delete("/tasks/{uuid:uuid}", response={204: None}, summary="Delete a task")
@requires(Capability.ACTIVITIES_EDIT)
def task_delete(request: HttpRequest, uuid: UUID):
    task = _task(request, uuid)
    _require(request, Capability.ACTIVITIES_EDIT)
    services.task_delete(actor=request.auth, task=task, via="api")
    return Status(204, None)


@router.post("/tasks/{uuid:uuid}/done", response=TaskOut, summary="Mark a task done")
@requires(Capability.ACTIVITIES_EDIT)
def task_done(request: HttpRequest, uuid: UUID):
    task = _task(request, uuid)
    _require(request, Capability.ACTIVITIES_EDIT)
    return _out(request, services.task_done(actor=request.auth, task=task, via="api"))


@router.post("/tasks/{uuid:uuid}/reopen", response=TaskOut, summary="Open a done task again")
@requires(Capability.ACTIVITIES_EDIT)
def task_reopen(request: HttpRequest, uuid: UUID):
    task = _task(request, uuid)
    _require(request, Capability.ACTIVITIES_EDIT)
    return _out(request, services.task_reopen(actor=request.auth, task=task, via="api"))

"""Process definitions in the API: list and create processes, read one with a
version's steps, transitions and activities (nested), change a draft's goal and
trigger, publish a draft (422 listing the problems if it is not sound) and make a
new draft. The same services and rules as the editor pages
(kontor.processes.services.definitions): customers.view reads, processes.manage writes.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kontor.core.access import require, require_that
from kontor.core.api.auth import requires
from kontor.core.api.errors import problem
from kontor.core.api.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT, CursorPage, paginate
from kontor.core.api.schemas import InputSchema
from kontor.core.permissions import Capability
from kontor.processes import queries
from kontor.processes.models import (
    ActivityType,
    Grade,
    Lane,
    Process,
    ProcessVersion,
    Responsible,
    SubjectKind,
    TriggerKind,
)
from kontor.processes.services import definitions as services
from kontor.processes.validation import validate_version

router = Router(tags=["processes"])

PROCESS_ORDER = ("name", "id")


# --- Schemas -----------------------------------------------------------------------------


class ProcessSummaryOut(Schema):
    uuid: UUID
    name: str
    key: str = Field(description="Key of a shipped scene; empty for one's own processes.")
    subject_kind: SubjectKind
    archived: bool
    published_version: int | None = Field(description="Number of the published version.")
    has_draft: bool
    running_instances: int = Field(description="Instances running or paused.")

    @staticmethod
    def resolve_published_version(process) -> int | None:
        return process.published_number

    @staticmethod
    def resolve_running_instances(process) -> int:
        return process.running_count


class ProcessPage(CursorPage):
    items: list[ProcessSummaryOut]


class ProcessListParams(Schema):
    archived: bool = Field(False, description="List the archived processes instead.")
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        description="`next_cursor` of the previous page; leave out for the first page.",
    )
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description="Rows per page (1 to 200).")


class StepActivityOut(Schema):
    id: int
    kind: ActivityType
    title: str
    description: str
    config: dict[str, Any]
    grade: Grade = Field(description="must / should / can / out (of scope).")
    required: bool
    position: int
    acceptance: str
    acceptance_comment: str


class StepTransitionOut(Schema):
    id: int
    source: str = Field(description="Key of the step it leaves.")
    target: str = Field(description="Key of the step it leads to.")
    label: str
    condition: dict[str, Any] = Field(
        description='{"field": …, "equals": …}; empty: the user chooses.'
    )

    @staticmethod
    def resolve_source(transition) -> str:
        return transition.source.key

    @staticmethod
    def resolve_target(transition) -> str:
        return transition.target.key


class StepOut(Schema):
    key: str
    name: str
    description: str
    position: int
    lane: Lane
    responsible: Responsible
    deadline_days: int | None = Field(description="Business days from the step's start.")
    required_fields: list[str]
    is_end: bool
    goal_reached: bool
    activities: list[StepActivityOut]
    transitions: list[StepTransitionOut] = Field(description="The ways on from this step.")

    @staticmethod
    def resolve_activities(step) -> list:
        return list(step.activities.all())

    @staticmethod
    def resolve_transitions(step) -> list:
        return list(step.outgoing.all())


class ProblemOut(Schema):
    code: str
    message: str
    step: str | None


class VersionOut(Schema):
    number: int
    status: str
    goal: str
    description: str
    trigger: TriggerKind
    trigger_config: dict[str, Any]
    published_at: datetime | None
    created_at: datetime
    lock_version: int = Field(description="Send it back with PATCH (optimistic locking).")
    editable: bool = Field(description="False once published or in use: make a new draft.")
    problems: list[ProblemOut] = Field(description="What must be solved before publishing.")
    steps: list[StepOut]


class VersionRefOut(Schema):
    number: int
    status: str
    published_at: datetime | None


class ProcessOut(Schema):
    uuid: UUID
    name: str
    key: str
    subject_kind: SubjectKind
    archived: bool
    owner: str | None
    versions: list[VersionRefOut]
    version: VersionOut = Field(description="The published version, or the one asked for.")


class ProcessIn(InputSchema):
    name: str = Field(max_length=200)
    goal: str = Field(max_length=2000, description='What "done" means.')
    subject_kind: SubjectKind = SubjectKind.PERSON
    trigger: TriggerKind = TriggerKind.MANUAL
    trigger_config: dict[str, Any] = Field(default_factory=dict)
    description: str = Field("", max_length=20_000)


class VersionPatch(InputSchema):
    goal: str | None = Field(None, max_length=2000)
    description: str | None = Field(None, max_length=20_000)
    trigger: TriggerKind | None = None
    trigger_config: dict[str, Any] | None = None
    lock_version: int = Field(
        ..., description="Required: the `lock_version` you read; if the version changed since, 409."
    )


class ProcessDetailParams(Schema):
    version: int | None = Field(
        None, ge=1, description="Version number; default: the published one, else the latest."
    )


# --- Helpers -----------------------------------------------------------------------------


def _process_out(process: Process, version: ProcessVersion) -> dict:
    versions = queries.versions_of(process)
    shown = next(v for v in versions if v.pk == version.pk)
    frozen = shown.status != "draft" or shown.instance_count > 0
    return {
        "uuid": process.uuid,
        "name": process.name,
        "key": process.key,
        "subject_kind": process.subject_kind,
        "archived": process.archived,
        "owner": process.owner.get_username() if process.owner else None,
        "versions": versions,
        "version": {
            "number": shown.number,
            "status": shown.status,
            "goal": shown.goal,
            "description": shown.description,
            "trigger": shown.trigger,
            "trigger_config": shown.trigger_config,
            "published_at": shown.published_at,
            "created_at": shown.created_at,
            "lock_version": shown.lock_version,
            "editable": not frozen,
            "problems": [p.as_dict() for p in validate_version(shown)],
            "steps": queries.version_steps(shown),
        },
    }


def _version(request: HttpRequest, uuid: UUID, number: int) -> tuple[Process, ProcessVersion]:
    process = queries.process_get(user=request.auth, uuid=uuid)
    return process, queries.version_shown(process, number)


# --- Endpoints ---------------------------------------------------------------------------


@router.get("/processes", response=ProcessPage, summary="Process definitions")
def process_list(request: HttpRequest, params: Query[ProcessListParams]):
    require_that(queries.can_view(request.auth))
    rows, next_cursor = paginate(
        queries.process_list(user=request.auth, archived=params.archived),
        cursor=params.cursor,
        limit=params.limit,
        order=PROCESS_ORDER,
    )
    return {"items": rows, "next_cursor": next_cursor}


@router.post("/processes", response={201: ProcessOut}, summary="Create a process")
@requires(Capability.PROCESSES_MANAGE)
def process_create(request: HttpRequest, payload: ProcessIn):
    """A new process with draft version 1 (a start and an end step)."""
    require(request.auth, Capability.PROCESSES_MANAGE)
    process = services.process_create(actor=request.auth, via="api", **payload.dict())
    return Status(201, _process_out(process, queries.version_shown(process)))


@router.get("/processes/{uuid:uuid}", response=ProcessOut, summary="A process with its steps")
def process_detail(request: HttpRequest, uuid: UUID, params: Query[ProcessDetailParams]):
    require_that(queries.can_view(request.auth))
    process = queries.process_get(user=request.auth, uuid=uuid)
    return _process_out(process, queries.version_shown(process, params.version))


@router.patch(
    "/processes/{uuid:uuid}/versions/{number}",
    response=ProcessOut,
    summary="Change a draft's goal, description or trigger",
)
@requires(Capability.PROCESSES_MANAGE)
def process_version_update(request: HttpRequest, uuid: UUID, number: int, payload: VersionPatch):
    require(request.auth, Capability.PROCESSES_MANAGE)
    process, version = _version(request, uuid, number)
    data = payload.dict(exclude_unset=True)
    # A stale lock_version raises EditConflict: kontor.api answers the one 409.
    version = services.version_update(
        actor=request.auth,
        version=version,
        goal=data.get("goal", version.goal),
        description=data.get("description", version.description),
        trigger=data.get("trigger", version.trigger),
        trigger_config=data.get("trigger_config", version.trigger_config),
        lock_version=data.get("lock_version"),
        via="api",
    )
    return _process_out(process, version)


@router.post(
    "/processes/{uuid:uuid}/versions/{number}/publish",
    response=ProcessOut,
    summary="Publish a draft",
)
@requires(Capability.PROCESSES_MANAGE)
def process_version_publish(request: HttpRequest, uuid: UUID, number: int):
    """The draft becomes the version new instances start on; the one published before
    is retired. A draft with problems answers 422 with `problems` (code, message,
    step) and changes nothing."""
    require(request.auth, Capability.PROCESSES_MANAGE)
    process, version = _version(request, uuid, number)
    try:
        version = services.version_publish(actor=request.auth, version=version, via="api")
    except services.VersionInvalid as exc:
        return problem(
            request,
            422,
            detail=_("The version has problems; solve them before publishing."),
            errors=[{"field": p.step, "message": p.message} for p in exc.problems],
            problems=[p.as_dict() for p in exc.problems],
        )
    return _process_out(process, version)


@router.post(
    "/processes/{uuid:uuid}/drafts",
    response={200: ProcessOut, 201: ProcessOut},
    summary="Make a new draft",
)
@requires(Capability.PROCESSES_MANAGE)
def process_draft_create(request: HttpRequest, uuid: UUID):
    """An exact copy of the latest version as a new draft (201) — or the open draft if
    there is one (200). Running instances stay on their version."""
    require(request.auth, Capability.PROCESSES_MANAGE)
    process = queries.process_get(user=request.auth, uuid=uuid)
    latest_number = max(v.number for v in queries.versions_of(process))
    draft = services.version_new_draft(actor=request.auth, process=process, via="api")
    return Status(201 if draft.number > latest_number else 200, _process_out(process, draft))

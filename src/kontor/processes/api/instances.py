"""Running processes in the API: list and start instances, read one with its
current step's items (their task / appointment / e-mail, and for a field item the
field and its value), mark an item done, fill in a field item, choose a branch,
cancel. The same services and rules as the instance page
(kontor.processes.services.instances)."""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from kontor.core.access import customer_get, get_object_for_user, require, user_can
from kontor.core.api.auth import requires
from kontor.core.api.pagination import MAX_CURSOR_LENGTH, MAX_LIMIT, CursorPage, paginate
from kontor.core.api.schemas import InputSchema
from kontor.core.permissions import Capability
from kontor.processes.models import (
    ActivityType,
    InstanceStatus,
    Process,
    ProcessInstance,
    StepRunItem,
    StepRunStatus,
    Transition,
)
from kontor.processes.services import engine
from kontor.processes.services import instances as services
from kontor.processes.services import items as item_fields

router = Router(tags=["processes"])

INSTANCE_ORDER = ("-started_at", "-id")


class ItemOut(Schema):
    id: int
    title: str
    kind: str
    required: bool
    done_at: datetime | None
    task: UUID | None = Field(description="The task created for the item, if any.")
    appointment: UUID | None = Field(description="The appointment planned for the item.")
    mail: UUID | None = Field(description="The e-mail sent for the item.")
    field: str | None = Field(
        None, description="A field item's field (person.email, custom.<key> …)."
    )
    value: Any = Field(None, description="The field's current value (null when empty).")
    fillable: bool = Field(
        False, description="Whether the field can be filled in (POST …/items/{id}/value)."
    )
    reason: str = Field(
        "", description="Why an e-mail set to send is still open (e.g. no address)."
    )


class ChoiceOut(Schema):
    id: int
    label: str
    target: str = Field(description="Key of the step it leads to.")


class StepRunOut(Schema):
    step: str = Field(description="The step's key.")
    name: str
    status: str
    entered_at: datetime
    due_at: datetime | None
    finished_at: datetime | None
    assignee: str | None


class InstanceOut(Schema):
    uuid: UUID
    process: UUID
    process_name: str
    version: int
    status: str
    person: UUID | None
    organization: UUID | None
    current_step: str | None = Field(description="Key of the current (or final) step.")
    started_at: datetime
    started_via: str
    ended_at: datetime | None
    goal_reached: bool
    cancel_reason: str
    lock_version: int


class InstanceDetailOut(InstanceOut):
    items: list[ItemOut] = Field(description="The current step's items.")
    choices: list[ChoiceOut] = Field(
        description="Ways on to choose between (POST …/choose); empty when none is due."
    )
    steps: list[StepRunOut]


class InstancePage(CursorPage):
    items: list[InstanceOut]


class InstanceListParams(Schema):
    person: UUID | None = None
    organization: UUID | None = None
    process: UUID | None = None
    status: InstanceStatus | None = None
    cursor: str | None = Field(None, max_length=MAX_CURSOR_LENGTH)
    limit: int = Field(50, ge=1, le=MAX_LIMIT)


class InstanceStartIn(InputSchema):
    process: UUID = Field(description="The process; its published version starts.")
    person: UUID | None = None
    organization: UUID | None = None


class ChooseIn(InputSchema):
    transition: int
    lock_version: int | None = None


class InstanceCancelIn(InputSchema):
    reason: str = Field(max_length=2000)


class DoneIn(InputSchema):
    lock_version: int | None = None


class ValueIn(InputSchema):
    value: Any = Field(
        description="The value as text or JSON (a list for several choices, a boolean …)."
    )
    lock_version: int | None = None


def _out(instance: ProcessInstance) -> dict:
    process = instance.version.process
    return {
        "uuid": instance.uuid,
        "process": process.uuid,
        "process_name": process.name,
        "version": instance.version.number,
        "status": instance.status,
        "person": instance.person.uuid if instance.person_id else None,
        "organization": instance.organization.uuid if instance.organization_id else None,
        "current_step": instance.current_step.key if instance.current_step_id else None,
        "started_at": instance.started_at,
        "started_via": instance.started_via,
        "ended_at": instance.ended_at,
        "goal_reached": instance.goal_reached,
        "cancel_reason": instance.cancel_reason,
        "lock_version": instance.lock_version,
    }


def _detail(instance: ProcessInstance) -> dict:
    """The instance with its steps and the current step's items (``instance`` with
    its version, process, customer and current step at hand: as ``_get`` reads it, or
    as a service returns it after a write)."""
    runs = list(instance.step_runs.select_related("step", "assignee").order_by("entered_at", "id"))
    active = next((r for r in runs if r.status == StepRunStatus.ACTIVE), None)
    items = (
        list(
            active.items.select_related("activity", "task", "appointment", "mail").order_by(
                "activity__position", "id"
            )
        )
        if active
        else []
    )
    return {
        **_out(instance),
        "items": [_item(instance, active, item) for item in items],
        "choices": [
            {"id": t.pk, "label": t.label, "target": t.target.key}
            for t in engine.choices_for(instance, active, items)
        ],
        "steps": [
            {
                "step": run.step.key,
                "name": run.step.name,
                "status": run.status,
                "entered_at": run.entered_at,
                "due_at": run.due_at,
                "finished_at": run.finished_at,
                "assignee": run.assignee.get_username() if run.assignee_id else None,
            }
            for run in runs
        ],
    }


def _item(instance: ProcessInstance, active, item: StepRunItem) -> dict:
    activity = item.activity
    out = {
        "id": item.pk,
        "title": activity.title,
        "kind": activity.kind,
        "required": activity.required,
        "done_at": item.done_at,
        "task": item.task.uuid if item.task_id else None,
        "appointment": item.appointment.uuid if item.appointment_id else None,
        "mail": item.mail.uuid if item.mail_id else None,
    }
    if activity.kind == ActivityType.FIELD:
        spec = item_fields.item_field(instance, activity)
        config = activity.config if isinstance(activity.config, dict) else {}
        out["field"] = spec.path if spec else config.get("field")
        out["value"] = spec.value if spec and spec.filled else None
        out["fillable"] = bool(spec and spec.fillable and not item.done_at)
    elif (
        activity.kind == ActivityType.EMAIL
        and not item.mail_id
        and not item.done_at
        and item_fields.mail_sends(activity.config)
    ):
        out["reason"] = item_fields.mail_problem(
            instance, activity.config, sender=active.assignee
        ) or _("It was not sent by itself; write it here.")
    return out


def _get(request: HttpRequest, uuid: UUID) -> ProcessInstance:
    require(request.auth, Capability.CUSTOMERS_VIEW)
    return get_object_for_user(
        ProcessInstance,
        request.auth,
        uuid=uuid,
        related=("version__process", "person", "organization", "current_step"),
    )


def _item_to_work(request: HttpRequest, uuid: UUID, item_id: int) -> StepRunItem:
    """Item ``item_id`` of instance ``uuid``, for a write (404 when the instance has no
    such item). The service locks the instance and checks there that the user may
    see it, so it is not read here first; only for a user who may not work on
    processes it is: an instance they may not see is 404 before the 403."""
    require(request.auth, Capability.CUSTOMERS_VIEW)
    if not user_can(request.auth, Capability.ACTIVITIES_EDIT):
        _get(request, uuid)
        require(request.auth, Capability.ACTIVITIES_EDIT)
    return get_object_or_404(
        StepRunItem.objects.select_related("step_run").only("pk", "step_run__instance_id"),
        pk=item_id,
        step_run__instance__uuid=uuid,
    )


@router.get("/process-instances", response=InstancePage, summary="Process instances")
def instance_list(request: HttpRequest, params: Query[InstanceListParams]):
    require(request.auth, Capability.CUSTOMERS_VIEW)
    rows = ProcessInstance.objects.visible_to(request.auth).select_related(
        "version__process", "person", "organization", "current_step"
    )
    if params.person:
        rows = rows.filter(person__uuid=params.person)
    if params.organization:
        rows = rows.filter(organization__uuid=params.organization)
    if params.process:
        rows = rows.filter(version__process__uuid=params.process)
    if params.status:
        rows = rows.filter(status=params.status)
    page, next_cursor = paginate(
        rows, cursor=params.cursor, limit=params.limit, order=INSTANCE_ORDER
    )
    return {"items": [_out(row) for row in page], "next_cursor": next_cursor}


@router.post("/process-instances", response={201: InstanceDetailOut}, summary="Start a process")
@requires(Capability.ACTIVITIES_EDIT)
def instance_start(request: HttpRequest, payload: InstanceStartIn):
    require(request.auth, Capability.ACTIVITIES_EDIT)
    process = get_object_or_404(Process, uuid=payload.process)
    person = customer_get(request.auth, payload.person, kind="person") if payload.person else None
    organization = (
        customer_get(request.auth, payload.organization, kind="organization")
        if payload.organization
        else None
    )
    instance = services.instance_start(
        actor=request.auth,
        version_or_process=process,
        person=person,
        organization=organization,
        via="api",
    )
    return Status(201, _detail(instance))


@router.get(
    "/process-instances/{uuid:uuid}", response=InstanceDetailOut, summary="A process instance"
)
def instance_detail(request: HttpRequest, uuid: UUID):
    return _detail(_get(request, uuid))


@router.post(
    "/process-instances/{uuid:uuid}/items/{item_id}/done",
    response=InstanceDetailOut,
    summary="Mark an item of the current step done",
)
@requires(Capability.CUSTOMERS_VIEW, Capability.ACTIVITIES_EDIT)
def instance_item_done(
    request: HttpRequest, uuid: UUID, item_id: int, payload: DoneIn | None = None
):
    # The instance the service locked and moved on is the one shown: read once.
    instance = services.item_done(
        actor=request.auth,
        item=_item_to_work(request, uuid, item_id),
        lock_version=payload.lock_version if payload else None,
        via="api",
    )
    return _detail(instance)


@router.post(
    "/process-instances/{uuid:uuid}/items/{item_id}/value",
    response=InstanceDetailOut,
    summary="Fill in the field of a field item of the current step",
)
@requires(Capability.CUSTOMERS_VIEW, Capability.ACTIVITIES_EDIT)
def instance_item_value(request: HttpRequest, uuid: UUID, item_id: int, payload: ValueIn):
    instance = services.item_fill(
        actor=request.auth,
        item=_item_to_work(request, uuid, item_id),
        value=payload.value,
        lock_version=payload.lock_version,
        via="api",
    )
    return _detail(instance)


@router.post(
    "/process-instances/{uuid:uuid}/choose",
    response=InstanceDetailOut,
    summary="Choose the way on at a branch",
)
@requires(Capability.CUSTOMERS_VIEW, Capability.ACTIVITIES_EDIT)
def instance_choose(request: HttpRequest, uuid: UUID, payload: ChooseIn):
    instance = _get(request, uuid)
    require(request.auth, Capability.ACTIVITIES_EDIT)
    transition = Transition.objects.filter(pk=payload.transition, version=instance.version).first()
    if transition is None:
        raise ValidationError(
            {"transition": [_("This way does not lead out of the current step.")]}
        )
    instance = services.step_choose(
        actor=request.auth,
        instance=instance,
        transition=transition,
        lock_version=payload.lock_version,
        via="api",
    )
    return _detail(instance)


@router.post(
    "/process-instances/{uuid:uuid}/cancel",
    response=InstanceDetailOut,
    summary="Cancel a process instance (reason required)",
)
@requires(Capability.CUSTOMERS_VIEW, Capability.ACTIVITIES_EDIT)
def instance_cancel(request: HttpRequest, uuid: UUID, payload: InstanceCancelIn):
    instance = _get(request, uuid)
    require(request.auth, Capability.ACTIVITIES_EDIT)
    instance = services.instance_cancel(
        actor=request.auth, instance=instance, reason=payload.reason, via="api"
    )
    return _detail(instance)


@router.post(
    "/process-instances/{uuid:uuid}/items/{item_id}/undone",
    response=InstanceDetailOut,
    summary="Take back the done mark of an item of the current step",
)
@requires(Capability.CUSTOMERS_VIEW, Capability.ACTIVITIES_EDIT)
def instance_item_undone(
    request: HttpRequest, uuid: UUID, item_id: int, payload: DoneIn | None = None
):
    instance = services.item_undone(
        actor=request.auth,
        item=_item_to_work(request, uuid, item_id),
        lock_version=payload.lock_version if payload else None,
        via="api",
    )
    return _detail(instance)


def _pause_or_resume(request: HttpRequest, uuid: UUID, payload: DoneIn | None, service):
    instance = _get(request, uuid)
    require(request.auth, Capability.ACTIVITIES_EDIT)
    instance = service(
        actor=request.auth,
        instance=instance,
        lock_version=payload.lock_version if payload else None,
        via="api",
    )
    return _detail(instance)


@router.post(
    "/process-instances/{uuid:uuid}/pause",
    response=InstanceDetailOut,
    summary="Pause a running process instance",
)
@requires(Capability.ACTIVITIES_EDIT)
def instance_pause(request: HttpRequest, uuid: UUID, payload: DoneIn | None = None):
    return _pause_or_resume(request, uuid, payload, services.instance_pause)


@router.post(
    "/process-instances/{uuid:uuid}/resume",
    response=InstanceDetailOut,
    summary="Resume a paused process instance",
)
@requires(Capability.ACTIVITIES_EDIT)
def instance_resume(request: HttpRequest, uuid: UUID, payload: DoneIn | None = None):
    return _pause_or_resume(request, uuid, payload, services.instance_resume)

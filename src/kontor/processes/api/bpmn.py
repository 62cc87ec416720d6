"""BPMN 2.0 XML of a process in the API: download a version, upload a file as a new
draft version. The same rules as the HTML views (kontor.processes.views.drawing):
anyone who may see customers may download; importing needs ``processes.manage``."""

from dataclasses import asdict
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status, UploadedFile
from pydantic import Field

from kontor.core.access import require
from kontor.core.api.auth import requires
from kontor.core.api.errors import problem
from kontor.core.permissions import Capability
from kontor.processes import bpmn, queries
from kontor.processes.models import Process

router = Router(tags=["processes"])


class BpmnUnsupportedOut(Schema):
    type: str = Field(description="The BPMN element type, e.g. `subProcess`.")
    id: str
    name: str
    note: str


class BpmnImportOut(Schema):
    process: UUID
    version: int = Field(description="Number of the new draft version.")
    steps_created: int
    transitions_created: int
    steps: list[str] = Field(description="Names of the steps created, in order.")
    unsupported: list[BpmnUnsupportedOut] = Field(
        description="Elements of the file Kontor did not take over."
    )
    warnings: list[str]


@router.get(
    "/processes/{uuid:uuid}/bpmn",
    summary="A process as BPMN 2.0 XML",
    description="The published version, or `?version=N`; without a published version the newest.",
    openapi_extra={
        "responses": {
            "200": {
                "description": "BPMN 2.0 XML with diagram interchange.",
                "content": {"application/xml": {"schema": {"type": "string"}}},
            }
        }
    },
)
def process_bpmn_export(request: HttpRequest, uuid: UUID, version: int | None = None):
    require(request.auth, Capability.CUSTOMERS_VIEW)
    process = get_object_or_404(Process, uuid=uuid)
    return bpmn.export_response(queries.version_shown(process, version))


@router.post(
    "/processes/{uuid:uuid}/bpmn",
    response={201: BpmnImportOut},
    summary="Import BPMN 2.0 XML as a new draft version",
    description=(
        "Lanes, tasks, exclusive gateways, sequence flows, start and end events are "
        "taken over; every other element is listed in `unsupported`. A malformed file, "
        "a file with a DTD, or one without tasks is a 422 and writes nothing."
    ),
)
@requires(Capability.PROCESSES_MANAGE)
def process_bpmn_import(request: HttpRequest, uuid: UUID, file: File[UploadedFile]):
    require(request.auth, Capability.PROCESSES_MANAGE)
    process = get_object_or_404(Process, uuid=uuid)
    if file.size > bpmn.MAX_FILE_SIZE:
        return problem(request, 413, detail=_("The file is larger than 5 MB."))
    try:
        result = bpmn.import_bpmn(file.read(), process=process, actor=request.auth, via="api")
    except ValidationError as exc:
        return problem(
            request,
            422,
            detail=_("The file was not imported."),
            errors=[{"field": "file", "message": m} for m in exc.messages],
        )
    return Status(
        201,
        {
            "process": result.process.uuid,
            "version": result.version.number,
            "steps_created": result.steps_created,
            "transitions_created": result.transitions_created,
            "steps": [step.name for step in result.steps],
            "unsupported": [asdict(item) for item in result.unsupported],
            "warnings": result.warnings,
        },
    )

"""The requirements document (Lastenheft) of a process version in the API: the file
as PDF or Word in German or English, the list of requirements with their acceptance,
and marking one requirement accepted or open.

The same rules as the pages (kontor.processes.views.requirements): whoever may see
customers (``customers.view``) may read the document and the acceptance list;
marking acceptance needs ``processes.manage`` and goes through
kontor.processes.services.requirements (audited, via "api"). A read-only token
cannot mark anything."""

from uuid import UUID

from django.http import Http404, HttpRequest
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field, field_validator

from kontor.core.access import require
from kontor.core.api.auth import requires
from kontor.core.api.schemas import InputSchema
from kontor.core.permissions import Capability
from kontor.processes import queries
from kontor.processes.models import (
    AcceptanceStatus,
    ActivityType,
    Grade,
    Process,
    ProcessVersion,
    Step,
    StepActivity,
)
from kontor.processes.requirements_doc import CONTENT_TYPES, document_response
from kontor.processes.services.requirements import requirement_accept

router = Router(tags=["processes"])

LANGUAGES = ("de", "en")


# --- Schemas -----------------------------------------------------------------------------


class DocumentParams(Schema):
    format: str = Field(
        "pdf",
        description="`pdf` (with the diagram) or `docx` (editable Word document).",
        json_schema_extra={"enum": list(CONTENT_TYPES)},
    )
    language: str | None = Field(
        None,
        description="`de` or `en`; default: the user's language if it is one of them, else `de`.",
        json_schema_extra={"enum": list(LANGUAGES)},
    )

    # Checked here rather than with a Literal type so that the message is a clear
    # sentence in the user's language (pydantic's literal errors are English).
    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in CONTENT_TYPES:
            raise ValueError(_("Choose the format pdf or docx."))
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value not in LANGUAGES:
            raise ValueError(_("Choose the language de or en."))
        return value


class RequirementOut(Schema):
    code: str = Field(description='Number in the document: "R-3.2" is step 3, activity 2.')
    step: str = Field(description="Key of the step.")
    step_name: str
    activity_id: int = Field(description="Id of the step activity; PATCH it to mark it.")
    title: str
    kind: ActivityType
    grade: Grade = Field(description="must / should / can / out (of scope).")
    required: bool = Field(description="Must be done before the step can be finished.")
    acceptance: AcceptanceStatus
    comment: str = Field(description="The acceptance comment.")


class GradeSummaryOut(Schema):
    grade: Grade
    count: int
    accepted: int


class AcceptanceListOut(Schema):
    process: UUID
    version: int
    requirements: list[RequirementOut] = Field(description="In the order of the document.")
    summary: list[GradeSummaryOut] = Field(description="Per grade: how many, how many accepted.")


class AcceptanceIn(InputSchema):
    acceptance: AcceptanceStatus | None = Field(None, description="Left out: unchanged.")
    comment: str | None = Field(
        None, max_length=5000, description="Left out: unchanged; an empty text clears it."
    )


# --- Helpers -----------------------------------------------------------------------------


def _version(request: HttpRequest, uuid: UUID, number: int) -> tuple[Process, ProcessVersion]:
    # As the document pages: customers.view (processes.manage alone does not suffice).
    require(request.auth, Capability.CUSTOMERS_VIEW)
    process = queries.process_get(user=request.auth, uuid=uuid)
    return process, queries.version_shown(process, number)


def _requirements(version: ProcessVersion) -> list[dict]:
    """The requirements in document order, numbered as the document numbers them
    (steps by position from 1, activities by position from 1). Two queries."""
    numbers = {
        pk: n
        for n, pk in enumerate(
            Step.objects.filter(version=version)
            .order_by("position", "id")
            .values_list("pk", flat=True),
            start=1,
        )
    }
    activities = StepActivity.objects.filter(step__version=version).select_related("step")
    rows = sorted(activities, key=lambda a: (numbers[a.step_id], a.position, a.pk))
    result, index, previous = [], 0, None
    for activity in rows:
        index = index + 1 if activity.step_id == previous else 1
        previous = activity.step_id
        result.append(
            {
                "code": f"R-{numbers[activity.step_id]}.{index}",
                "step": activity.step.key,
                "step_name": activity.step.name,
                "activity_id": activity.pk,
                "title": activity.title,
                "kind": activity.kind,
                "grade": activity.grade,
                "required": activity.required,
                "acceptance": activity.acceptance,
                "comment": activity.acceptance_comment,
            }
        )
    return result


# --- Endpoints ---------------------------------------------------------------------------


@router.get(
    "/processes/{uuid:uuid}/versions/{number}/requirements",
    summary="The requirements document of a process version",
    description=(
        "The Lastenheft as PDF (with the process diagram) or as Word document, in German "
        "or English, with each requirement's grade and acceptance status. An unknown "
        "format or language is a 422."
    ),
    openapi_extra={
        "responses": {
            "200": {
                "description": "The document, as an attachment.",
                "content": {
                    media: {"schema": {"type": "string", "format": "binary"}}
                    for media in CONTENT_TYPES.values()
                },
            }
        }
    },
)
def process_requirements_document(
    request: HttpRequest, uuid: UUID, number: int, params: Query[DocumentParams]
):
    _process, version = _version(request, uuid, number)
    language = params.language or (get_language() or "de")[:2]
    if language not in LANGUAGES:
        language = "de"
    return document_response(version, language, params.format)


@router.get(
    "/processes/{uuid:uuid}/versions/{number}/requirements/acceptance",
    response=AcceptanceListOut,
    summary="The requirements of a process version with their acceptance",
)
def process_requirements_acceptance(request: HttpRequest, uuid: UUID, number: int):
    """Every step activity is one requirement. Not paginated: a version has a bounded
    number of them (like the steps in the process detail)."""
    process, version = _version(request, uuid, number)
    requirements = _requirements(version)
    summary = [
        {
            "grade": grade,
            "count": sum(1 for r in requirements if r["grade"] == grade),
            "accepted": sum(
                1
                for r in requirements
                if r["grade"] == grade and r["acceptance"] == AcceptanceStatus.ACCEPTED
            ),
        }
        for grade in Grade.values
    ]
    return {
        "process": process.uuid,
        "version": version.number,
        "requirements": requirements,
        "summary": summary,
    }


# Declared after ".../requirements/acceptance" so that that path is matched first.
@router.patch(
    "/processes/{uuid:uuid}/versions/{number}/requirements/{activity_id}",
    response=RequirementOut,
    summary="Mark a requirement accepted or open",
)
@requires(Capability.CUSTOMERS_VIEW, Capability.PROCESSES_MANAGE)
def process_requirements_accept(
    request: HttpRequest, uuid: UUID, number: int, activity_id: int, payload: AcceptanceIn
):
    """Allowed on every version (acceptance does not change the process model).
    Needs `processes.manage`; audited. An activity of another version is a 404."""
    _process, version = _version(request, uuid, number)
    require(request.auth, Capability.PROCESSES_MANAGE)
    activity = StepActivity.objects.filter(pk=activity_id, step__version=version).first()
    if activity is None:
        raise Http404
    data = payload.dict(exclude_unset=True)
    acceptance = data.get("acceptance") or activity.acceptance
    comment = data.get("comment")
    if comment is None:
        comment = activity.acceptance_comment
    requirement_accept(
        actor=request.auth,
        activity=activity,
        acceptance=acceptance,
        comment=comment,
        via="api",
    )
    return next(r for r in _requirements(version) if r["activity_id"] == activity_id)

"""Process figures in the API: the same figures as the figures page
(kontor.processes.views.measurement), computed by kontor.processes.measurement from
the instance and step records on every request.

Who may read them: the same as the figures page — everyone who may read process
definitions (``customers.view`` or ``processes.manage``, see kontor.processes.queries).
The figures are counts and times over all instances of a version; they name no
customer. Durations are whole seconds."""

import datetime as dt
from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kontor.processes import queries
from kontor.processes.measurement import StepFigures, VersionFigures, version_figures
from kontor.processes.models import Lane, VersionStatus

router = Router(tags=["processes"])


# --- Schemas -----------------------------------------------------------------------------


class StepFiguresOut(Schema):
    key: str
    name: str
    position: int
    lane: Lane
    entered: int = Field(description="Instances that entered the step (the funnel).")
    finished: int = Field(description="Times the step was finished.")
    active: int = Field(description="Instances in the step now.")
    overdue: int = Field(description="Finished after their due time, or still open past it (now).")
    overdue_rate: float | None = Field(
        description="overdue / entered, 0 to 1; null when no instance entered the step."
    )
    reached: float | None = Field(
        description="Share of the started instances that entered the step, 0 to 1; "
        "null without instances."
    )
    median_seconds: int | None = Field(
        description="Median time from entering to finishing the step; null if none finished."
    )
    p90_seconds: int | None = Field(description="90th percentile of the same times.")


class VersionFiguresOut(Schema):
    version: int = Field(description="Version number.")
    status: VersionStatus
    started: int
    running: int
    paused: int
    completed: int
    cancelled: int
    goal_reached: int
    conversion: float | None = Field(
        description="goal_reached / started, 0 to 1; null without instances."
    )
    median_seconds: int | None = Field(
        description="Median time end to end of the completed instances; null if none."
    )
    p90_seconds: int | None = Field(description="90th percentile of the same times.")
    steps: list[StepFiguresOut] = Field(description="In the order of the process.")


class ProcessFiguresOut(Schema):
    process: UUID
    name: str
    figures: VersionFiguresOut = Field(description="The version asked for (`version`).")
    compare: VersionFiguresOut | None = Field(
        description="The version named by `compare`; null without it."
    )


class FiguresParams(Schema):
    version: int | None = Field(
        None, ge=1, description="Version number; default: the published one, else the latest."
    )
    compare: int | None = Field(
        None, ge=1, description="Number of a second version to compare with."
    )


# --- Helpers -----------------------------------------------------------------------------


def _seconds(value: dt.timedelta | None) -> int | None:
    return None if value is None else round(value.total_seconds())


def _step_out(figures: StepFigures) -> dict:
    step = figures.step
    return {
        "key": step.key,
        "name": step.name,
        "position": step.position,
        "lane": step.lane,
        "entered": figures.entered,
        "finished": figures.finished,
        "active": figures.active,
        "overdue": figures.overdue,
        "overdue_rate": figures.overdue_rate,
        "reached": figures.reached,
        "median_seconds": _seconds(figures.median),
        "p90_seconds": _seconds(figures.p90),
    }


def _version_out(figures: VersionFigures) -> dict:
    return {
        "version": figures.version.number,
        "status": figures.version.status,
        "started": figures.started,
        "running": figures.running,
        "paused": figures.paused,
        "completed": figures.completed,
        "cancelled": figures.cancelled,
        "goal_reached": figures.goal_reached,
        "conversion": figures.conversion,
        "median_seconds": _seconds(figures.median),
        "p90_seconds": _seconds(figures.p90),
        "steps": [_step_out(step) for step in figures.steps],
    }


# --- Endpoints ---------------------------------------------------------------------------


@router.get(
    "/processes/{uuid:uuid}/figures",
    response=ProcessFiguresOut,
    summary="Figures of a process version",
    description=(
        "Instances started, running, paused, completed and cancelled; conversion "
        "(goal reached of started); time end to end; per step the funnel, the instances "
        "in it now, the overdue rate and its times. `compare` adds a second version "
        "beside it (did the change help?). An unknown version is a 404."
    ),
)
def process_figures_get(request: HttpRequest, uuid: UUID, params: Query[FiguresParams]):
    process = queries.process_get(user=request.auth, uuid=uuid)
    version = queries.version_shown(process, params.version)
    # Both versions are looked up before anything is computed: an unknown one is a 404.
    other = None if params.compare is None else queries.version_shown(process, params.compare)
    return {
        "process": process.uuid,
        "name": process.name,
        "figures": _version_out(version_figures(version)),
        "compare": None if other is None else _version_out(version_figures(other)),
    }

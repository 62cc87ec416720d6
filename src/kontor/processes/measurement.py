"""Figures of a process version, computed from its instance and step records on
every request — never kept in counters that drift.

Per version: instances started, running, paused, completed, cancelled; conversion
(completed with the goal reached, of all started); time end to end (median and 90th
percentile of completed instances); per step: how many instances entered it (the
funnel), finished it, are in it, were overdue in it, and its median and 90th
percentile time. One query for the instances and one for the steps, whatever the
numbers: PostgreSQL computes the percentiles itself (percentile_cont); SQLite, for
small installations, gets the durations and Kontor sorts them."""

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
)
from django.utils import timezone

from kontor.processes.models import (
    InstanceStatus,
    ProcessInstance,
    ProcessVersion,
    Step,
    StepRun,
    StepRunStatus,
)


class _Percentile(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY seconds)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def _seconds(start: str, end: str):
    """The seconds between two datetime fields (PostgreSQL)."""
    return Func(
        ExpressionWrapper(F(end) - F(start), output_field=DurationField()),
        template="EXTRACT(EPOCH FROM %(expressions)s)",
        output_field=FloatField(),
    )


def _duration(start: str, end: str):
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def percentile(sorted_seconds: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as percentile_cont does."""
    if not sorted_seconds:
        return None
    position = (len(sorted_seconds) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return sorted_seconds[low] + (sorted_seconds[high] - sorted_seconds[low]) * (position - low)


def _as_timedelta(seconds: float | None) -> dt.timedelta | None:
    return None if seconds is None else dt.timedelta(seconds=round(seconds))


@dataclass
class StepFigures:
    step: Step
    entered: int = 0
    finished: int = 0
    active: int = 0
    overdue: int = 0
    median: dt.timedelta | None = None
    p90: dt.timedelta | None = None
    reached: float | None = None  # share of started instances that entered the step

    @property
    def overdue_rate(self) -> float | None:
        return self.overdue / self.entered if self.entered else None


@dataclass
class VersionFigures:
    version: ProcessVersion
    started: int = 0
    running: int = 0
    paused: int = 0
    completed: int = 0
    cancelled: int = 0
    goal_reached: int = 0
    median: dt.timedelta | None = None
    p90: dt.timedelta | None = None
    steps: list[StepFigures] = field(default_factory=list)

    @property
    def conversion(self) -> float | None:
        return self.goal_reached / self.started if self.started else None


def version_figures(version: ProcessVersion, *, now: dt.datetime | None = None) -> VersionFigures:
    now = now or timezone.now()
    postgres = connection.vendor == "postgresql"
    instances = ProcessInstance.objects.filter(version=version)
    counts = {
        "started": Count("id"),
        "running": Count("id", filter=Q(status=InstanceStatus.RUNNING)),
        "paused": Count("id", filter=Q(status=InstanceStatus.PAUSED)),
        "completed": Count("id", filter=Q(status=InstanceStatus.COMPLETED)),
        "cancelled": Count("id", filter=Q(status=InstanceStatus.CANCELLED)),
        "goal_reached": Count("id", filter=Q(goal_reached=True)),
    }
    done = Q(status=InstanceStatus.COMPLETED, ended_at__isnull=False)
    if postgres:
        seconds = _seconds("started_at", "ended_at")
        counts["median"] = _Percentile(seconds, 0.5, filter=done)
        counts["p90"] = _Percentile(seconds, 0.9, filter=done)
    row = instances.aggregate(**counts)
    figures = VersionFigures(
        version=version, **{k: row[k] for k in counts if k not in ("median", "p90")}
    )
    if postgres:
        figures.median, figures.p90 = _as_timedelta(row["median"]), _as_timedelta(row["p90"])
    else:
        durations = sorted(
            d.total_seconds()
            for d in instances.filter(done)
            .annotate(d=_duration("started_at", "ended_at"))
            .values_list("d", flat=True)
        )
        figures.median = _as_timedelta(percentile(durations, 0.5))
        figures.p90 = _as_timedelta(percentile(durations, 0.9))
    figures.steps = _step_figures(version, figures.started, now=now, postgres=postgres)
    return figures


def _step_figures(version, started: int, *, now, postgres: bool) -> list[StepFigures]:
    runs = StepRun.objects.filter(instance__version=version)
    finished = Q(status=StepRunStatus.DONE)
    overdue = Q(status=StepRunStatus.DONE, finished_at__gt=F("due_at")) | Q(
        status=StepRunStatus.ACTIVE, due_at__lt=now
    )
    aggregates = {
        "entered": Count("id"),
        "finished": Count("id", filter=finished),
        "active": Count("id", filter=Q(status=StepRunStatus.ACTIVE)),
        "overdue": Count("id", filter=overdue),
    }
    if postgres:
        seconds = _seconds("entered_at", "finished_at")
        aggregates["median"] = _Percentile(seconds, 0.5, filter=finished)
        aggregates["p90"] = _Percentile(seconds, 0.9, filter=finished)
    by_step = {
        row["step_id"]: row
        for row in runs.values("step_id").annotate(**aggregates).order_by("step_id")
    }
    durations: dict[int, list[float]] = {}
    if not postgres:
        for step_id, d in (
            runs.filter(finished)
            .annotate(d=_duration("entered_at", "finished_at"))
            .values_list("step_id", "d")
        ):
            durations.setdefault(step_id, []).append(d.total_seconds())
    result = []
    for step in version.steps.order_by("position", "id"):
        row = by_step.get(step.pk, {})
        figures = StepFigures(
            step=step,
            entered=row.get("entered", 0),
            finished=row.get("finished", 0),
            active=row.get("active", 0),
            overdue=row.get("overdue", 0),
        )
        if postgres:
            figures.median = _as_timedelta(row.get("median"))
            figures.p90 = _as_timedelta(row.get("p90"))
        else:
            seconds = sorted(durations.get(step.pk, []))
            figures.median = _as_timedelta(percentile(seconds, 0.5))
            figures.p90 = _as_timedelta(percentile(seconds, 0.9))
        figures.reached = figures.entered / started if started else None
        result.append(figures)
    return result

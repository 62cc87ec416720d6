"""Figures of a process version, computed from its instance and step records on
every request — never kept in counters that drift.

Per version: instances started, running, paused, completed, cancelled; conversion
(completed with the goal reached, of all started); time end to end (median and 90th
percentile of completed instances); per step: how many instances entered it (the
funnel), finished it, are in it, were overdue in it, and its median and 90th
percentile time.

Built to stay fast with hundreds of thousands of instances and millions of step
records (issue 6: a figures page with a comparison in 300 ms):

- Both aggregates group by status (instances) and by step and status (step
  records), so a row is counted without a filter per figure, and they read only
  the covering indexes ``instance_version_status`` and ``step_run_step_status``
  (PostgreSQL scans them index-only — once VACUUM has marked the table's pages
  all-visible, as autovacuum does — already in group order: no sort of the rows).
- The step records are selected by the version's step ids, not through a join to
  the instances.
- PostgreSQL computes both percentiles in one ``percentile_cont`` over an array of
  fractions (one sort per group).
- SQLite (small installations) sorts the durations itself, in SQL, and returns
  only the rows at the ranks the percentiles need: Kontor interpolates between
  them exactly as ``percentile_cont`` does.
"""

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Q,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from kontor.processes.models import (
    InstanceStatus,
    ProcessInstance,
    ProcessVersion,
    Step,
    StepRun,
    StepRunStatus,
)

FRACTIONS = (0.5, 0.9)  # median and 90th percentile


class _Percentiles(Aggregate):
    """PostgreSQL's percentile_cont(ARRAY[fractions]) WITHIN GROUP (ORDER BY seconds):
    all fractions from one sort of the group."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(ARRAY[%(fractions)s]) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fractions, **extra):
        from django.contrib.postgres.fields import ArrayField

        super().__init__(
            expression,
            fractions=", ".join(str(float(f)) for f in fractions),
            output_field=ArrayField(FloatField()),
            **extra,
        )


class _Seconds(Func):
    """The seconds from one datetime field to another (PostgreSQL), as a float.

    ``date_part`` works in floating point; EXTRACT computes a numeric per row, which
    costs a third more over hundreds of thousands of rows. It may differ from the
    exact microseconds in the last bit of the float: nothing a time shown in whole
    seconds can reveal (tests/processes/test_measurement.py compares to the
    microsecond-exact SQLite path)."""

    template = "date_part('epoch', %(expressions)s)"
    arg_joiner = " - "
    output_field = FloatField()


class _Microseconds(Func):
    """The whole microseconds from one datetime field to another (SQLite), exact.

    Django stores a datetime on SQLite as UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]"
    (str() of the naive value): the seconds come from the first 19 characters, the
    microseconds from character 21 on (none when they are zero)."""

    output_field = IntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        (start, start_params), (end, end_params) = (
            compiler.compile(e) for e in self.get_source_expressions()
        )

        def seconds(sql):
            return f"CAST(strftime('%%s', substr({sql}, 1, 19)) AS INTEGER)"

        def micros(sql):
            return f"CAST(substr({sql}, 21) AS INTEGER)"

        sql = f"(({seconds(end)} - {seconds(start)}) * 1000000 + {micros(end)} - {micros(start)})"
        # Each side appears twice in the SQL.
        return sql, (*end_params, *start_params, *end_params, *start_params)


def _ranks(count: int, fraction: float) -> tuple[int, int, float]:
    """Zero-based ranks of the two values the percentile lies between, and the
    weight of the upper one: linear interpolation between closest ranks, as
    percentile_cont does."""
    position = (count - 1) * fraction
    low = math.floor(position)
    return low, math.ceil(position), position - low


def percentile(sorted_seconds: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as percentile_cont does."""
    if not sorted_seconds:
        return None
    low, high, weight = _ranks(len(sorted_seconds), fraction)
    return sorted_seconds[low] + (sorted_seconds[high] - sorted_seconds[low]) * weight


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


def _sqlite_percentiles(queryset, start: str, end: str, counts: dict, group: str | None) -> dict:
    """SQLite: {group value: [seconds per fraction]} of the durations from ``start``
    to ``end`` of the rows of ``queryset``, per value of the field ``group`` (None:
    all rows are one group, keyed None). ``counts``: how many rows with ``end`` set
    each group has. The database sorts and numbers the durations and returns only
    the rows at the ranks the percentiles lie between."""
    wanted = {key: [_ranks(n, f) for f in FRACTIONS] for key, n in counts.items() if n}
    if not wanted:
        return {}
    row_numbers = {
        rank + 1 for ranks in wanted.values() for low, high, _w in ranks for rank in (low, high)
    }
    rows = (
        queryset.filter(**{f"{start}__isnull": False, f"{end}__isnull": False})
        .annotate(
            micros=_Microseconds(start, end),
            row_number=Window(
                RowNumber(),
                partition_by=[F(group)] if group else None,
                order_by=F("micros").asc(),
            ),
        )
        .filter(row_number__in=row_numbers)
        .order_by()
    )
    values = {
        (row[group] if group else None, row["row_number"] - 1): row["micros"] / 1_000_000
        for row in rows.values(*filter(None, [group]), "row_number", "micros")
    }
    return {
        key: [
            values[(key, low)] + (values[(key, high)] - values[(key, low)]) * weight
            for low, high, weight in ranks
        ]
        for key, ranks in wanted.items()
    }


def version_figures(version: ProcessVersion, *, now: dt.datetime | None = None) -> VersionFigures:
    now = now or timezone.now()
    postgres = connection.vendor == "postgresql"
    figures = VersionFigures(version=version)
    instances = ProcessInstance.objects.filter(version=version)
    aggregates = {
        "n": Count("*"),
        # Count("*") takes no filter: "status", in the index, is never NULL.
        "goal": Count("status", filter=Q(goal_reached=True)),
    }
    if postgres:
        aggregates["percentiles"] = _Percentiles(_Seconds("ended_at", "started_at"), FRACTIONS)
    else:
        aggregates["timed"] = Count("ended_at")
    # One row per status, read index-only in order (instance_figures).
    rows = {
        row["status"]: row
        for row in instances.values("status").annotate(**aggregates).order_by("status")
    }
    for status in InstanceStatus:
        setattr(figures, status.value, rows.get(status, {}).get("n", 0))
    figures.started = sum(row["n"] for row in rows.values())
    figures.goal_reached = sum(row["goal"] for row in rows.values())
    completed = rows.get(InstanceStatus.COMPLETED)
    if completed is not None:
        if postgres:
            seconds = completed["percentiles"]
        else:
            seconds = _sqlite_percentiles(
                instances.filter(status=InstanceStatus.COMPLETED),
                "started_at",
                "ended_at",
                {None: completed["timed"]},
                group=None,
            ).get(None)
        if seconds:
            figures.median, figures.p90 = (_as_timedelta(s) for s in seconds)
    figures.steps = _step_figures(version, figures.started, now=now, postgres=postgres)
    return figures


def _step_figures(version, started: int, *, now, postgres: bool) -> list[StepFigures]:
    steps = list(version.steps.order_by("position", "id"))
    # By the version's step ids: no join to the instances (step_run_figures).
    runs = StepRun.objects.filter(step_id__in=[step.pk for step in steps])
    # Overdue: a finished run done after its due time, an active one past it now. Each
    # status group counts its own condition: one comparison per row, no OR of ANDs.
    # (Count("*") takes no filter: "status", in the index, is never NULL.)
    aggregates = {
        "n": Count("*"),
        "finished_late": Count("status", filter=Q(finished_at__gt=F("due_at"))),
        "due_before_now": Count("status", filter=Q(due_at__lt=now)),
    }
    if postgres:
        # Computed for every group (NULL for the active runs, which percentile_cont
        # skips); only the finished runs' is shown.
        aggregates["percentiles"] = _Percentiles(_Seconds("finished_at", "entered_at"), FRACTIONS)
    else:
        aggregates["timed"] = Count("finished_at")
    by_step: dict[int, dict] = {}
    for row in (
        runs.values("step_id", "status").annotate(**aggregates).order_by("step_id", "status")
    ):
        by_step.setdefault(row["step_id"], {})[row["status"]] = row
    if postgres:
        seconds = {
            pk: rows[StepRunStatus.DONE]["percentiles"]
            for pk, rows in by_step.items()
            if StepRunStatus.DONE in rows
        }
    else:
        seconds = _sqlite_percentiles(
            runs.filter(status=StepRunStatus.DONE),
            "entered_at",
            "finished_at",
            {
                pk: rows[StepRunStatus.DONE]["timed"]
                for pk, rows in by_step.items()
                if StepRunStatus.DONE in rows
            },
            group="step_id",
        )
    result = []
    for step in steps:
        rows = by_step.get(step.pk, {})
        done, active = rows.get(StepRunStatus.DONE, {}), rows.get(StepRunStatus.ACTIVE, {})
        figures = StepFigures(
            step=step,
            entered=sum(row["n"] for row in rows.values()),
            finished=done.get("n", 0),
            active=active.get("n", 0),
            overdue=done.get("finished_late", 0) + active.get("due_before_now", 0),
        )
        figures.reached = figures.entered / started if started else None
        if seconds.get(step.pk):
            figures.median, figures.p90 = (_as_timedelta(s) for s in seconds[step.pk])
        result.append(figures)
    return result

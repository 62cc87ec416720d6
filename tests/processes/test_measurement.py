"""Process figures: computed from instance and step records, the same on SQLite and
PostgreSQL, and shown on the figures page with a version comparison."""

import datetime as dt
import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kontor.processes.measurement import percentile, version_figures
from kontor.processes.models import (
    InstanceStatus,
    Process,
    ProcessInstance,
    ProcessVersion,
    Step,
    StepRun,
    StepRunStatus,
    VersionStatus,
)
from tests.customers.factories import PersonFactory, owned_by

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def _version(number=1, status=VersionStatus.PUBLISHED, process=None):
    process = process or Process.objects.create(name="Messe")
    version = ProcessVersion.objects.create(
        process=process, number=number, status=status, goal="Auftrag"
    )
    first = Step.objects.create(version=version, key="call", name="Anruf", position=1)
    last = Step.objects.create(version=version, key="won", name="Auftrag", position=2, is_end=True)
    return version, first, last


def _instance(version, person, *, status, goal=False, hours=None, started=NOW):
    instance = ProcessInstance.objects.create(
        version=version, person=person, status=status, goal_reached=goal
    )
    ended = started + dt.timedelta(hours=hours) if hours is not None else None
    ProcessInstance.objects.filter(pk=instance.pk).update(started_at=started, ended_at=ended)
    return instance


def _run(instance, step, *, hours=None, due_in=None, entered=NOW):
    return StepRun.objects.create(
        instance=instance,
        step=step,
        status=StepRunStatus.DONE if hours is not None else StepRunStatus.ACTIVE,
        entered_at=entered,
        finished_at=entered + dt.timedelta(hours=hours) if hours is not None else None,
        due_at=entered + dt.timedelta(hours=due_in) if due_in is not None else None,
    )


def test_percentiles_interpolate_like_percentile_cont():
    assert percentile([], 0.5) is None
    assert percentile([10.0], 0.9) == 10.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([0.0, 10.0], 0.9) == 9.0


def test_figures_count_convert_and_time_the_instances(owner):  # fmt: skip
    version, call, won = _version()
    person = owned_by(PersonFactory, owner)
    a = _instance(version, person, status=InstanceStatus.COMPLETED, goal=True, hours=10)
    b = _instance(version, person, status=InstanceStatus.COMPLETED, goal=False, hours=30)
    c = _instance(version, person, status=InstanceStatus.RUNNING)
    _instance(version, person, status=InstanceStatus.CANCELLED, hours=1)
    _run(a, call, hours=2, due_in=24)
    _run(a, won, hours=0)
    _run(b, call, hours=48, due_in=24)  # finished late: overdue
    _run(c, call, due_in=1)  # still open, past its due time at NOW + 2 h: overdue

    figures = version_figures(version, now=NOW + dt.timedelta(hours=2))

    assert (figures.started, figures.running, figures.completed, figures.cancelled) == (4, 1, 2, 1)
    assert figures.conversion == 0.25
    assert (figures.median, figures.p90) == (dt.timedelta(hours=20), dt.timedelta(hours=28))
    first, last = figures.steps
    assert (first.entered, first.finished, first.active, first.overdue) == (3, 2, 1, 2)
    assert (first.median, first.p90) == (dt.timedelta(hours=25), dt.timedelta(hours=43, minutes=24))
    assert first.reached == 0.75 and last.reached == 0.25
    assert round(first.overdue_rate, 3) == 0.667


def test_a_version_without_instances_has_empty_figures():
    version, _call, _won = _version()
    figures = version_figures(version)
    assert (figures.started, figures.conversion, figures.median) == (0, None, None)
    assert [s.reached for s in figures.steps] == [None, None]


def test_the_figures_page_compares_two_versions(client, owner, admin):
    old, old_call, _ = _version(number=1, status=VersionStatus.RETIRED)
    new, _new_call, _ = _version(number=2, process=old.process)
    person = owned_by(PersonFactory, owner)
    _run(
        _instance(old, person, status=InstanceStatus.COMPLETED, goal=True, hours=5),
        old_call,
        hours=5,
    )
    _instance(new, person, status=InstanceStatus.RUNNING)
    client.force_login(admin)

    page = client.get(f"/processes/{old.process.uuid}/figures/", {"version": 2, "compare": 1})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Version 2" in html and "Version 1" in html
    assert "<svg" in html and 'style="' not in html


def test_figures_need_a_role_that_sees_customers(client, db):
    from kontor.core.models import Role
    from tests.core.factories import UserFactory

    version, _call, _won = _version()
    nobody = UserFactory(username="nobody", role=Role.objects.get(code="read_only"))
    Role.objects.filter(code="read_only").update(capabilities=[])
    client.force_login(nobody)
    assert client.get(f"/processes/{version.process.uuid}/figures/").status_code == 403


def _reference(durations: list[dt.timedelta]) -> tuple:
    """Median and 90th percentile the slow, obvious way: all durations sorted here."""
    seconds = sorted(d.total_seconds() for d in durations)
    return tuple(
        None if not seconds else dt.timedelta(seconds=round(percentile(seconds, f)))
        for f in (0.5, 0.9)
    )


def test_percentiles_match_sorting_every_duration_to_the_microsecond(owner):
    """The database picks the values at the ranks (SQLite) or computes percentile_cont
    (PostgreSQL): the same numbers as sorting all durations, microseconds included
    (a duration across a second boundary, one with and one without a fraction)."""
    version, call, _won = _version()
    person = owned_by(PersonFactory, owner)
    rnd = random.Random(6)
    instance_durations, call_durations = [], []
    for i in range(41):
        started = NOW + dt.timedelta(seconds=i, microseconds=999_999 if i % 3 else 0)
        total = dt.timedelta(seconds=rnd.randrange(1, 90_000), microseconds=rnd.randrange(10**6))
        instance = _instance(version, person, status=InstanceStatus.COMPLETED, started=started)
        ProcessInstance.objects.filter(pk=instance.pk).update(ended_at=started + total)
        instance_durations.append(total)
        took = dt.timedelta(
            microseconds=rnd.choice([1, 2, 999_999, 1_000_001, rnd.randrange(10**11)])
        )
        StepRun.objects.create(
            instance=instance,
            step=call,
            status=StepRunStatus.DONE,
            entered_at=started,
            finished_at=started + took,
        )
        call_durations.append(took)
    # Neither cancelled nor left runs count into the times.
    other = _instance(version, person, status=InstanceStatus.CANCELLED, hours=900)
    StepRun.objects.create(
        instance=other,
        step=call,
        status=StepRunStatus.LEFT,
        entered_at=NOW,
        finished_at=NOW + dt.timedelta(days=99),
    )

    figures = version_figures(version, now=NOW)

    assert (figures.median, figures.p90) == _reference(instance_durations)
    first, last = figures.steps
    assert (first.entered, first.finished, first.active) == (42, 41, 0)
    assert (first.median, first.p90) == _reference(call_durations)
    assert (last.entered, last.median, last.p90) == (0, None, None)


def test_a_left_step_record_is_neither_finished_nor_overdue(owner):
    version, call, _won = _version()
    person = owned_by(PersonFactory, owner)
    cancelled = _instance(version, person, status=InstanceStatus.CANCELLED, hours=3)
    StepRun.objects.create(
        instance=cancelled,
        step=call,
        status=StepRunStatus.LEFT,
        entered_at=NOW,
        due_at=NOW + dt.timedelta(hours=1),
        finished_at=NOW + dt.timedelta(hours=3),
    )
    running = _instance(version, person, status=InstanceStatus.PAUSED)
    _run(running, call, due_in=5)  # open, not yet due

    first, _last = version_figures(version, now=NOW + dt.timedelta(hours=4)).steps

    assert (first.entered, first.finished, first.active, first.overdue) == (2, 0, 1, 0)
    assert (first.median, first.p90) == (None, None)


def test_figures_take_a_fixed_number_of_queries_without_joining_the_instances(owner):
    version, call, won = _version()
    person = owned_by(PersonFactory, owner)
    for hours in (1, 2, 3):
        instance = _instance(version, person, status=InstanceStatus.COMPLETED, hours=hours)
        _run(instance, call, hours=hours)
        _run(instance, won, hours=0)

    # Instances by status, the steps, step records by step and status; SQLite asks
    # twice more for the values at the percentiles' ranks.
    expected = 3 if connection.vendor == "postgresql" else 5
    with CaptureQueriesContext(connection) as queries:
        version_figures(version, now=NOW)
    assert len(queries.captured_queries) == expected
    step_queries = [q["sql"] for q in queries.captured_queries if "processes_steprun" in q["sql"]]
    assert step_queries and all("processes_processinstance" not in sql for sql in step_queries)

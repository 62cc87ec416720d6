"""Process figures: computed from instance and step records, the same on SQLite and
PostgreSQL, and shown on the figures page with a version comparison."""

import datetime as dt

import pytest

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

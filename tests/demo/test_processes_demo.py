from collections import Counter
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone

from kontor.activities.models import Task
from kontor.core.models import User
from kontor.core.permissions import RoleCode
from kontor.demo import activities as demo_activities
from kontor.demo import processes as demo_processes
from kontor.processes.drawing import draw
from kontor.processes.models import (
    InstanceStatus,
    Process,
    ProcessInstance,
    StepActivity,
    StepRun,
    StepRunItem,
    StepRunStatus,
    SubjectKind,
    Transition,
    VersionStatus,
)
from kontor.processes.scenes import TRADE_FAIR
from kontor.processes.validation import validate_version

pytestmark = pytest.mark.django_db

PERSONS = 40


@pytest.fixture
def loaded():
    out = StringIO()
    call_command("demo", "--persons", str(PERSONS), stdout=out)
    return out.getvalue()


def test_the_demo_runs_the_processes_on_its_customers(loaded):
    running = ProcessInstance.objects.filter(status=InstanceStatus.RUNNING)
    assert running.count() >= PERSONS * 0.9
    assert ProcessInstance.objects.filter(status=InstanceStatus.COMPLETED).exists()
    assert ProcessInstance.objects.filter(status=InstanceStatus.CANCELLED).exists()
    assert ProcessInstance.objects.filter(goal_reached=True).exists()
    assert "process instances running" in loaded
    # on published versions, persons or organizations as the process says
    instances = ProcessInstance.objects.select_related("version__process")
    assert not instances.exclude(version__status=VersionStatus.PUBLISHED).exists()
    for instance in instances:
        kind = instance.version.process.subject_kind
        assert (instance.person_id is not None) == (kind == SubjectKind.PERSON)
        assert (instance.organization_id is not None) == (kind == SubjectKind.ORGANIZATION)
    # the trade-fair scene has the most instances
    by_process = Counter(instances.values_list("version__process__key", flat=True))
    assert by_process.most_common(1)[0][0] == TRADE_FAIR.key
    # one running instance of a process per customer, as the engine allows
    live = ProcessInstance.objects.filter(
        status__in=[InstanceStatus.RUNNING, InstanceStatus.PAUSED]
    )
    twice = (
        live.values("version__process", "person", "organization")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not twice.exists()
    # no tasks for them: My day keeps its own demo tasks
    assert not StepRunItem.objects.exclude(task=None).exists()
    workers = User.objects.exclude(role__code=RoleCode.READ_ONLY).count()
    assert Task.objects.count() == workers * len(demo_activities.TASKS)


def test_every_instance_is_consistent_with_its_version(loaded):
    ways = set(Transition.objects.values_list("source", "target"))
    runs_of: dict[int, list[StepRun]] = {}
    for run in StepRun.objects.select_related("step").order_by("entered_at", "id"):
        runs_of.setdefault(run.instance_id, []).append(run)
    for instance in ProcessInstance.objects.select_related("version"):
        runs = runs_of[instance.pk]
        first = instance.version.steps.order_by("position", "id").first()
        assert runs[0].step_id == first.pk
        assert runs[0].entered_at == instance.started_at
        # the runs follow the version's transitions, in time order
        for before, after in pairwise(runs):
            assert (before.step_id, after.step_id) in ways
            assert before.finished_at is not None
            assert before.entered_at <= before.finished_at <= after.entered_at
        active = [r for r in runs if r.status == StepRunStatus.ACTIVE]
        assert instance.current_step_id == runs[-1].step_id
        if instance.status in (InstanceStatus.RUNNING, InstanceStatus.PAUSED):
            assert [r.pk for r in active] == [runs[-1].pk]
            assert runs[-1].finished_at is None and instance.ended_at is None
            assert not instance.goal_reached
        else:
            assert active == []
            assert instance.ended_at == runs[-1].finished_at
            last = runs[-1]
            if instance.status == InstanceStatus.COMPLETED:
                assert last.step.is_end and last.status == StepRunStatus.DONE
                assert instance.goal_reached == last.step.goal_reached
            else:
                assert last.status == StepRunStatus.LEFT and instance.cancel_reason
                assert not instance.goal_reached
        assert all(r.status == StepRunStatus.DONE for r in runs[:-1])


def test_active_steps_have_open_work(loaded):
    active = StepRun.objects.filter(status=StepRunStatus.ACTIVE)
    # items only for active steps, one per activity that is not out of scope
    assert not StepRunItem.objects.exclude(step_run__status=StepRunStatus.ACTIVE).exists()
    assert not StepRunItem.objects.filter(activity__grade="out").exists()
    assert not StepRunItem.objects.exclude(activity__step=F("step_run__step")).exists()
    for run in active.prefetch_related("items__activity"):
        wanted = StepActivity.objects.filter(step=run.step_id).exclude(grade="out").count()
        items = list(run.items.all())
        assert len(items) == wanted
        required = [i for i in items if i.activity.required]
        if required:  # else the user chooses the way on
            assert any(i.done_at is None for i in required)
        else:
            assert Transition.objects.filter(source=run.step_id).count() > 1
    # overdue active steps were warned already (the worker sends no flood)
    overdue = active.filter(due_at__lt=timezone.now())
    assert overdue.exists()
    assert not overdue.filter(Q(overdue_notified_at=None) | Q(escalated_at=None)).exists()
    assert not active.filter(due_at__gt=timezone.now()).exclude(overdue_notified_at=None).exists()


def test_the_thirty_step_process_is_valid_and_published(loaded):
    process = Process.objects.get(key=demo_processes.LONG_PROCESS_KEY)
    version = process.versions.get()
    assert version.status == VersionStatus.PUBLISHED
    assert version.steps.count() == 30
    assert validate_version(version) == []
    assert version.steps.filter(deadline_days__isnull=False).count() >= 20
    assert len(set(version.steps.values_list("lane", flat=True))) == 5
    svg = draw(version)
    assert svg.startswith("<svg") or "<svg" in svg[:200]
    # loading again does not make it twice
    call_command("demo", "--persons", "10", stdout=StringIO())
    assert Process.objects.filter(key=demo_processes.LONG_PROCESS_KEY).count() == 1


def test_the_figures_page_shows_the_demo_instances(loaded, client):
    process = Process.objects.get(key=TRADE_FAIR.key)
    client.force_login(User.objects.get(username="manager"))
    response = client.get(reverse("processes:process_figures", args=[process.uuid]))
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures.started == ProcessInstance.objects.filter(version__process=process).count()
    assert (
        figures.running
        == ProcessInstance.objects.filter(
            version__process=process, status=InstanceStatus.RUNNING
        ).count()
    )
    assert (
        sum(step.entered for step in figures.steps)
        == StepRun.objects.filter(instance__version__process=process).count()
    )

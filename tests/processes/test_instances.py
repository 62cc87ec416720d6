"""The process engine: starting, working and ending process instances."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from kontor.activities.models import Activity, Task, TaskStatus
from kontor.activities.services.capture import CaptureData, capture_record
from kontor.activities.services.tasks import task_done, task_reopen
from kontor.core.models import AuditEntry
from kontor.processes.business_days import add_business_days
from kontor.processes.models import (
    ActivityType,
    InstanceStatus,
    Process,
    ProcessInstance,
    ProcessVersion,
    Step,
    StepActivity,
    StepRun,
    StepRunItem,
    StepRunStatus,
    SubjectKind,
    Transition,
    TriggerKind,
    VersionStatus,
)
from kontor.processes.services import instances as engine
from kontor.processes.services.engine import active_run, choices_for
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    # The history notes are checked by their English text.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def build(
    *,
    name="Onboarding",
    kind=SubjectKind.PERSON,
    status=VersionStatus.PUBLISHED,
    trigger=TriggerKind.MANUAL,
    branch=False,
):
    """first (task, 3 business days) → [branch: won | lost] or → done (goal)."""
    process = Process.objects.create(name=name, subject_kind=kind)
    version = ProcessVersion.objects.create(
        process=process, number=1, status=status, goal="Customer", trigger=trigger
    )
    first = Step.objects.create(
        version=version, key="first", name="Call", position=0, deadline_days=3
    )
    StepActivity.objects.create(step=first, kind=ActivityType.TASK, title="Call them", position=0)
    StepActivity.objects.create(
        step=first, kind=ActivityType.CHECKLIST, title="Optional", required=False, position=1
    )
    if branch:
        won = Step.objects.create(
            version=version, key="won", name="Won", position=1, is_end=True, goal_reached=True
        )
        lost = Step.objects.create(
            version=version, key="lost", name="Lost", position=2, is_end=True
        )
        Transition.objects.create(
            version=version, source=first, target=won, label="won", position=0
        )
        Transition.objects.create(
            version=version, source=first, target=lost, label="lost", position=1
        )
    else:
        done = Step.objects.create(
            version=version, key="done", name="Done", position=1, is_end=True, goal_reached=True
        )
        Transition.objects.create(version=version, source=first, target=done)
    return version


def item_of(instance, kind=ActivityType.TASK):
    return StepRunItem.objects.get(
        step_run__instance=instance, step_run__status=StepRunStatus.ACTIVE, activity__kind=kind
    )


def test_start_enters_first_step_with_task_due_in_business_days(owner):
    version = build()
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version.process, person=person)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    assert instance.current_step.key == "first"
    assert instance.started_by == owner
    run = StepRun.objects.get(instance=instance)
    assert run.status == StepRunStatus.ACTIVE
    assert run.assignee == owner
    due = add_business_days(dt.date.today(), 3)
    task = Task.objects.get(person=person)
    assert task.title == "Onboarding: Call them"
    assert task.owner == owner
    assert task.due_date == due
    assert run.due_at.date() == due
    assert StepRunItem.objects.filter(step_run=run).count() == 2
    assert (
        Activity.objects.filter(person=person, subject="Process Onboarding: Call reached").count()
        == 1
    )
    assert AuditEntry.objects.filter(object_id=instance.pk, action="create").exists()


def test_start_refused_without_permission_invisible_or_unpublished(owner, outsider, readonly):
    version = build()
    person = owned_by(PersonFactory, owner)
    with pytest.raises(PermissionDenied):
        engine.instance_start(actor=readonly, version_or_process=version, person=person)
    with pytest.raises(Http404):
        engine.instance_start(actor=outsider, version_or_process=version, person=person)
    draft = build(name="Draft", status=VersionStatus.DRAFT)
    with pytest.raises(ValidationError):
        engine.instance_start(actor=owner, version_or_process=draft, person=person)
    with pytest.raises(ValidationError):
        engine.instance_start(actor=owner, version_or_process=draft.process, person=person)
    org_version = build(name="Org", kind=SubjectKind.ORGANIZATION)
    with pytest.raises(ValidationError):
        engine.instance_start(actor=owner, version_or_process=org_version, person=person)
    assert ProcessInstance.objects.count() == 0
    assert Task.objects.count() == 0


def test_second_start_of_running_process_refused(owner):
    version = build()
    person = owned_by(PersonFactory, owner)
    engine.instance_start(actor=owner, version_or_process=version, person=person)
    with pytest.raises(ValidationError):
        engine.instance_start(actor=owner, version_or_process=version, person=person)
    assert ProcessInstance.objects.count() == 1


def test_task_done_advances_to_end_and_goal(owner):
    version = build()
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    task = Task.objects.get(person=person)
    task_done(actor=owner, task=task)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.goal_reached is True
    assert instance.ended_at is not None
    assert instance.current_step.key == "done"
    assert list(instance.step_runs.values_list("step__key", "status")) == [
        ("first", "done"),
        ("done", "done"),
    ]


def test_task_reopened_undoes_item_while_step_active(owner):
    version = build(branch=True)
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    task = Task.objects.get(person=person)
    task_done(actor=owner, task=task)
    assert item_of(instance).done_at is not None  # waits for the choice
    task_reopen(actor=owner, task=task)
    assert item_of(instance).done_at is None


def test_branch_choice(owner):
    version = build(branch=True)
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    lost = Transition.objects.get(version=version, label="lost")
    with pytest.raises(ValidationError):  # the required task is still open
        engine.step_choose(actor=owner, instance=instance, transition=lost)
    engine.item_done(actor=owner, item=item_of(instance))
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.RUNNING
    assert [t.label for t in choices_for(instance, active_run(instance))] == [
        "won",
        "lost",
    ]
    engine.step_choose(actor=owner, instance=instance, transition=lost)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.goal_reached is False
    assert instance.current_step.key == "lost"


def test_condition_decides_branch(owner):
    version = build(branch=True)
    Transition.objects.filter(version=version, label="won").update(
        condition={"field": "person.last_name", "equals": "Meyer"}
    )
    person = owned_by(PersonFactory, owner, last_name="Meyer")
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    engine.item_done(actor=owner, item=item_of(instance))
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED
    assert instance.goal_reached is True


def test_second_completion_refused_and_no_double_advance(owner, teammate):
    version = build(branch=True)
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    seen = ProcessInstance.objects.get(pk=instance.pk).lock_version
    item = item_of(instance)
    engine.item_done(actor=owner, item=item, lock_version=seen)
    with pytest.raises(ValidationError):  # the other browser still shows the old state
        engine.item_done(actor=teammate, item=item, lock_version=seen)
    with pytest.raises(ValidationError):  # already done
        engine.item_done(actor=teammate, item=item)
    won = Transition.objects.get(version=version, label="won")
    engine.step_choose(actor=owner, instance=instance, transition=won)
    with pytest.raises(ValidationError):
        engine.step_choose(actor=teammate, instance=instance, transition=won)
    assert StepRun.objects.filter(instance=instance, step__key="won").count() == 1


def test_steps_without_open_work_are_walked_through_at_once(owner):
    # given: first (task) → check (only an optional item) → fill (the e-mail field,
    # already filled) → last (two tasks) → done
    version = build()
    first, done = Step.objects.get(key="first"), Step.objects.get(key="done")
    check = Step.objects.create(version=version, key="check", name="Check", position=2)
    StepActivity.objects.create(
        step=check, kind=ActivityType.CHECKLIST, title="Maybe", required=False, position=0
    )
    fill = Step.objects.create(version=version, key="fill", name="Fill", position=3)
    StepActivity.objects.create(
        step=fill, kind=ActivityType.FIELD, title="E-mail", config={"field": "person.email"}
    )
    last = Step.objects.create(version=version, key="last", name="Last", position=4)
    StepActivity.objects.create(step=last, kind=ActivityType.TASK, title="One", position=0)
    StepActivity.objects.create(step=last, kind=ActivityType.TASK, title="Two", position=1)
    Transition.objects.filter(version=version).delete()
    for source, target in ((first, check), (check, fill), (fill, last), (last, done)):
        Transition.objects.create(version=version, source=source, target=target)
    person = owned_by(PersonFactory, owner, email="da@example.de")
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    # when the first step's task is done
    engine.item_done(actor=owner, item=item_of(instance), lock_version=1)
    # then the two steps without open work are passed, the last one waits
    instance.refresh_from_db()
    assert instance.current_step == last
    assert instance.lock_version == 2
    assert list(instance.step_runs.values_list("step__key", "status", "finished_by")) == [
        ("first", "done", owner.pk),
        ("check", "done", owner.pk),
        ("fill", "done", owner.pk),
        ("last", "active", None),
    ]
    run = active_run(instance)
    assert [(i.activity.title, i.task.title, i.done_at) for i in run.items.all()] == [
        ("One", "Onboarding: One", None),
        ("Two", "Onboarding: Two", None),
    ]
    assert list(
        Activity.objects.filter(person=person).order_by("id").values_list("subject", flat=True)
    ) == [
        "Process Onboarding: Call reached",
        "Process Onboarding: Check reached",
        "Process Onboarding: Fill reached",
        "Process Onboarding: Last reached",
    ]
    assert StepRunItem.objects.get(step_run__step=fill).done_at is not None
    assert StepRunItem.objects.get(step_run__step=check).done_at is None


def test_item_done_refused_for_outsider_and_readonly_changes_nothing(owner, outsider, readonly):
    version = build()
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    item = item_of(instance)
    with pytest.raises(Http404):
        engine.item_done(actor=outsider, item=item)
    with pytest.raises(PermissionDenied):
        engine.item_done(actor=readonly, item=item)
    item.refresh_from_db()
    assert item.done_at is None
    instance.refresh_from_db()
    assert instance.lock_version == 1
    assert instance.current_step.key == "first"


def test_pause_resume_cancel(owner):
    version = build()
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    engine.instance_pause(actor=owner, instance=instance)
    engine.item_done(actor=owner, item=item_of(instance))
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.PAUSED
    assert instance.current_step.key == "first"
    engine.instance_resume(actor=owner, instance=instance)
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.COMPLETED


def test_cancel_needs_reason_and_leaves_step(owner):
    version = build()
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    with pytest.raises(ValidationError):
        engine.instance_cancel(actor=owner, instance=instance, reason="  ")
    engine.instance_cancel(actor=owner, instance=instance, reason="No interest")
    instance.refresh_from_db()
    assert instance.status == InstanceStatus.CANCELLED
    assert instance.cancel_reason == "No interest"
    assert instance.step_runs.get().status == StepRunStatus.LEFT
    with pytest.raises(ValidationError):
        engine.item_done(
            actor=owner, item=StepRunItem.objects.filter(step_run__instance=instance).first()
        )


def test_role_responsible_assigns_team_member(owner, team):
    from kontor.core.models import Role
    from kontor.core.permissions import RoleCode
    from tests.core.factories import UserFactory

    manager = UserFactory(
        username="boss", role=Role.objects.get(code=RoleCode.SALES_MANAGER), teams=[team]
    )
    version = build()
    Step.objects.filter(version=version, key="first").update(responsible="sales_manager")
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    assert instance.step_runs.get().assignee == manager
    assert Task.objects.get(person=person).owner == manager


def test_organization_process(owner):
    version = build(kind=SubjectKind.ORGANIZATION)
    organization = owned_by(OrganizationFactory, owner)
    instance = engine.instance_start(
        actor=owner, version_or_process=version, organization=organization
    )
    assert instance.organization == organization
    assert Task.objects.get(organization=organization).status == TaskStatus.OPEN


def test_trade_fair_capture_starts_triggered_process(owner):
    build(name="Fair visitor", trigger=TriggerKind.TRADE_FAIR_CAPTURE)
    build(name="Manual one")
    result = capture_record(actor=owner, data=CaptureData(event="Hannover Messe", last_name="Kurz"))
    instance = ProcessInstance.objects.get()
    assert instance.person == result.person
    assert instance.version.process.name == "Fair visitor"
    assert instance.started_via == "trade_fair_capture"


@pytest.fixture
def process_events(monkeypatch):
    """The process events emitted (kontor.core.hooks), as (event, status, step key)."""
    from kontor.core import hooks

    seen = []
    for hook in (hooks.process_started, hooks.process_step_entered, hooks.process_ended):

        def record(*, instance, step_run=None, _event=hook.name, **_kwargs):
            key = step_run.step.key if step_run else None
            seen.append((_event, instance.status, key))

        monkeypatch.setattr(hook, "listeners", [*hook.listeners, record])
    return seen


def test_the_engine_announces_start_steps_and_end(owner, process_events):
    version = build()
    person = owned_by(PersonFactory, owner)
    engine.instance_start(actor=owner, version_or_process=version, person=person)
    task_done(actor=owner, task=Task.objects.get(person=person))
    assert process_events == [
        ("process_started", InstanceStatus.RUNNING, None),
        ("process_step_entered", InstanceStatus.RUNNING, "first"),
        ("process_step_entered", InstanceStatus.RUNNING, "done"),
        ("process_ended", InstanceStatus.COMPLETED, None),
    ]


def test_a_cancelled_process_is_announced_as_ended(owner, process_events):
    version = build()
    person = owned_by(PersonFactory, owner)
    instance = engine.instance_start(actor=owner, version_or_process=version, person=person)
    engine.instance_cancel(actor=owner, instance=instance, reason="Kein Bedarf")
    assert process_events[-1] == ("process_ended", InstanceStatus.CANCELLED, None)

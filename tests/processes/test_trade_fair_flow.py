"""The shipped trade-fair scene end to end through the services: a visitor captured
at the fair starts the process by itself, the rep's tasks appear on My day with
business-day deadlines, working them moves the process on, and the first order
completes it with the goal reached."""

import pytest
from django.utils import timezone

from kontor.activities.models import Task, TaskStatus
from kontor.activities.queries.tasks import my_day
from kontor.activities.services import tasks
from kontor.activities.services.capture import CaptureData, capture_record
from kontor.processes.business_days import add_business_days
from kontor.processes.models import (
    ActivityType,
    InstanceStatus,
    ProcessInstance,
    StepRunItem,
    StepRunStatus,
)
from kontor.processes.scenes import scenes_install
from kontor.processes.services import instances

pytestmark = pytest.mark.django_db


def _tick_off_by_hand(actor, instance):
    """Mark the current step's required items that are not tasks as done."""
    run = instance.step_runs.get(status=StepRunStatus.ACTIVE)
    for item in StepRunItem.objects.filter(step_run=run, done_at__isnull=True).select_related(
        "activity"
    ):
        if item.activity.required and item.activity.kind != ActivityType.TASK:
            instance = instances.item_done(actor=actor, item=item)
    return ProcessInstance.objects.get(pk=instance.pk)


def _current(instance) -> str:
    return (
        ProcessInstance.objects.select_related("current_step").get(pk=instance.pk).current_step.key
    )


def test_a_captured_visitor_runs_through_the_trade_fair_scene(owner):
    scenes_install(language="de")

    visitor = CaptureData(
        event="Hannover Messe",
        first_name="Erika",
        last_name="Muster",
        company="Muster GmbH",
        email="erika@muster.example",
        phone="+49 511 123456",
    )
    result = capture_record(actor=owner, data=visitor)

    (instance,) = ProcessInstance.objects.filter(person=result.person)
    assert (instance.status, instance.started_via) == (InstanceStatus.RUNNING, "trade_fair_capture")
    assert _current(instance) == "captured"

    instance = _tick_off_by_hand(owner, instance)  # the talk notes
    assert _current(instance) == "thanks"
    instance = _tick_off_by_hand(owner, instance)  # the thank-you e-mail
    assert _current(instance) == "call"

    # The call is a task for the rep, due in 3 business days, on My day's list.
    run = instance.step_runs.get(status=StepRunStatus.ACTIVE)
    call = Task.objects.get(pk=run.items.get(task__isnull=False).task_id)
    assert call.owner == owner
    assert call.due_date == add_business_days(timezone.localdate(), 3)
    assert call in my_day(user=owner, today=call.due_date).due_today

    tasks.task_done(actor=owner, task=call)  # worked from My day: the process moves on
    assert _current(instance) == "offer"
    for _step in ("offer", "follow_up"):
        run = ProcessInstance.objects.get(pk=instance.pk).step_runs.get(status=StepRunStatus.ACTIVE)
        for item in run.items.filter(task__isnull=False, activity__required=True):
            tasks.task_done(actor=owner, task=item.task)
    assert _current(instance) == "order"

    instance = ProcessInstance.objects.get(pk=instance.pk)
    won = instance.current_step.outgoing.get(target__key="won")
    instances.step_choose(actor=owner, instance=instance, transition=won)

    instance.refresh_from_db()
    assert (instance.status, instance.goal_reached) == (InstanceStatus.COMPLETED, True)
    assert (
        Task.objects.filter(status=TaskStatus.OPEN, person=result.person)
        .exclude(pk=result.task.pk)
        .count()
        == 0
    )

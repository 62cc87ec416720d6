"""The process engine's reactions to events of the activities app (kontor.core.hooks):

- ``task_done``: the task of a step item is done → the item is done (and the
  instance moves on when that finishes the step).
- ``task_reopened``: the item is undone again, while its step is still active.
- ``trade_fair_captured``: every published process with the trade-fair trigger
  starts on the captured person (or organization, as the process runs on).

The handlers run inside the caller's transaction and act as Kontor itself
(``actor=None`` for the checks; the user is recorded as who did it where there is
one): completing one's own task must not fail because of a process."""

from django.db import transaction

from kontor.core import hooks
from kontor.processes.models import InstanceStatus, StepRunItem, StepRunStatus, TriggerKind
from kontor.processes.services import instances as engine


def _open_items(task):
    return StepRunItem.objects.filter(
        task=task,
        step_run__status=StepRunStatus.ACTIVE,
        step_run__instance__status__in=(InstanceStatus.RUNNING, InstanceStatus.PAUSED),
    ).select_related("step_run__instance")


def on_task_done(*, task, actor, **_kwargs) -> None:
    for item in _open_items(task).filter(done_at__isnull=True):
        with transaction.atomic():
            engine.item_done(actor=None, item=item, via="task")
            # Who did it: the user who finished the task.
            StepRunItem.objects.filter(pk=item.pk).update(done_by=actor)


def on_task_reopened(*, task, actor, **_kwargs) -> None:
    for item in _open_items(task).filter(done_at__isnull=False):
        engine.item_undone(actor=None, item=item, via="task")


def on_trade_fair_captured(*, result, actor, **_kwargs) -> None:
    engine.start_triggered(
        trigger=TriggerKind.TRADE_FAIR_CAPTURE,
        actor=actor,
        person=result.person,
        organization=result.organization,
        via="ui",
    )


def register() -> None:
    hooks.register("task_done", on_task_done)
    hooks.register("task_reopened", on_task_reopened)
    hooks.register("trade_fair_captured", on_trade_fair_captured)

"""Every reaction of the processes app to an event of another app (kontor.core.hooks
lists the events, who emits them and who listens). ``register()`` below, called in
``ProcessesConfig.ready()``, is the one place they are wired:

- ``task_done``: the task of a step item is done → the item is done (and the
  instance moves on when that finishes the step).
- ``task_reopened``: the item is undone again, while its step is still active.
- ``trade_fair_captured``: every published process with the trade-fair trigger
  starts on the captured person (or organization, as the process runs on).
- ``lead_created`` / ``case_opened`` / ``opportunity_lost``: the published processes
  with that trigger (and a matching ``trigger_config``) start on the record
  (kontor.processes.triggers.start_for_event).
- ``mail_queued`` / ``appointment_created`` with ``context={"process_item": id}``
  (the compose page and the new-appointment page opened from an instance's item):
  the e-mail / appointment is linked to that item of the active step, which is then
  done. Only an open item of the matching kind on the same customer is touched.

The handlers run inside the caller's transaction and act as Kontor itself
(``actor=None`` for the checks; the user is recorded as who did it where there is
one): completing one's own task must not fail because of a process."""

from django.db import transaction

from kontor.core import hooks
from kontor.processes.models import (
    ActivityType,
    InstanceStatus,
    StepRunItem,
    StepRunStatus,
    TriggerKind,
)
from kontor.processes.services import instances as use_cases
from kontor.processes.triggers import start_for_event


def _open_items(task):
    return StepRunItem.objects.filter(
        task=task,
        step_run__status=StepRunStatus.ACTIVE,
        step_run__instance__status__in=(InstanceStatus.RUNNING, InstanceStatus.PAUSED),
    ).select_related("step_run__instance")


def on_task_done(*, task, actor, **_kwargs) -> None:
    for item in _open_items(task).filter(done_at__isnull=True):
        with transaction.atomic():
            use_cases.item_done(actor=None, item=item, via="task")
            # Who did it: the user who finished the task.
            StepRunItem.objects.filter(pk=item.pk).update(done_by=actor)


def on_task_reopened(*, task, actor, **_kwargs) -> None:
    for item in _open_items(task).filter(done_at__isnull=False):
        use_cases.item_undone(actor=None, item=item, via="task")


def on_trade_fair_captured(*, result, actor, **_kwargs) -> None:
    use_cases.start_triggered(
        trigger=TriggerKind.TRADE_FAIR_CAPTURE,
        actor=actor,
        person=result.person,
        organization=result.organization,
        via="ui",
    )


def _item_for(context, kind: str, **subject):
    """The open item of ``kind`` named by ``context["process_item"]`` on the
    customer (``person_id=…`` or ``organization_id=…``), or None."""
    try:
        pk = int((context or {}).get("process_item"))
    except (TypeError, ValueError):
        return None
    return (
        StepRunItem.objects.filter(
            pk=pk,
            activity__kind=kind,
            step_run__status=StepRunStatus.ACTIVE,
            step_run__instance__status__in=(InstanceStatus.RUNNING, InstanceStatus.PAUSED),
            **{f"step_run__instance__{name}": value for name, value in subject.items()},
        )
        .select_related("step_run__instance")
        .first()
    )


def on_mail_queued(*, message, actor, context, **_kwargs) -> None:
    person_id = message.activity.person_id if message.activity_id else None
    item = _item_for(context, ActivityType.EMAIL, person_id=person_id) if person_id else None
    if item is not None:
        use_cases.item_link(item=item, done_by=actor, mail=message, via="mail")


def on_appointment_created(*, appointment, actor, context, **_kwargs) -> None:
    item = None
    if appointment.person_id:
        item = _item_for(context, ActivityType.APPOINTMENT, person_id=appointment.person_id)
    if item is None and appointment.organization_id:
        item = _item_for(
            context,
            ActivityType.APPOINTMENT,
            person_id=None,
            organization_id=appointment.organization_id,
        )
    if item is not None:
        use_cases.item_link(item=item, done_by=actor, appointment=appointment, via="appointment")


def on_lead_created(*, record, source=None, actor=None, **_kwargs) -> None:
    start_for_event(
        trigger=TriggerKind.LEAD_CREATED,
        record=record,
        actor=actor,
        config_key="source",
        value=source,
    )


def on_case_opened(*, record, case_kind=None, actor=None, **_kwargs) -> None:
    start_for_event(
        trigger=TriggerKind.CASE_OPENED,
        record=record,
        actor=actor,
        config_key="case_kind",
        value=case_kind,
    )


def on_opportunity_lost(*, record, actor=None, **_kwargs) -> None:
    start_for_event(trigger=TriggerKind.OPPORTUNITY_LOST, record=record, actor=actor)


def register() -> None:
    """Who listens to what, in one place (and in the table of kontor.core.hooks)."""
    hooks.task_done.listen(on_task_done)
    hooks.task_reopened.listen(on_task_reopened)
    hooks.trade_fair_captured.listen(on_trade_fair_captured)
    hooks.mail_queued.listen(on_mail_queued)
    hooks.appointment_created.listen(on_appointment_created)
    hooks.lead_created.listen(on_lead_created)
    hooks.case_opened.listen(on_case_opened)
    hooks.opportunity_lost.listen(on_opportunity_lost)

"""The process engine: how an instance moves. Entering a step writes a StepRun
(due at the end of its deadline in business days, assigned per the step's
``responsible``) and one StepRunItem per step activity; a task activity becomes a
real task for the assignee, linked to the customer. An e-mail activity set to send
goes out at once from the assignee (kontor.mail's ``mail_send``, linked to the item,
which is then done); one that cannot go out (no address, no template) stays open and
the reason is in the history note and on the instance page. A field item is done at
once when its field is filled already. ``advance`` walks on from the active step as
far as the work done allows (by the only way, or by a condition; where the user must
choose, it stops). The tasks and the history notes are written by Kontor itself
(``actor=None``): the process creates them, whoever moved it on.

Concurrency: every use case (kontor.processes.services.instances) locks the
instance row here (``instance_locked`` / ``item_locked``, ``select_for_update``) and
bumps ``lock_version`` (``instance_save``); a caller that passes the
``lock_version`` it showed gets ``InstanceConflict`` when someone moved the instance
on in between."""

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.activities.models import ActivityKind, TaskPriority
from kontor.activities.services.activities import activity_create, require_can_log
from kontor.activities.services.tasks import task_create
from kontor.core import audit, hooks
from kontor.core.models import AuditAction
from kontor.customers.models import Organization, Person
from kontor.mail.services.outgoing import mail_send
from kontor.processes.business_days import add_business_days
from kontor.processes.models import (
    ActivityType,
    Grade,
    InstanceStatus,
    ProcessInstance,
    Responsible,
    Step,
    StepRun,
    StepRunItem,
    StepRunStatus,
    Transition,
)
from kontor.processes.services.items import (
    item_field,
    mail_problem,
    mail_sends,
    mail_template,
)

# A chain of steps without required work is walked at once; a cycle of such steps
# must not loop forever.
MAX_STEPS_AT_ONCE = 100
ENDED = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)


class InstanceConflict(ValidationError):
    """Someone else moved the instance on after the caller looked at it."""

    def __init__(self, instance: ProcessInstance):
        super().__init__(
            _("Someone else changed this process in the meantime. Reload the page."),
            code="conflict",
        )
        self.instance = instance


# --- Helpers -----------------------------------------------------------------------------


def subject_of(instance: ProcessInstance) -> Person | Organization:
    return instance.person if instance.person_id else instance.organization


def instance_lock(actor, lock_version: int | None, **lookup) -> ProcessInstance:
    """The current row of the instance matching ``lookup``, locked; checked that the
    actor may work on it. One query: the visibility check is part of the locking
    one (an instance the actor may not see is not found: 404)."""
    require_can_log(actor)
    rows = ProcessInstance.objects if actor is None else ProcessInstance.objects.visible_to(actor)
    current = (
        rows.select_for_update(of=("self",))
        .filter(**lookup)
        .select_related("version__process", "person", "organization", "current_step")
        .order_by()
        .first()
    )
    if current is None:
        raise Http404
    if lock_version is not None and current.lock_version != lock_version:
        raise InstanceConflict(current)
    return current


def instance_locked(
    actor, instance: ProcessInstance, lock_version: int | None = None
) -> ProcessInstance:
    """The instance's current row, locked; checked that the actor may work on it."""
    return instance_lock(actor, lock_version, pk=instance.pk)


def instance_save(instance: ProcessInstance, *, actor, before: dict, via: str) -> None:
    instance.lock_version += 1
    instance.save()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=instance, before=before, via=via)


def history_note(instance: ProcessInstance, subject: str, text: str = "", via: str = "ui") -> None:
    """A note in the customer's history, written by Kontor itself."""
    activity_create(
        actor=None,
        kind=ActivityKind.NOTE,
        subject=subject[:200],
        text=text,
        person=instance.person,
        organization=instance.organization,
        via=via,
    )


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _today() -> dt.date:
    return timezone.now().astimezone(_zone()).date()


def due_date_for(step: Step, today: dt.date | None = None) -> dt.date | None:
    if step.deadline_days is None:
        return None
    return add_business_days(today or _today(), step.deadline_days)


def _assignee(step: Step, subject, actor):
    """Who works the step: the record's owner for ``record_owner``; for a role the
    first active user with it in the record's team (else the owner's first team);
    else the owner, else the actor."""
    owner = subject.owner if subject.owner_id and subject.owner.is_active else None
    if step.responsible not in (
        Responsible.RECORD_OWNER,
        Responsible.CUSTOMER,
        Responsible.SYSTEM,
        "",
    ):
        team_id = subject.team_id or (
            owner.primary_team.pk if owner and owner.primary_team else None
        )
        if team_id is not None:
            found = (
                get_user_model()
                .objects.filter(is_active=True, role__code=step.responsible, teams=team_id)
                .order_by("id")
                .first()
            )
            if found is not None:
                return found
    return owner or actor


def _task_priority(config: Any) -> str:
    value = config.get("priority") if isinstance(config, dict) else None
    return value if value in TaskPriority.values else TaskPriority.NORMAL


def _send_mail(instance: ProcessInstance, activity, sender, *, via: str):
    """Send the item's e-mail from ``sender``: (the message, "") or (None, why not)."""
    problem = mail_problem(instance, activity.config, sender=sender)
    if problem:
        return None, problem
    template = mail_template(activity.config)
    try:
        message = mail_send(
            actor=sender,
            person=instance.person,
            subject=template.subject,
            body=template.body,
            template=template,
            via=via,
        )
    except (ValidationError, PermissionDenied, Http404) as exc:
        # mail_send rolled its own savepoint back; the step goes on without it.
        detail = "; ".join(getattr(exc, "messages", None) or [str(exc)]) or _("not allowed")
        return None, _("The e-mail could not be sent: %(reason)s") % {"reason": detail}
    return message, ""


def step_enter(instance: ProcessInstance, step: Step, *, actor, via: str) -> tuple[StepRun, bool]:
    """Enter ``step``: its StepRun and items (and their tasks, e-mails), a history
    note. Returns the run and whether its required items are all done already (an
    e-mail sent, a field filled), so that the caller need not read them again."""
    subject = subject_of(instance)
    now = timezone.now()
    due_day = due_date_for(step)
    assignee = _assignee(step, subject, actor)
    run = StepRun.objects.create(
        instance=instance,
        step=step,
        status=StepRunStatus.ACTIVE,
        entered_at=now,
        due_at=(
            dt.datetime.combine(due_day, dt.time(23, 59, 59), tzinfo=_zone()) if due_day else None
        ),
        assignee=assignee,
    )
    process = instance.version.process
    problems = []
    items = []
    # Out-of-scope requirements (Abgrenzung) are documented, not worked in Kontor.
    for activity in step.activities.exclude(grade=Grade.OUT_OF_SCOPE).order_by("position", "id"):
        task = mail = done_at = None
        if activity.kind == ActivityType.EMAIL and mail_sends(activity.config):
            mail, problem = _send_mail(instance, activity, assignee, via=via)
            if mail is not None:
                done_at = timezone.now()
            else:
                problems.append(
                    _("E-mail “%(title)s” not sent: %(reason)s")
                    % {"title": activity.title, "reason": problem}
                )
        elif activity.kind == ActivityType.FIELD:
            spec = item_field(instance, activity)
            if spec is not None and spec.filled:
                done_at = now
        elif activity.kind == ActivityType.TASK and assignee is not None and assignee.is_active:
            task = task_create(
                actor=None,
                title=f"{process.name}: {activity.title}"[:200],
                description=activity.description,
                due_date=due_day or _today(),
                priority=_task_priority(activity.config),
                assignee=assignee,
                person=instance.person,
                organization=instance.organization,
                via=via,
            )
        items.append(
            StepRunItem(step_run=run, activity=activity, task=task, mail=mail, done_at=done_at)
        )
    StepRunItem.objects.bulk_create(items)
    instance.current_step = step
    history_note(
        instance,
        _("Process %(process)s: %(step)s reached") % {"process": process.name, "step": step.name},
        text="\n".join(problems),
        via=via,
    )
    hooks.process_step_entered.emit(instance=instance, step_run=run)
    return run, required_done(items)


def _value(instance: ProcessInstance, path: str) -> Any:
    """The value of ``person.<attr>``, ``organization.<attr>`` or ``custom.<key>`` on
    the instance's customer (None when there is no such thing)."""
    head, _sep, name = (path or "").partition(".")
    if not name or name.startswith("_"):
        return None
    if head == "person":
        record = instance.person
    elif head == "organization":
        record = instance.organization or (
            instance.person.organization if instance.person_id else None
        )
    elif head == "custom":
        custom = getattr(subject_of(instance), "custom", None) or {}
        return custom.get(name) if isinstance(custom, dict) else None
    else:
        return None
    if record is None:
        return None
    value = getattr(record, name, None)
    if hasattr(value, "pk") and not isinstance(value, (str, int, float, bool)):
        return getattr(value, "uuid", value.pk)
    return value


def matches(instance: ProcessInstance, condition: Any) -> bool:
    """Whether a transition's condition holds: {"field": …, "equals": …}."""
    if not isinstance(condition, dict) or "field" not in condition:
        return False
    actual = _value(instance, condition.get("field"))
    expected = condition.get("equals")
    if actual == expected:
        return True
    return actual is not None and expected is not None and str(actual) == str(expected)


def run_complete(run: StepRun, *, actor) -> None:
    run.status = StepRunStatus.DONE
    run.finished_at = timezone.now()
    run.finished_by = actor
    run.save(update_fields=["status", "finished_at", "finished_by"])


def _finish(instance: ProcessInstance, step: Step, *, via: str) -> None:
    instance.status = InstanceStatus.COMPLETED
    instance.goal_reached = step.goal_reached
    instance.ended_at = timezone.now()
    history_note(
        instance,
        (
            _("Process %(process)s completed: goal reached")
            if step.goal_reached
            else _("Process %(process)s completed")
        )
        % {"process": instance.version.process.name},
        via=via,
    )
    hooks.process_ended.emit(instance=instance)


def active_run(instance: ProcessInstance) -> StepRun | None:
    return instance.step_runs.filter(status=StepRunStatus.ACTIVE).select_related("step").first()


def step_complete(run: StepRun) -> bool:
    return not run.items.filter(activity__required=True, done_at__isnull=True).exists()


def required_done(items) -> bool:
    """``step_complete`` of a run whose items (with their activities) are at hand."""
    return not any(item.activity.required and item.done_at is None for item in items)


def choices_for(
    instance: ProcessInstance, run: StepRun | None, items: list[StepRunItem] | None = None
) -> list[Transition]:
    """The ways on the user must choose between: the step's work is done, it has
    several outgoing transitions and no single condition decides. Empty otherwise.
    ``items``: the run's items with their activities, when the caller read them."""
    if run is None or instance.status != InstanceStatus.RUNNING:
        return []
    if not (required_done(items) if items is not None else step_complete(run)):
        return []
    outgoing = list(run.step.outgoing.select_related("target").order_by("position", "id"))
    if len(outgoing) < 2:
        return []
    if len([t for t in outgoing if t.condition and matches(instance, t.condition)]) == 1:
        return []
    return outgoing


def advance(
    instance: ProcessInstance,
    *,
    actor,
    via: str,
    run: StepRun | None = None,
    complete: bool | None = None,
) -> None:
    """Walk on from the active step as far as the work done allows. ``run``: the
    active step run (with its step) when the caller has it at hand; ``complete``:
    whether its required items are all done, when the caller knows (else read)."""
    for _i in range(MAX_STEPS_AT_ONCE):
        if instance.status != InstanceStatus.RUNNING:
            return
        if run is None:
            run, complete = active_run(instance), None
        if run is None:
            return
        if complete is None:
            complete = step_complete(run)
        if not complete:
            return
        outgoing = list(run.step.outgoing.select_related("target").order_by("position", "id"))
        if not outgoing:
            run_complete(run, actor=actor)
            _finish(instance, run.step, via=via)
            return
        if len(outgoing) == 1:
            target = outgoing[0].target
        else:
            matched = [t for t in outgoing if t.condition and matches(instance, t.condition)]
            if len(matched) != 1:
                return  # the user chooses (step_choose)
            target = matched[0].target
        run_complete(run, actor=actor)
        run, complete = step_enter(instance, target, actor=actor, via=via)


def item_locked(actor, item: StepRunItem, lock_version: int | None):
    """The item's instance, locked (as ``_locked``), then the item as it is now, and
    all items of its step run (with their activities; the item among them). The
    item's run carries its step and the locked instance."""
    # An item stays in its step run and a run in its instance, so the lock looks the
    # instance up by primary key (joined through the runs and items instead, the
    # query took PostgreSQL's planner 3 ms longer). Callers that read the item with
    # its run (``only("step_run__instance_id")``) save the query for the run here.
    instance = instance_lock(actor, lock_version, pk=item.step_run.instance_id)
    items = list(
        StepRunItem.objects.filter(step_run__items=item.pk)
        .select_related("step_run__step", "activity")
        .order_by()
    )
    current = next((row for row in items if row.pk == item.pk), None)
    if current is None:
        raise Http404
    current.step_run.instance = instance
    return instance, current, items


def check_step_open(instance: ProcessInstance, item: StepRunItem) -> None:
    if instance.status in ENDED:
        raise ValidationError(_("This process has ended."), code="ended")
    if item.step_run.status != StepRunStatus.ACTIVE:
        raise ValidationError(
            _("This step is already finished: someone else completed it."), code="step_finished"
        )

"""Running processes on customers: start an instance, do a step's items, move on to
the next step (by the only way, by a condition, or by the user's choice), pause,
resume, cancel. The instance page, the API and the hooks (a task done, a trade-fair
capture) call these same functions.

Who may: ``activities.edit``, on customers the actor may see (404 otherwise).
``actor=None`` is Kontor itself (a trigger): no checks.

Entering a step writes a StepRun (due at the end of its deadline in business days,
assigned per the step's ``responsible``) and one StepRunItem per step activity; a
task activity becomes a real task for the assignee, linked to the customer. An
e-mail activity set to send goes out at once from the assignee (kontor.mail's
``mail_send``, linked to the item, which is then done); one that cannot go out
(no address, no template) stays open and the reason is in the history note and on
the instance page. A draft e-mail or an appointment is done when the user writes it
from the item (the ``mail_queued`` / ``appointment_created`` hooks, see
kontor.processes.engine_hooks, call ``item_link``). A field item is done when its
field is filled: at once when it already is, else through ``item_fill``. The
tasks and the history notes are written by Kontor itself (``actor=None``): the
process creates them, whoever moved it on.

Concurrency: every write locks the instance row (``select_for_update``) and bumps
``lock_version``; a caller that passes the ``lock_version`` it showed gets
``InstanceConflict`` when someone moved the instance on in between, and doing an
item of a step that is already finished is refused — two browsers completing the
same step advance it once."""

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.activities.models import ActivityKind, TaskPriority
from kontor.activities.services.activities import activity_create, require_can_log, require_visible
from kontor.activities.services.tasks import task_create
from kontor.core import audit, hooks
from kontor.core.models import AuditAction
from kontor.customers import services as customers
from kontor.customers.models import Organization, Person
from kontor.mail.services.outgoing import mail_send
from kontor.processes.business_days import add_business_days
from kontor.processes.models import (
    ActivityType,
    Grade,
    InstanceStatus,
    Process,
    ProcessInstance,
    ProcessVersion,
    Responsible,
    Step,
    StepRun,
    StepRunItem,
    StepRunStatus,
    SubjectKind,
    Transition,
    VersionStatus,
)
from kontor.processes.services.items import (
    FieldSpec,
    field_spec,
    item_field,
    mail_problem,
    mail_sends,
    mail_template,
)

__all__ = [
    "InstanceConflict",
    "field_fill",
    "instance_cancel",
    "instance_pause",
    "instance_resume",
    "instance_start",
    "item_done",
    "item_fill",
    "item_link",
    "item_undone",
    "matches",
    "step_choose",
]

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


def _lock(actor, lock_version: int | None, **lookup) -> ProcessInstance:
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


def _locked(actor, instance: ProcessInstance, lock_version: int | None = None) -> ProcessInstance:
    """The instance's current row, locked; checked that the actor may work on it."""
    return _lock(actor, lock_version, pk=instance.pk)


def _save(instance: ProcessInstance, *, actor, before: dict, via: str) -> None:
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


def _enter(instance: ProcessInstance, step: Step, *, actor, via: str) -> tuple[StepRun, bool]:
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
    hooks.emit("process_step_entered", instance=instance, step_run=run)
    return run, _required_done(items)


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


def _complete_run(run: StepRun, *, actor) -> None:
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
    hooks.emit("process_ended", instance=instance)


def active_run(instance: ProcessInstance) -> StepRun | None:
    return instance.step_runs.filter(status=StepRunStatus.ACTIVE).select_related("step").first()


def _step_complete(run: StepRun) -> bool:
    return not run.items.filter(activity__required=True, done_at__isnull=True).exists()


def _required_done(items) -> bool:
    """``_step_complete`` of a run whose items (with their activities) are at hand."""
    return not any(item.activity.required and item.done_at is None for item in items)


def choices_for(
    instance: ProcessInstance, run: StepRun | None, items: list[StepRunItem] | None = None
) -> list[Transition]:
    """The ways on the user must choose between: the step's work is done, it has
    several outgoing transitions and no single condition decides. Empty otherwise.
    ``items``: the run's items with their activities, when the caller read them."""
    if run is None or instance.status != InstanceStatus.RUNNING:
        return []
    if not (_required_done(items) if items is not None else _step_complete(run)):
        return []
    outgoing = list(run.step.outgoing.select_related("target").order_by("position", "id"))
    if len(outgoing) < 2:
        return []
    if len([t for t in outgoing if t.condition and matches(instance, t.condition)]) == 1:
        return []
    return outgoing


def _advance(
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
            complete = _step_complete(run)
        if not complete:
            return
        outgoing = list(run.step.outgoing.select_related("target").order_by("position", "id"))
        if not outgoing:
            _complete_run(run, actor=actor)
            _finish(instance, run.step, via=via)
            return
        if len(outgoing) == 1:
            target = outgoing[0].target
        else:
            matched = [t for t in outgoing if t.condition and matches(instance, t.condition)]
            if len(matched) != 1:
                return  # the user chooses (step_choose)
            target = matched[0].target
        _complete_run(run, actor=actor)
        run, complete = _enter(instance, target, actor=actor, via=via)


def _version_for(version_or_process: ProcessVersion | Process) -> ProcessVersion:
    if isinstance(version_or_process, Process):
        version = (
            version_or_process.versions.filter(status=VersionStatus.PUBLISHED)
            .select_related("process")
            .first()
        )
    else:
        version = version_or_process
    if version is None or version.status != VersionStatus.PUBLISHED:
        raise ValidationError(
            {"process": [_("Only a published process can be started.")]}, code="not_published"
        )
    if version.process.archived:
        raise ValidationError({"process": [_("This process is archived.")]}, code="archived")
    return version


# --- Writes ------------------------------------------------------------------------------


@transaction.atomic
def instance_start(
    *,
    actor,
    version_or_process: ProcessVersion | Process,
    person: Person | None = None,
    organization: Organization | None = None,
    via: str = "ui",
    started_via: str = "manual",
) -> ProcessInstance:
    """Start the published version on the customer (a person or an organization,
    as the process runs on), entering its first step. Refused while the same process
    is already running or paused on that customer."""
    require_can_log(actor)
    version = _version_for(version_or_process)
    kind = version.process.subject_kind
    if kind == SubjectKind.PERSON:
        if person is None:
            raise ValidationError({"person": [_("This process runs on a person.")]})
        organization = None
        subject = person
    else:
        if organization is None:
            raise ValidationError({"organization": [_("This process runs on an organization.")]})
        person = None
        subject = organization
    require_visible(actor, subject)
    # Serialise starts on the same customer.
    type(subject).objects.select_for_update().filter(pk=subject.pk).first()
    running = ProcessInstance.objects.filter(
        version__process=version.process,
        status__in=(InstanceStatus.RUNNING, InstanceStatus.PAUSED),
        person=person,
        organization=organization,
    )
    if running.exists():
        raise ValidationError(
            {"process": [_("This process is already running on this customer.")]},
            code="already_running",
        )
    first = version.steps.order_by("position", "id").first()
    if first is None:
        raise ValidationError({"process": [_("The process has no steps.")]})
    instance = ProcessInstance.objects.create(
        version=version,
        person=person,
        organization=organization,
        status=InstanceStatus.RUNNING,
        started_by=actor,
        started_via=started_via[:30],
    )
    audit.record(actor=actor, action=AuditAction.CREATE, instance=instance, via=via)
    before = audit.snapshot(instance)
    hooks.emit("process_started", instance=instance)
    run, complete = _enter(instance, first, actor=actor, via=via)
    _advance(instance, actor=actor, via=via, run=run, complete=complete)
    instance.save()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=instance, before=before, via=via)
    return instance


def _item_locked(actor, item: StepRunItem, lock_version: int | None):
    """The item's instance, locked (as ``_locked``), then the item as it is now, and
    all items of its step run (with their activities; the item among them). The
    item's run carries its step and the locked instance."""
    # An item stays in its step run and a run in its instance, so the lock looks the
    # instance up by primary key (joined through the runs and items instead, the
    # query took PostgreSQL's planner 3 ms longer). Callers that read the item with
    # its run (``only("step_run__instance_id")``) save the query for the run here.
    instance = _lock(actor, lock_version, pk=item.step_run.instance_id)
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


def _require_open_step(instance: ProcessInstance, item: StepRunItem) -> None:
    if instance.status in ENDED:
        raise ValidationError(_("This process has ended."), code="ended")
    if item.step_run.status != StepRunStatus.ACTIVE:
        raise ValidationError(
            _("This step is already finished: someone else completed it."), code="step_finished"
        )


@transaction.atomic
def item_done(
    *,
    actor,
    item: StepRunItem,
    lock_version: int | None = None,
    via: str = "ui",
) -> ProcessInstance:
    """Mark a step item done; when the step's required items are all done the
    instance moves on (unless paused: then on resume). Refused when the item is done
    already or its step is finished."""
    instance, item, items = _item_locked(actor, item, lock_version)
    _require_open_step(instance, item)
    if item.done_at is not None:
        raise ValidationError(_("This item is already done."), code="already_done")
    if item.activity.kind == ActivityType.FIELD:
        spec = item_field(instance, item.activity)
        if spec is not None and spec.checkable and not spec.filled:
            raise ValidationError(
                _("Fill in “%(field)s” first.") % {"field": spec.label}, code="field_empty"
            )
    before = audit.snapshot(instance)
    item.done_at = timezone.now()
    item.done_by = actor
    item.save(update_fields=["done_at", "done_by"])
    _advance(instance, actor=actor, via=via, run=item.step_run, complete=_required_done(items))
    _save(instance, actor=actor, before=before, via=via)
    return instance


@transaction.atomic
def item_undone(
    *,
    actor,
    item: StepRunItem,
    lock_version: int | None = None,
    via: str = "ui",
) -> ProcessInstance:
    """Take back the done mark of an item of the active step."""
    instance, item, _items = _item_locked(actor, item, lock_version)
    _require_open_step(instance, item)
    if item.done_at is None:
        return instance
    before = audit.snapshot(instance)
    item.done_at = None
    item.done_by = None
    item.save(update_fields=["done_at", "done_by"])
    _save(instance, actor=actor, before=before, via=via)
    return instance


@transaction.atomic
def item_link(
    *, item: StepRunItem, done_by, mail=None, appointment=None, via: str = "ui"
) -> ProcessInstance | None:
    """Link the e-mail or appointment written for an item of the active step and mark
    the item done (the instance moves on when that finishes the step). Done by
    Kontor for ``done_by`` (a hook: the user already passed the mail or appointment
    checks). An item of a finished step, or one linked already, is left alone (None)."""
    instance, item, items = _item_locked(None, item, None)
    if instance.status in ENDED or item.step_run.status != StepRunStatus.ACTIVE:
        return None
    if (mail is not None and item.mail_id) or (appointment is not None and item.appointment_id):
        return None
    before = audit.snapshot(instance)
    fields = []
    if mail is not None:
        item.mail = mail
        fields.append("mail")
    if appointment is not None:
        item.appointment = appointment
        fields.append("appointment")
    if item.done_at is None:
        item.done_at = timezone.now()
        item.done_by = done_by
        fields += ["done_at", "done_by"]
    item.save(update_fields=fields)
    _advance(instance, actor=done_by, via=via, run=item.step_run, complete=_required_done(items))
    _save(instance, actor=done_by, before=before, via=via)
    return instance


def _field_error(exc: ValidationError) -> ValidationError:
    """The customer service's errors (keyed by attribute or ``custom.<key>``) as
    errors of the one value filled in."""
    if hasattr(exc, "error_dict"):
        messages = [m for values in exc.message_dict.values() for m in values]
    else:
        messages = exc.messages
    return ValidationError({"value": messages})


def _write_field(actor, instance: ProcessInstance, spec: FieldSpec, value: Any, via: str):
    """Write ``value`` (raw: a form's text or JSON) into the customer through the
    customers services, checked there like every edit; a note goes into the history."""
    if spec is None or not spec.fillable:
        raise ValidationError(
            {"value": [_("This field cannot be filled in here.")]}, code="not_fillable"
        )
    if (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    ):
        raise ValidationError({"value": [_("Enter a value.")]}, code="required")
    if spec.note:
        if not isinstance(value, str):
            raise ValidationError({"value": [_("Enter text.")]})
        text = value.strip()
        if len(text) > 10_000 or "\x00" in text:
            raise ValidationError({"value": [_("Enter at most 10,000 characters of text.")]})
        activity_create(
            actor=actor,
            kind=ActivityKind.NOTE,
            subject=text.splitlines()[0][:200],
            text=text,
            person=instance.person,
            organization=instance.organization,
            via=via,
        )
        return
    if spec.custom is not None:
        data = {"custom": {spec.custom.key: value}}
    else:
        try:
            data = {spec.attr: spec.formfield().clean(value)}
        except (TypeError, ValueError) as exc:
            raise ValidationError({"value": [_("Enter a valid value.")]}) from exc
        except ValidationError as exc:
            raise _field_error(exc) from exc
    try:
        if isinstance(spec.record, Person):
            customers.person_update(person=spec.record, actor=actor, data=data, via=via)
        else:
            customers.organization_update(organization=spec.record, actor=actor, data=data, via=via)
    except ValidationError as exc:
        raise _field_error(exc) from exc


def _fill(actor, instance, run: StepRun, spec: FieldSpec, value, via: str) -> None:
    """Write the field, then every open field item of the step asking for it is done."""
    _write_field(actor, instance, spec, value, via)
    if spec.record is not None:
        # The instance holds this record: conditions on the way on read the new value.
        spec.record.refresh_from_db()
    for item in run.items.filter(
        done_at__isnull=True, activity__kind=ActivityType.FIELD
    ).select_related("activity"):
        config = item.activity.config
        if isinstance(config, dict) and config.get("field") == spec.path:
            item.done_at = timezone.now()
            item.done_by = actor
            item.save(update_fields=["done_at", "done_by"])


@transaction.atomic
def item_fill(
    *,
    actor,
    item: StepRunItem,
    value: Any,
    lock_version: int | None = None,
    via: str = "ui",
) -> ProcessInstance:
    """Fill in the field a field item of the active step asks for (written to the
    customer like any edit: customers.edit, the same checks) and mark it done; the
    instance moves on when that finishes the step. Errors are keyed ``value``;
    nothing is written when a check fails."""
    instance, item, _items = _item_locked(actor, item, lock_version)
    _require_open_step(instance, item)
    if item.activity.kind != ActivityType.FIELD:
        raise ValidationError({"value": [_("This item does not ask for a field.")]})
    if item.done_at is not None:
        raise ValidationError(_("This item is already done."), code="already_done")
    before = audit.snapshot(instance)
    _fill(actor, instance, item.step_run, item_field(instance, item.activity), value, via)
    # _fill may have done other items of the run too: they are read again.
    _advance(instance, actor=actor, via=via, run=item.step_run)
    _save(instance, actor=actor, before=before, via=via)
    return instance


@transaction.atomic
def field_fill(
    *,
    actor,
    instance: ProcessInstance,
    field: str,
    value: Any,
    lock_version: int | None = None,
    via: str = "ui",
) -> ProcessInstance:
    """Fill in one of the fields the active step needs (its ``required_fields`` or a
    field item's field), as ``item_fill`` does."""
    instance = _locked(actor, instance, lock_version)
    if instance.status in ENDED:
        raise ValidationError(_("This process has ended."), code="ended")
    run = active_run(instance)
    asked = run is not None and (
        field in (run.step.required_fields or [])
        or any(
            a.config.get("field") == field
            for a in run.step.activities.filter(kind=ActivityType.FIELD)
            if isinstance(a.config, dict)
        )
    )
    if not asked:
        raise ValidationError({"value": [_("The current step does not ask for this field.")]})
    before = audit.snapshot(instance)
    _fill(actor, instance, run, field_spec(instance, field), value, via)
    _advance(instance, actor=actor, via=via, run=run)
    _save(instance, actor=actor, before=before, via=via)
    return instance


@transaction.atomic
def step_choose(
    *,
    actor,
    instance: ProcessInstance,
    transition: Transition,
    lock_version: int | None = None,
    via: str = "ui",
) -> ProcessInstance:
    """Take ``transition`` out of the active step (a branch the user decides)."""
    instance = _locked(actor, instance, lock_version)
    if instance.status != InstanceStatus.RUNNING:
        raise ValidationError(_("Only a running process can move on."), code="not_running")
    run = active_run(instance)
    if run is None or transition.source_id != run.step_id:
        raise ValidationError(
            {"transition": [_("This way does not lead out of the current step.")]},
            code="wrong_transition",
        )
    if not _step_complete(run):
        raise ValidationError(
            {"transition": [_("Finish the step's required items first.")]}, code="step_open"
        )
    before = audit.snapshot(instance)
    _complete_run(run, actor=actor)
    run, complete = _enter(instance, transition.target, actor=actor, via=via)
    _advance(instance, actor=actor, via=via, run=run, complete=complete)
    _save(instance, actor=actor, before=before, via=via)
    return instance


@transaction.atomic
def instance_pause(
    *, actor, instance: ProcessInstance, lock_version: int | None = None, via: str = "ui"
) -> ProcessInstance:
    instance = _locked(actor, instance, lock_version)
    if instance.status != InstanceStatus.RUNNING:
        raise ValidationError(_("Only a running process can be paused."), code="not_running")
    before = audit.snapshot(instance)
    instance.status = InstanceStatus.PAUSED
    history_note(
        instance,
        _("Process %(process)s paused") % {"process": instance.version.process.name},
        via=via,
    )
    _save(instance, actor=actor, before=before, via=via)
    return instance


@transaction.atomic
def instance_resume(
    *, actor, instance: ProcessInstance, lock_version: int | None = None, via: str = "ui"
) -> ProcessInstance:
    instance = _locked(actor, instance, lock_version)
    if instance.status != InstanceStatus.PAUSED:
        raise ValidationError(_("Only a paused process can be resumed."), code="not_paused")
    before = audit.snapshot(instance)
    instance.status = InstanceStatus.RUNNING
    history_note(
        instance,
        _("Process %(process)s resumed") % {"process": instance.version.process.name},
        via=via,
    )
    _advance(instance, actor=actor, via=via)
    _save(instance, actor=actor, before=before, via=via)
    return instance


@transaction.atomic
def instance_cancel(
    *,
    actor,
    instance: ProcessInstance,
    reason: str,
    lock_version: int | None = None,
    via: str = "ui",
) -> ProcessInstance:
    """End the instance without reaching its goal; the reason is required. The
    active step is left (its open tasks stay with their assignees)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Give a reason for cancelling.")]})
    if len(reason) > 2000 or "\x00" in reason:
        raise ValidationError({"reason": [_("Enter at most 2,000 characters of text.")]})
    instance = _locked(actor, instance, lock_version)
    if instance.status in ENDED:
        raise ValidationError(_("This process has ended."), code="ended")
    before = audit.snapshot(instance)
    now = timezone.now()
    instance.step_runs.filter(status=StepRunStatus.ACTIVE).update(
        status=StepRunStatus.LEFT, finished_at=now, finished_by=actor
    )
    instance.status = InstanceStatus.CANCELLED
    instance.cancel_reason = reason
    instance.ended_at = now
    history_note(
        instance,
        _("Process %(process)s cancelled") % {"process": instance.version.process.name},
        text=reason,
        via=via,
    )
    hooks.emit("process_ended", instance=instance)
    _save(instance, actor=actor, before=before, via=via)
    return instance


# --- Triggers ----------------------------------------------------------------------------


def start_triggered(
    *, trigger: str, actor, person: Person | None, organization: Organization | None, via: str
) -> list[ProcessInstance]:
    """Start every published, not archived version with ``trigger`` on the person
    or organization (as the process runs on); one already running is skipped."""
    started = []
    versions = ProcessVersion.objects.filter(
        trigger=trigger, status=VersionStatus.PUBLISHED, process__archived=False
    ).select_related("process")
    for version in versions.order_by("process__name", "process_id"):
        kind = version.process.subject_kind
        subject = person if kind == SubjectKind.PERSON else organization
        if subject is None:
            continue
        if ProcessInstance.objects.filter(
            version__process=version.process,
            status__in=(InstanceStatus.RUNNING, InstanceStatus.PAUSED),
            **{kind: subject},
        ).exists():
            continue
        started.append(
            instance_start(
                actor=actor,
                version_or_process=version,
                person=person if kind == SubjectKind.PERSON else None,
                organization=organization if kind == SubjectKind.ORGANIZATION else None,
                via=via,
                started_via=trigger,
            )
        )
    return started

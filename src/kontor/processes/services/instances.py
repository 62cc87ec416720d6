"""Running processes on customers, the use cases: start an instance, do a step's
items, fill in a field, choose the way on, pause, resume, cancel, start the processes
of a trigger. The instance page, the API and the listeners (a task done, a
trade-fair capture; kontor.processes.listeners) call these same functions; how the
instance then moves is the engine's (kontor.processes.services.engine).

Who may: ``activities.edit``, on customers the actor may see (404 otherwise).
``actor=None`` is Kontor itself (a trigger): no checks.

A draft e-mail or an appointment is done when the user writes it from the item (the
``mail_queued`` / ``appointment_created`` listeners call ``item_link``). A field
item is done when its field is filled, through ``item_fill`` (or ``field_fill``).
Doing an item of a step that is already finished is refused — two browsers
completing the same step advance it once."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.activities.models import ActivityKind
from kontor.activities.services.activities import activity_create, require_can_log, require_visible
from kontor.core import audit, hooks
from kontor.core.access import customer_kind
from kontor.core.models import AuditAction
from kontor.customers import services as customers
from kontor.customers.models import Organization, Person
from kontor.processes.models import (
    ActivityType,
    InstanceStatus,
    Process,
    ProcessInstance,
    ProcessVersion,
    StepRun,
    StepRunItem,
    StepRunStatus,
    SubjectKind,
    Transition,
    VersionStatus,
)
from kontor.processes.services.engine import (
    ENDED,
    InstanceConflict,
    active_run,
    advance,
    check_step_open,
    history_note,
    instance_locked,
    instance_save,
    item_locked,
    required_done,
    run_complete,
    step_complete,
    step_enter,
)
from kontor.processes.services.items import (
    FieldSpec,
    field_spec,
    item_field,
)

__all__ = [
    "InstanceConflict",  # raised here, defined with the engine's locking
    "field_fill",
    "instance_cancel",
    "instance_pause",
    "instance_resume",
    "instance_start",
    "item_done",
    "item_fill",
    "item_link",
    "item_undone",
    "step_choose",
]


def _startable_version(version_or_process: ProcessVersion | Process) -> ProcessVersion:
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
    version = _startable_version(version_or_process)
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
    hooks.process_started.emit(instance=instance)
    run, complete = step_enter(instance, first, actor=actor, via=via)
    advance(instance, actor=actor, via=via, run=run, complete=complete)
    instance.save()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=instance, before=before, via=via)
    return instance


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
    instance, item, items = item_locked(actor, item, lock_version)
    check_step_open(instance, item)
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
    advance(instance, actor=actor, via=via, run=item.step_run, complete=required_done(items))
    instance_save(instance, actor=actor, before=before, via=via)
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
    instance, item, _items = item_locked(actor, item, lock_version)
    check_step_open(instance, item)
    if item.done_at is None:
        return instance
    before = audit.snapshot(instance)
    item.done_at = None
    item.done_by = None
    item.save(update_fields=["done_at", "done_by"])
    instance_save(instance, actor=actor, before=before, via=via)
    return instance


@transaction.atomic
def item_link(
    *, item: StepRunItem, done_by, mail=None, appointment=None, via: str = "ui"
) -> ProcessInstance | None:
    """Link the e-mail or appointment written for an item of the active step and mark
    the item done (the instance moves on when that finishes the step). Done by
    Kontor for ``done_by`` (a hook: the user already passed the mail or appointment
    checks). An item of a finished step, or one linked already, is left alone (None)."""
    instance, item, items = item_locked(None, item, None)
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
    advance(instance, actor=done_by, via=via, run=item.step_run, complete=required_done(items))
    instance_save(instance, actor=done_by, before=before, via=via)
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
        if customer_kind(spec.record) == "person":
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
    instance, item, _items = item_locked(actor, item, lock_version)
    check_step_open(instance, item)
    if item.activity.kind != ActivityType.FIELD:
        raise ValidationError({"value": [_("This item does not ask for a field.")]})
    if item.done_at is not None:
        raise ValidationError(_("This item is already done."), code="already_done")
    before = audit.snapshot(instance)
    _fill(actor, instance, item.step_run, item_field(instance, item.activity), value, via)
    # _fill may have done other items of the run too: they are read again.
    advance(instance, actor=actor, via=via, run=item.step_run)
    instance_save(instance, actor=actor, before=before, via=via)
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
    instance = instance_locked(actor, instance, lock_version)
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
    advance(instance, actor=actor, via=via, run=run)
    instance_save(instance, actor=actor, before=before, via=via)
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
    instance = instance_locked(actor, instance, lock_version)
    if instance.status != InstanceStatus.RUNNING:
        raise ValidationError(_("Only a running process can move on."), code="not_running")
    run = active_run(instance)
    if run is None or transition.source_id != run.step_id:
        raise ValidationError(
            {"transition": [_("This way does not lead out of the current step.")]},
            code="wrong_transition",
        )
    if not step_complete(run):
        raise ValidationError(
            {"transition": [_("Finish the step's required items first.")]}, code="step_open"
        )
    before = audit.snapshot(instance)
    run_complete(run, actor=actor)
    run, complete = step_enter(instance, transition.target, actor=actor, via=via)
    advance(instance, actor=actor, via=via, run=run, complete=complete)
    instance_save(instance, actor=actor, before=before, via=via)
    return instance


@transaction.atomic
def instance_pause(
    *, actor, instance: ProcessInstance, lock_version: int | None = None, via: str = "ui"
) -> ProcessInstance:
    instance = instance_locked(actor, instance, lock_version)
    if instance.status != InstanceStatus.RUNNING:
        raise ValidationError(_("Only a running process can be paused."), code="not_running")
    before = audit.snapshot(instance)
    instance.status = InstanceStatus.PAUSED
    history_note(
        instance,
        _("Process %(process)s paused") % {"process": instance.version.process.name},
        via=via,
    )
    instance_save(instance, actor=actor, before=before, via=via)
    return instance


@transaction.atomic
def instance_resume(
    *, actor, instance: ProcessInstance, lock_version: int | None = None, via: str = "ui"
) -> ProcessInstance:
    instance = instance_locked(actor, instance, lock_version)
    if instance.status != InstanceStatus.PAUSED:
        raise ValidationError(_("Only a paused process can be resumed."), code="not_paused")
    before = audit.snapshot(instance)
    instance.status = InstanceStatus.RUNNING
    history_note(
        instance,
        _("Process %(process)s resumed") % {"process": instance.version.process.name},
        via=via,
    )
    advance(instance, actor=actor, via=via)
    instance_save(instance, actor=actor, before=before, via=via)
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
    instance = instance_locked(actor, instance, lock_version)
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
    hooks.process_ended.emit(instance=instance)
    instance_save(instance, actor=actor, before=before, via=via)
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

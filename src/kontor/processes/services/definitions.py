"""Writing process definitions: processes, versions, steps, transitions and step
activities. The editor pages and the API call these same functions.

Who may: ``processes.manage``, for every write here.

The versioning rule: a version that is published (or retired) or that has instances
is frozen — running instances finish on the version they started with. Every edit of
a frozen version is refused (``VersionFrozen``); the editor first calls
``version_new_draft``, which copies the latest version exactly (steps with the same
keys, transitions, activities, acceptance status) into a new draft. A process has at
most one open draft: asking for a new draft while one exists returns that draft.

Every edit of a draft has the same shape, kept in the helpers below: check the
permission (``require``), lock the version row and refuse a frozen version
(``_editable``), validate, then save with an audit entry (``_save``, ``_update``,
``_delete``, ``_move``). The version lock makes concurrent edits of one draft wait
for each other. Steps of a version and activities of a step stay numbered 0…n-1 in
their order; a new transition gets the position after its source step's other ways
out.

Publishing validates the draft (kontor.processes.validation) and refuses with every
problem listed (``VersionInvalid``); nothing changes then. On success the previously
published version is retired in the same transaction.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from kontor.core import audit
from kontor.core.access import EditConflict, require
from kontor.core.models import AuditAction
from kontor.core.nul_guard import refuse_nul
from kontor.core.permissions import Capability
from kontor.processes.models import (
    ActivityType,
    Grade,
    Lane,
    Process,
    ProcessInstance,
    ProcessVersion,
    Responsible,
    Step,
    StepActivity,
    SubjectKind,
    Transition,
    TriggerKind,
    VersionStatus,
)
from kontor.processes.validation import Problem, validate_version


class VersionFrozen(ValidationError):
    """The version is published, retired or in use: edit a new draft instead."""

    def __init__(self, version: ProcessVersion):
        super().__init__(
            _(
                "Version %(number)s is published or in use and cannot be changed. "
                "Edit a new draft: running instances finish on the version they started with."
            )
            % {"number": version.number},
            code="version_frozen",
        )
        self.version = version


class VersionInvalid(ValidationError):
    """Publishing refused: the version has problems."""

    def __init__(self, problems: list[Problem]):
        super().__init__([p.message for p in problems], code="version_invalid")
        self.problems = problems


# --- Access and locking ------------------------------------------------------------------


def version_is_frozen(version: ProcessVersion) -> bool:
    """Published, retired or in use: no longer editable."""
    if version.status != VersionStatus.DRAFT:
        return True
    return ProcessInstance.objects.filter(version=version).exists()


def _editable(version: ProcessVersion) -> ProcessVersion:
    """The version locked for the edit; ``VersionFrozen`` if it may not change."""
    current = ProcessVersion.objects.select_for_update().get(pk=version.pk)
    if version_is_frozen(current):
        raise VersionFrozen(current)
    return current


def _for_update(row):
    """``row`` read again under a row lock: the caller's copy may be stale."""
    return type(row).objects.select_for_update().get(pk=row.pk)


def _user_or_none(actor):
    """The actor to store as creator or owner; None when it is no saved user."""
    return actor if getattr(actor, "pk", None) else None


# --- Validation --------------------------------------------------------------------------


def _clean_choice(name: str, value: str, choices) -> str:
    if value not in choices.values:
        raise ValidationError({name: [_("Select a valid choice.")]})
    return value


def _text(name: str, value: str | None, *, required: bool = False, max_length: int) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({name: [_("This field is required.")]})
    if "\x00" in value:
        raise ValidationError({name: [_("Null characters are not allowed.")]})
    if len(value) > max_length:
        raise ValidationError(
            {name: [_("Ensure this value has at most %(max)s characters.") % {"max": max_length}]}
        )
    return value


def _json_object(name: str, value: Any) -> dict:
    """A JSON object field (trigger or activity configuration); None means empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError({name: [_("Send a JSON object.")]})
    refuse_nul(name, value)  # jsonb on PostgreSQL cannot hold it
    return value


def _condition(value: Any) -> dict:
    if not value:
        return {}
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("field"), str)
        or not value["field"]
        or set(value) != {"field", "equals"}
    ):
        raise ValidationError(
            {"condition": [_('A condition is {"field": "…", "equals": …}, or empty.')]}
        )
    refuse_nul("condition", value)
    return value


def _required_fields(value: Any) -> list[str]:
    if not value:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValidationError(
            {"required_fields": [_('A list of field names, e.g. "person.email".')]}
        )
    refuse_nul("required_fields", value)
    return [v.strip() for v in value]


def _unique_key(version: ProcessVersion, wanted: str, name: str) -> str:
    base = slugify(wanted or name)[:50] or "step"
    taken = set(Step.objects.filter(version=version).values_list("key", flat=True))
    if wanted:
        if slugify(wanted) != wanted:
            raise ValidationError(
                {"key": [_("Use only letters, digits, hyphens and underscores.")]}
            )
        if wanted in taken:
            raise ValidationError({"key": [_("Another step of this version has this key.")]})
        return wanted
    key, n = base, 2
    while key in taken:
        key = f"{base}-{n}"
        n += 1
    return key


# --- Saving, with the audit entry --------------------------------------------------------


def _save(instance, *, actor, via: str, before=None) -> None:
    instance.full_clean()
    instance.save()
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE if before is not None else AuditAction.CREATE,
        instance=instance,
        before=before,
        via=via,
    )


def _update(row, values: dict, *, actor, via: str):
    """Set ``values`` on ``row`` (locked by the caller), save it and audit the change."""
    before = audit.snapshot(row)
    for field, value in values.items():
        setattr(row, field, value)
    _save(row, actor=actor, via=via, before=before)
    return row


def _delete(row, *, actor, via: str, siblings: QuerySet | None = None) -> None:
    """Audit and delete ``row``; then close the gap among ``siblings`` (the rows it was
    numbered with), if it had any."""
    audit.record(actor=actor, action=AuditAction.DELETE, instance=row, via=via)
    row.delete()
    if siblings is not None:
        _close_up(siblings.order_by("position", "id"))


# --- Positions ---------------------------------------------------------------------------


def _next_position(siblings: QuerySet) -> int:
    """The position after the last of ``siblings``: a new row goes to the end."""
    last = siblings.aggregate(m=Max("position"))["m"]
    return 0 if last is None else last + 1


def _close_up(rows) -> None:
    """Number ``rows`` 0…n-1 in their order; only rows whose position changes are saved."""
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            row.save(update_fields=["position"])


def _renumber(rows: list, moved, index: int) -> None:
    """Put ``moved`` at ``index`` of ``rows`` (which holds it) and number them 0…n-1."""
    rows = [row for row in rows if row.pk != moved.pk]
    index = max(0, min(index, len(rows)))
    rows.insert(index, moved)
    _close_up(rows)


def _move(siblings: QuerySet, row, index: int, *, actor, via: str):
    """Move ``row`` to ``index`` among ``siblings`` (the others close up) and audit the
    old and new position. Returns the moved row as read under the lock."""
    rows = list(siblings.select_for_update().order_by("position", "id"))
    moved = next(r for r in rows if r.pk == row.pk)
    old = moved.position
    _renumber(rows, moved, index)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=moved,
        related={"position": [old, moved.position]},
        via=via,
    )
    return moved


# --- Processes ---------------------------------------------------------------------------


@transaction.atomic
def process_create(
    *,
    actor,
    name: str,
    goal: str,
    subject_kind: str = SubjectKind.PERSON,
    trigger: str = TriggerKind.MANUAL,
    trigger_config: dict | None = None,
    description: str = "",
    key: str = "",
    owner=None,
    via: str = "ui",
) -> Process:
    """A new process with draft version 1: a start step and an end step joined by one
    transition, so the draft is valid from the first moment."""
    require(actor, Capability.PROCESSES_MANAGE)
    process = Process(
        name=_text("name", name, required=True, max_length=200),
        subject_kind=_clean_choice("subject_kind", subject_kind, SubjectKind),
        key=key,
        owner=owner if owner is not None else _user_or_none(actor),
    )
    _save(process, actor=actor, via=via)
    version = ProcessVersion(
        process=process,
        number=1,
        goal=_text("goal", goal, required=True, max_length=2000),
        description=_text("description", description, max_length=20_000),
        trigger=_clean_choice("trigger", trigger, TriggerKind),
        trigger_config=_json_object("trigger_config", trigger_config),
        created_by=_user_or_none(actor),
    )
    _save(version, actor=actor, via=via)
    start = Step(version=version, key="start", name=_("Start"), position=0)
    _save(start, actor=actor, via=via)
    end = Step(
        version=version, key="end", name=_("Goal reached"), position=1, is_end=True,
        goal_reached=True,
    )  # fmt: skip
    _save(end, actor=actor, via=via)
    _save(Transition(version=version, source=start, target=end), actor=actor, via=via)
    return process


@transaction.atomic
def process_update(*, actor, process: Process, name: str, owner=None, via: str = "ui") -> Process:
    """Rename a process or change its owner (what it runs on is part of its identity)."""
    require(actor, Capability.PROCESSES_MANAGE)
    current = _for_update(process)
    values = {"name": _text("name", name, required=True, max_length=200), "owner": owner}
    return _update(current, values, actor=actor, via=via)


@transaction.atomic
def process_archive(*, actor, process: Process, archived: bool = True, via: str = "ui") -> Process:
    """Archive (or bring back) a process: archived ones are hidden from the list and
    start no new instances; running instances finish."""
    require(actor, Capability.PROCESSES_MANAGE)
    return _update(_for_update(process), {"archived": archived}, actor=actor, via=via)


# --- Versions ----------------------------------------------------------------------------


@transaction.atomic
def version_update(
    *,
    actor,
    version: ProcessVersion,
    goal: str,
    description: str = "",
    trigger: str = TriggerKind.MANUAL,
    trigger_config: dict | None = None,
    lock_version: int | None = None,
    via: str = "ui",
) -> ProcessVersion:
    """Change a draft's goal, description and trigger. ``lock_version`` is the one the
    editor read; if the version changed since, ``EditConflict`` (None: no check)."""
    require(actor, Capability.PROCESSES_MANAGE)
    current = _editable(version)
    if lock_version is not None and lock_version != current.lock_version:
        # core's EditConflict, with the message the editor has always shown.
        raise EditConflict(current, _("Someone else changed this version in the meantime."))
    values = {
        "goal": _text("goal", goal, required=True, max_length=2000),
        "description": _text("description", description, max_length=20_000),
        "trigger": _clean_choice("trigger", trigger, TriggerKind),
        "trigger_config": _json_object("trigger_config", trigger_config),
        "lock_version": current.lock_version + 1,
    }
    return _update(current, values, actor=actor, via=via)


def _copy(row, **overrides):
    """An unsaved copy of ``row`` with every concrete field but the primary key."""
    values = {
        field.attname: getattr(row, field.attname)
        for field in row._meta.concrete_fields
        if not field.primary_key
    }
    values.update(overrides)
    return type(row)(**values)


@transaction.atomic
def version_new_draft(*, actor, process: Process, via: str = "ui") -> ProcessVersion:
    """A draft to edit: the open draft if the process has one (a draft without
    instances), else an exact copy of the latest version as draft number + 1 — steps
    with the same keys, positions and settings, the transitions between them, the
    activities with their grades and acceptance status."""
    require(actor, Capability.PROCESSES_MANAGE)
    _for_update(process)  # one new draft at a time
    latest = ProcessVersion.objects.filter(process=process).order_by("-number").first()
    if latest is None:
        raise ValidationError(_("This process has no version to copy."))
    if not version_is_frozen(latest):
        return latest
    draft = _copy(
        latest,
        number=latest.number + 1,
        status=VersionStatus.DRAFT,
        created_by=_user_or_none(actor),
        published_at=None,
        lock_version=1,
    )
    draft.save()
    # created_at is auto_now_add: set by save(), not copied.
    step_map: dict[int, Step] = {}
    old_steps = list(Step.objects.filter(version=latest).order_by("position", "id"))
    for step in old_steps:
        step_map[step.pk] = _copy(step, version_id=draft.pk)
    Step.objects.bulk_create(step_map.values())
    # bulk_create sets primary keys on PostgreSQL and SQLite ≥ 3.35; look them up by key
    # anyway so nothing depends on the backend.
    by_key = {s.key: s for s in Step.objects.filter(version=draft)}
    step_map = {old.pk: by_key[old.key] for old in old_steps}
    Transition.objects.bulk_create(
        _copy(
            t,
            version_id=draft.pk,
            source_id=step_map[t.source_id].pk,
            target_id=step_map[t.target_id].pk,
        )
        for t in Transition.objects.filter(version=latest).order_by("source", "position", "id")
        if t.source_id in step_map and t.target_id in step_map
    )
    StepActivity.objects.bulk_create(
        _copy(a, step_id=step_map[a.step_id].pk)
        for a in StepActivity.objects.filter(step__version=latest).order_by(
            "step", "position", "id"
        )
    )
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=draft,
        related={"copied_from": [None, latest.number]},
        via=via,
    )
    return draft


@transaction.atomic
def version_publish(*, actor, version: ProcessVersion, via: str = "ui") -> ProcessVersion:
    """Publish a draft: it becomes the version new instances start on; the one
    published before is retired. Refused with every problem listed if the draft is not
    sound (``VersionInvalid``) — then nothing changes."""
    require(actor, Capability.PROCESSES_MANAGE)
    # One publish per process at a time, so that only one version ends up published.
    Process.objects.select_for_update().get(pk=version.process_id)
    current = _for_update(version)
    if current.status != VersionStatus.DRAFT:
        raise ValidationError(
            _("Version %(number)s is not a draft; only drafts can be published.")
            % {"number": current.number}
        )
    problems = validate_version(current)
    if problems:
        raise VersionInvalid(problems)
    for old in ProcessVersion.objects.select_for_update().filter(
        process_id=current.process_id, status=VersionStatus.PUBLISHED
    ):
        before = audit.snapshot(old)
        old.status = VersionStatus.RETIRED
        old.save(update_fields=["status"])
        audit.record(actor=actor, action=AuditAction.UPDATE, instance=old, before=before, via=via)
    before = audit.snapshot(current)
    current.status = VersionStatus.PUBLISHED
    current.published_at = timezone.now()
    current.lock_version += 1
    current.save(update_fields=["status", "published_at", "lock_version"])
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current


# --- Steps -------------------------------------------------------------------------------


def _step_values(
    *,
    name: str,
    description: str,
    lane: str,
    responsible: str,
    deadline_days: int | None,
    required_fields,
    is_end: bool,
    goal_reached: bool,
) -> dict:
    if deadline_days is not None and not (0 <= deadline_days <= 365):
        raise ValidationError(
            {"deadline_days": [_("A deadline is between 0 and 365 business days.")]}
        )
    if goal_reached and not is_end:
        raise ValidationError(
            {"goal_reached": [_("Only a step that ends the process can reach the goal.")]}
        )
    return {
        "name": _text("name", name, required=True, max_length=200),
        "description": _text("description", description, max_length=10_000),
        "lane": _clean_choice("lane", lane, Lane),
        "responsible": _clean_choice("responsible", responsible, Responsible),
        "deadline_days": deadline_days,
        "required_fields": _required_fields(required_fields),
        "is_end": bool(is_end),
        "goal_reached": bool(goal_reached),
    }


@transaction.atomic
def step_create(
    *,
    actor,
    version: ProcessVersion,
    name: str,
    key: str = "",
    description: str = "",
    lane: str = Lane.SALES,
    responsible: str = Responsible.RECORD_OWNER,
    deadline_days: int | None = None,
    required_fields: list[str] | None = None,
    is_end: bool = False,
    goal_reached: bool = False,
    position: int | None = None,
    via: str = "ui",
) -> Step:
    """Add a step to a draft; at the end unless ``position`` says where. The key is
    made from the name when not given (stable across versions: BPMN ids use it)."""
    require(actor, Capability.PROCESSES_MANAGE)
    current = _editable(version)
    values = _step_values(
        name=name, description=description, lane=lane, responsible=responsible,
        deadline_days=deadline_days, required_fields=required_fields, is_end=is_end,
        goal_reached=goal_reached,
    )  # fmt: skip
    steps = Step.objects.filter(version=current)
    step = Step(
        version=current,
        position=_next_position(steps),
        key=_unique_key(current, (key or "").strip(), values["name"]),
        **values,
    )
    _save(step, actor=actor, via=via)
    if position is not None:
        _renumber(list(steps.order_by("position", "id")), step, position)
    return step


@transaction.atomic
def step_update(
    *,
    actor,
    step: Step,
    name: str,
    description: str = "",
    lane: str = Lane.SALES,
    responsible: str = Responsible.RECORD_OWNER,
    deadline_days: int | None = None,
    required_fields: list[str] | None = None,
    is_end: bool = False,
    goal_reached: bool = False,
    via: str = "ui",
) -> Step:
    """Change a draft's step (its key stays: it is the step's identity across versions)."""
    require(actor, Capability.PROCESSES_MANAGE)
    _editable(step.version)
    current = _for_update(step)
    values = _step_values(
        name=name, description=description, lane=lane, responsible=responsible,
        deadline_days=deadline_days, required_fields=required_fields, is_end=is_end,
        goal_reached=goal_reached,
    )  # fmt: skip
    return _update(current, values, actor=actor, via=via)


@transaction.atomic
def step_delete(*, actor, step: Step, via: str = "ui") -> None:
    """Remove a draft's step with its transitions and activities."""
    require(actor, Capability.PROCESSES_MANAGE)
    version = _editable(step.version)
    current = Step.objects.get(pk=step.pk)
    # The database deletes the step's transitions with it (CASCADE); audit each one so
    # the trail says which ways went. (Its activities get no entries of their own.)
    for transition in Transition.objects.filter(Q(source=current) | Q(target=current)):
        audit.record(actor=actor, action=AuditAction.DELETE, instance=transition, via=via)
    _delete(current, actor=actor, via=via, siblings=Step.objects.filter(version=version))


@transaction.atomic
def step_move(*, actor, step: Step, position: int, via: str = "ui") -> Step:
    """Move a draft's step to ``position`` (0 = first = the start); the others close up."""
    require(actor, Capability.PROCESSES_MANAGE)
    version = _editable(step.version)
    return _move(Step.objects.filter(version=version), step, position, actor=actor, via=via)


# --- Transitions -------------------------------------------------------------------------


def _same_version(version: ProcessVersion, *steps: Step) -> None:
    for name, step in zip(("source", "target"), steps, strict=False):
        if step.version_id != version.pk:
            raise ValidationError({name: [_("Choose a step of this version.")]})


@transaction.atomic
def transition_create(
    *,
    actor,
    source: Step,
    target: Step,
    label: str = "",
    condition: dict | None = None,
    via: str = "ui",
) -> Transition:
    """A way from ``source`` to ``target`` (both steps of the same draft), after the
    source's other ways out."""
    require(actor, Capability.PROCESSES_MANAGE)
    version = _editable(source.version)
    _same_version(version, source, target)
    transition = Transition(
        version=version,
        source=source,
        target=target,
        position=_next_position(Transition.objects.filter(source=source)),
        label=_text("label", label, max_length=200),
        condition=_condition(condition),
    )
    _save(transition, actor=actor, via=via)
    return transition


@transaction.atomic
def transition_update(
    *,
    actor,
    transition: Transition,
    target: Step,
    label: str = "",
    condition: dict | None = None,
    via: str = "ui",
) -> Transition:
    """Change where a draft's transition leads, its label and its condition (its source
    stays)."""
    require(actor, Capability.PROCESSES_MANAGE)
    version = _editable(transition.version)
    current = _for_update(transition)
    _same_version(version, current.source, target)
    values = {
        "target": target,
        "label": _text("label", label, max_length=200),
        "condition": _condition(condition),
    }
    return _update(current, values, actor=actor, via=via)


@transaction.atomic
def transition_delete(*, actor, transition: Transition, via: str = "ui") -> None:
    """Remove a draft's transition. The source's other ways out keep their positions:
    only their order matters."""
    require(actor, Capability.PROCESSES_MANAGE)
    _editable(transition.version)
    _delete(Transition.objects.get(pk=transition.pk), actor=actor, via=via)


# --- Step activities ---------------------------------------------------------------------


def _activity_values(
    *, kind: str, title: str, description: str, config, grade: str, required: bool
) -> dict:
    config = _json_object("config", config)
    return {
        "kind": _clean_choice("kind", kind, ActivityType),
        "title": _text("title", title, required=True, max_length=200),
        "description": _text("description", description, max_length=10_000),
        "config": config,
        "grade": _clean_choice("grade", grade, Grade),
        "required": bool(required),
    }


@transaction.atomic
def step_activity_create(
    *,
    actor,
    step: Step,
    kind: str,
    title: str,
    description: str = "",
    config: dict | None = None,
    grade: str = Grade.MUST,
    required: bool = True,
    via: str = "ui",
) -> StepActivity:
    """Add an activity (a Tätigkeit and a graded requirement) at the end of a step."""
    require(actor, Capability.PROCESSES_MANAGE)
    _editable(step.version)
    values = _activity_values(
        kind=kind, title=title, description=description, config=config, grade=grade,
        required=required,
    )  # fmt: skip
    position = _next_position(StepActivity.objects.filter(step=step))
    activity = StepActivity(step=step, position=position, **values)
    _save(activity, actor=actor, via=via)
    return activity


@transaction.atomic
def step_activity_update(
    *,
    actor,
    activity: StepActivity,
    kind: str,
    title: str,
    description: str = "",
    config: dict | None = None,
    grade: str = Grade.MUST,
    required: bool = True,
    via: str = "ui",
) -> StepActivity:
    """Change a draft's step activity (it stays on its step, at its position)."""
    require(actor, Capability.PROCESSES_MANAGE)
    _editable(activity.step.version)
    current = _for_update(activity)
    values = _activity_values(
        kind=kind, title=title, description=description, config=config, grade=grade,
        required=required,
    )  # fmt: skip
    return _update(current, values, actor=actor, via=via)


@transaction.atomic
def step_activity_delete(*, actor, activity: StepActivity, via: str = "ui") -> None:
    """Remove an activity from a draft's step; the step's others close up."""
    require(actor, Capability.PROCESSES_MANAGE)
    _editable(activity.step.version)
    current = StepActivity.objects.get(pk=activity.pk)
    siblings = StepActivity.objects.filter(step_id=current.step_id)
    _delete(current, actor=actor, via=via, siblings=siblings)


@transaction.atomic
def step_activity_move(
    *, actor, activity: StepActivity, position: int, via: str = "ui"
) -> StepActivity:
    """Move an activity to ``position`` within its step; the others close up."""
    require(actor, Capability.PROCESSES_MANAGE)
    _editable(activity.step.version)
    siblings = StepActivity.objects.filter(step_id=activity.step_id)
    return _move(siblings, activity, position, actor=actor, via=via)

"""Bulk changes on customer lists: change owner or team, add or remove a tag — on
selected rows or on every row matching a filter. Only records the actor may see are
touched; each changed record gets its own audit entry. Small selections run in one
transaction in the request; large ones as a background task (list_tasks.py)."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kontor.core import audit, jobs, search
from kontor.core.access import user_can
from kontor.core.models import AuditAction, BulkJob, Team, User
from kontor.core.permissions import Capability
from kontor.customers.models import Tag

SYNC_LIMIT = 2_000  # more rows than this run in the background
CHUNK = 500

SET_OWNER, SET_TEAM, ADD_TAG, REMOVE_TAG = "set_owner", "set_team", "add_tag", "remove_tag"
ACTIONS = (SET_OWNER, SET_TEAM, ADD_TAG, REMOVE_TAG)


def _require_edit(actor) -> None:
    if not user_can(actor, Capability.CUSTOMERS_EDIT):
        raise PermissionDenied(_("Your role does not allow this."))


def bulk_target(*, action: str, value: str):
    """The user, team or tag an action sets, from its form value; ValidationError
    for an unknown action or value."""
    try:
        if action == SET_OWNER:
            return User.objects.get(uuid=value, is_active=True)
        if action == SET_TEAM:
            return None if value == "" else Team.objects.get(uuid=value)
        if action in (ADD_TAG, REMOVE_TAG):
            return Tag.objects.get(pk=int(value))
    except (User.DoesNotExist, Team.DoesNotExist, Tag.DoesNotExist, ValueError) as exc:
        raise ValidationError(_("Choose a valid value.")) from exc
    raise ValidationError(_("Unknown action."))


def _apply(records: Iterable, *, actor, action: str, target, via: str) -> int:
    """Change and audit each record; the number actually changed."""
    changed = 0
    moved = []  # the search index keeps owner and team for its visibility rule
    for record in records:
        if action in (SET_OWNER, SET_TEAM):
            name = "owner" if action == SET_OWNER else "team"
            before = audit.snapshot(record)
            if getattr(record, f"{name}_id") == (target.pk if target else None):
                continue
            setattr(record, name, target)
            record.version += 1  # the row is locked (select_for_update)
            record.save(update_fields=[name, "version", "updated_at"])
            moved.append(record)
            audit.record(
                actor=actor, action=AuditAction.UPDATE, instance=record, before=before, via=via
            )
        else:
            tags = sorted(t.name for t in record.tags.all())
            has = target.name in tags
            if (action == ADD_TAG) == has:
                continue
            if action == ADD_TAG:
                record.tags.add(target)
                after = sorted([*tags, target.name])
            else:
                record.tags.remove(target)
                after = [t for t in tags if t != target.name]
            audit.record(
                actor=actor,
                action=AuditAction.UPDATE,
                instance=record,
                related={"tags": [tags, after]},
                via=via,
            )
        changed += 1
    if moved:
        search.index_many(moved)
    return changed


def records_bulk_change(*, records: QuerySet, actor, action: str, target, via: str = "ui") -> int:
    """Apply ``action`` to every record of ``records`` the actor may see, in one
    transaction; returns how many records changed. ``records`` need not be
    restricted yet: visibility is applied here."""
    _require_edit(actor)
    visible = records.model.objects.visible_to(actor).filter(pk__in=records.values("pk"))
    with transaction.atomic():
        rows = visible.select_for_update().order_by("pk")
        if action in (ADD_TAG, REMOVE_TAG):
            rows = rows.prefetch_related("tags")
        return _apply(list(rows), actor=actor, action=action, target=target, via=via)


def bulk_job_start(*, entity: str, actor, action: str, value: str, params: dict, total: int):
    """Queue a large bulk change; the task re-evaluates the selection as the actor."""
    from kontor.customers import list_tasks

    _require_edit(actor)
    bulk_target(action=action, value=value)  # fail now, not in the worker
    job = BulkJob.objects.create(
        entity=entity,
        action=action,
        actor=actor,
        total=total,
        params={"value": value, **params},
    )
    transaction.on_commit(lambda: list_tasks.bulk_change.enqueue(job_id=job.pk))
    return job


def bulk_job_run(*, job: BulkJob, records: QuerySet) -> None:
    """Work through a queued job in chunks of records by id, each chunk in one
    transaction with the job's progress (core.jobs): a job whose worker died resumes
    after its last committed chunk, a cancelled one stops before the next. Idempotent:
    a record already changed is skipped, so a retried job finishes what is left."""
    actor = job.actor
    remaining: list[int] = []
    target = []

    def begin(running: BulkJob) -> None:
        if not user_can(actor, Capability.CUSTOMERS_EDIT):
            raise jobs.JobFailed(_("Your role does not allow this."))
        try:  # the user, team or tag may have gone since the job was queued
            target[:] = [bulk_target(action=running.action, value=running.params.get("value", ""))]
        except ValidationError as exc:
            raise jobs.JobFailed(exc.messages[0]) from exc
        # The selection is read again as the actor, after the last committed chunk: a
        # filter the change itself affects ("owner is me") must not shift the rest.
        remaining[:] = (
            records.model.objects.visible_to(actor)
            .filter(pk__in=records.values("pk"), pk__gt=running.cursor)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        running.total = running.done + len(remaining)
        BulkJob.objects.filter(pk=running.pk).update(total=running.total)

    def chunk(running: BulkJob) -> jobs.Progress | None:
        ids = [pk for pk in remaining if pk > running.cursor][:CHUNK]
        if not ids:
            return None
        changed = records_bulk_change(
            records=records.model.objects.filter(pk__in=ids),
            actor=actor,
            action=running.action,
            target=target[0],
            via="bulk",
        )
        return jobs.Progress(cursor=ids[-1], done=len(ids), counters={"changed": changed})

    jobs.run(BulkJob, job.pk, begin=begin, chunk=chunk)

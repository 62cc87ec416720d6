"""Merging two persons or two organizations: the survivor takes the chosen values and
everything that hung on the other record (the victim), which is then deleted.

Relations are moved generically — every foreign key and many-to-many table that points
at the model, found through ``_meta`` — so that relations added by later apps
(activities, opportunities, consents …) come along without a change here. Where a
table allows one row per record and partner (a unique constraint), the survivor's row
stays; for buying-center links the two rows are combined, any other such victim row is
dropped and kept in the merge record's snapshot. The victim's audit entries are
re-pointed to the survivor with their text, the merge itself is audited, and a
``MergeRecord`` keeps the victim as it was.
"""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.http import Http404
from django.utils.translation import gettext as _

from kontor.core import audit, search
from kontor.core.access import EditConflict, user_can
from kontor.core.models import AuditAction, AuditEntry
from kontor.core.permissions import Capability
from kontor.customers.duplicates import derive_keys, kind_of
from kontor.customers.models import (
    PSYCHOGRAPHIC_FIELDS,
    BuyingRole,
    ContactRole,
    DuplicatePair,
    DuplicateStatus,
    MergeRecord,
    Organization,
    Person,
)
from kontor.customers.models.matchkeys import MatchKeyField

SURVIVOR = "survivor"
VICTIM = "victim"

# Never chosen: identity, bookkeeping and derived values.
_NOT_MERGED = {"id", "uuid", "created_at", "updated_at", "version", "custom"}


def mergeable_fields(model: type[models.Model]) -> list[models.Field]:
    """The fields whose value the user picks in a merge, in model order."""
    return [
        f
        for f in model._meta.concrete_fields
        if f.name not in _NOT_MERGED and f.editable and not isinstance(f, MatchKeyField)
    ]


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def default_choices(survivor, victim) -> dict[str, str]:
    """The survivor's value, unless it has none and the victim has one: then nothing
    is lost by default."""
    choices = {}
    for f in mergeable_fields(type(survivor)):
        mine, theirs = f.value_from_object(survivor), f.value_from_object(victim)
        choices[f.name] = VICTIM if _is_empty(mine) and not _is_empty(theirs) else SURVIVOR
    for key, value in (victim.custom or {}).items():
        if _is_empty((survivor.custom or {}).get(key)) and not _is_empty(value):
            choices[f"custom.{key}"] = VICTIM
    return choices


def _lock_pair(model, *, actor, survivor, victim):
    if not user_can(actor, Capability.CUSTOMERS_DELETE):
        raise PermissionDenied(_("Your role does not allow this."))
    if survivor.pk == victim.pk:
        raise ValidationError(_("A record cannot be merged with itself."))
    # Locked in id order, so two merges of the same pair cannot deadlock.
    locked = {
        r.pk: r
        for r in model.objects.visible_to(actor)
        .select_for_update()
        .filter(pk__in=[survivor.pk, victim.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise Http404
    return locked[survivor.pk], locked[victim.pk]


def _move_relations(model, survivor, victim) -> dict[str, Any]:
    """Re-point every row that refers to ``victim`` to ``survivor``; returns the rows
    that could not move (a unique conflict), as they were."""
    dropped: dict[str, list] = {}
    relations = [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_many or f.one_to_one)
    ]
    for rel in relations:
        related = rel.related_model
        fk = rel.field
        rows = related._base_manager.filter(**{fk.name: victim})
        if related is model:
            rows = rows.exclude(pk=survivor.pk)  # a subsidiary that is the survivor
        handler = _HANDLERS.get(related)
        if handler is not None:
            handler(rows, fk=fk, survivor=survivor)
            continue
        clash_fields = _unique_partners(related, fk)
        if related._meta.auto_created or clash_fields:
            # A many-to-many table, or one row per record and partner: keep the
            # survivor's row where both have one.
            for fields in clash_fields or [
                [f.name for f in related._meta.concrete_fields if f.is_relation and f != fk]
            ]:
                taken = related._base_manager.filter(**{fk.name: survivor}).values(*fields)
                clash = rows.filter(
                    models.Exists(taken.filter(**{f: models.OuterRef(f) for f in fields}))
                )
                if not related._meta.auto_created and clash.exists():
                    dropped.setdefault(related._meta.label, []).extend(
                        audit.snapshot(row) for row in clash
                    )
                clash.delete()
        if rel.one_to_one and related._base_manager.filter(**{fk.name: survivor}).exists():
            dropped.setdefault(related._meta.label, []).extend(audit.snapshot(r) for r in rows)
            continue
        rows.update(**{fk.name: survivor})
    return dropped


def _unique_partners(related, fk) -> list[list[str]]:
    """The other fields of each unique constraint of ``related`` that includes ``fk``."""
    sets = [list(u) for u in related._meta.unique_together]
    sets += [
        list(c.fields)
        for c in related._meta.constraints
        if isinstance(c, models.UniqueConstraint) and c.fields and c.condition is None
    ]
    return [[f for f in s if f != fk.name] for s in sets if fk.name in s and len(s) > 1]


def _merge_contact_roles(rows, *, fk, survivor) -> None:
    """Buying-center links: where both are linked to the same partner, one link with
    the union of the roles and the survivor's job title (the victim's if empty)."""
    partner = "organization" if fk.name == "person" else "person"
    kept = {
        getattr(r, f"{partner}_id"): r for r in ContactRole.objects.filter(**{fk.name: survivor})
    }
    for row in rows:
        mine = kept.get(getattr(row, f"{partner}_id"))
        if mine is None:
            setattr(row, fk.name, survivor)
            row.save(update_fields=[fk.name])
            continue
        both = {*mine.buying_roles, *row.buying_roles}
        # In the order of BuyingRole, as the services store them.
        mine.buying_roles = [r for r in BuyingRole.values if r in both] + sorted(
            both - set(BuyingRole.values)
        )
        mine.job_title = mine.job_title or row.job_title
        mine.department = mine.department or row.department
        mine.save(update_fields=["buying_roles", "job_title", "department"])
        row.delete()


_HANDLERS = {ContactRole: _merge_contact_roles}


def _merge(model, *, survivor, victim, actor, field_choices, versions, via) -> MergeRecord:
    field_choices = dict(field_choices or {})
    with transaction.atomic():
        survivor, victim = _lock_pair(model, actor=actor, survivor=survivor, victim=victim)
        if versions is not None:
            for record, version in zip((survivor, victim), versions, strict=True):
                if version is not None and record.version != version:
                    raise EditConflict(record)
        unknown = {
            name
            for name in field_choices
            if not name.startswith("custom.")
            and name not in {f.name for f in mergeable_fields(model)}
        }
        if unknown or set(field_choices.values()) - {SURVIVOR, VICTIM}:
            raise ValidationError(_("Choose for each field the survivor's or the other value."))
        if set(field_choices) & set(PSYCHOGRAPHIC_FIELDS) and not user_can(
            actor, Capability.CUSTOMERS_PSYCHOGRAPHIC
        ):
            raise PermissionDenied(_("Your role does not allow this."))
        choices = {**default_choices(survivor, victim), **field_choices}

        before = audit.snapshot(survivor)
        victim_snapshot = {
            "uuid": str(victim.uuid),
            "fields": audit.snapshot(victim),
            "tags": sorted(victim.tags.values_list("name", flat=True)),
        }
        chosen = {}
        for f in mergeable_fields(model):
            if choices.get(f.name) == VICTIM:
                setattr(survivor, f.attname, f.value_from_object(victim))
                chosen[f.name] = victim_snapshot["fields"].get(f.name)
        custom = {**(victim.custom or {}), **(survivor.custom or {})}
        for key, value in (victim.custom or {}).items():
            if choices.get(f"custom.{key}") == VICTIM:
                custom[key] = value
                chosen[f"custom.{key}"] = value
        survivor.custom = custom
        if model is Organization and survivor.parent_id == victim.pk:
            survivor.parent_id = victim.parent_id if victim.parent_id != survivor.pk else None

        dropped = _move_relations(model, survivor, victim)
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model), object_id=victim.pk
        ).update(object_id=survivor.pk)
        _close_pairs(model, survivor=survivor, victim=victim, actor=actor)

        derive_keys(survivor)
        survivor.full_clean()
        survivor.version = F("version") + 1
        survivor.save()
        survivor.refresh_from_db()
        if dropped:
            victim_snapshot["dropped"] = dropped
        audit.record(
            actor=actor,
            action=AuditAction.UPDATE,
            instance=survivor,
            before=before,
            related={
                "merged": [
                    None,
                    {"uuid": str(victim.uuid), "name": str(victim), "chosen": chosen},
                ]
            },
            via=via,
        )
        search.unindex(victim)
        victim_repr = str(victim)[:200]
        victim.delete()
        search.index(survivor)
        signed_in = actor is not None and actor.is_authenticated
        return MergeRecord.objects.create(
            **{"person" if model is Person else "organization": survivor},
            victim_uuid=victim_snapshot["uuid"],
            victim_repr=victim_repr,
            victim_snapshot=victim_snapshot,
            choices=chosen,
            actor=actor if signed_in else None,
            actor_name=actor.get_username() if signed_in else "",
        )


def _close_pairs(model, *, survivor, victim, actor) -> None:
    kind = kind_of(model)
    a, b = sorted((survivor.pk, victim.pk))
    DuplicatePair.objects.filter(kind=kind, a_id=a, b_id=b).update(
        status=DuplicateStatus.MERGED, resolved_by=actor
    )
    # Other open pairs of the victim are stale; the next scan finds the survivor's.
    DuplicatePair.objects.filter(kind=kind, status=DuplicateStatus.OPEN).filter(
        models.Q(a_id=victim.pk) | models.Q(b_id=victim.pk)
    ).delete()


def person_merge(
    *,
    survivor: Person,
    victim: Person,
    actor,
    field_choices: dict[str, str] | None = None,
    versions: tuple[int | None, int | None] | None = None,
    via: str = "ui",
) -> MergeRecord:
    """Merge ``victim`` into ``survivor``. ``field_choices`` maps a field name (or
    ``custom.<key>``) to "survivor" or "victim"; unnamed fields keep the survivor's
    value unless only the victim has one. ``versions`` are the two records' versions
    when the user looked: EditConflict if either changed since. Needs customers.delete
    and both records visible (Http404)."""
    return _merge(
        Person,
        survivor=survivor,
        victim=victim,
        actor=actor,
        field_choices=field_choices,
        versions=versions,
        via=via,
    )


def organization_merge(
    *,
    survivor: Organization,
    victim: Organization,
    actor,
    field_choices: dict[str, str] | None = None,
    versions: tuple[int | None, int | None] | None = None,
    via: str = "ui",
) -> MergeRecord:
    """Merge two organizations; as ``person_merge``. Persons, buying-center links,
    subsidiaries, equipment and notes of the victim move to the survivor."""
    return _merge(
        Organization,
        survivor=survivor,
        victim=victim,
        actor=actor,
        field_choices=field_choices,
        versions=versions,
        via=via,
    )

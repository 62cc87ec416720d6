"""Writes on activities: one function per use case, checked and audited.

``actor=None`` means Kontor itself (the worker filing an incoming e-mail): no
capability or visibility check, the audit entry has no actor."""

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.activities.models import ACTIVITY_TEXT_MAX_LENGTH, Activity, ActivityKind, Direction
from kontor.core import audit
from kontor.core.access import EditConflict, sees, user_can
from kontor.core.models import AuditAction
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person

# Fields activity_update may change; the subject (person / organization) stays.
EDITABLE_FIELDS = (
    "kind",
    "direction",
    "occurred_at",
    "duration_minutes",
    "subject",
    "text",
    "outcome",
    "private",
)
# A contact longer than a week is a typing error, not a meeting.
MAX_DURATION_MINUTES = 7 * 24 * 60

__all__ = ["EditConflict", "activity_create", "activity_delete", "activity_update"]


def require_can_log(actor) -> None:
    if actor is not None and not user_can(actor, Capability.ACTIVITIES_EDIT):
        raise PermissionDenied(_("Your role does not allow this."))


def require_visible(actor, record: Person | Organization | None) -> None:
    """Services do not trust their callers to have looked the customer up for the actor."""
    if actor is None or record is None:
        return
    if not type(record).objects.visible_to(actor).filter(pk=record.pk).exists():
        raise Http404


def primary_organization(actor, person: Person | None) -> Organization | None:
    """The organization a record logged on ``person`` is linked to as well (so the
    organization's timeline shows it): the person's primary one — unless ``actor``
    may not see it. A record is visible only to who sees every customer it names
    (ActivityQuerySet.visible_to), so linking an organization of another team would
    hide the record from its own author; and that team may not see the person anyway.
    Kontor itself (``actor`` None: a process's history note, a filed e-mail) links it
    only where the organization is kept by the person's team (or, without a team, the
    same owner): linked to another team's organization, what Kontor logs on the
    person would be hidden from everyone who works with the person."""
    if person is None or person.organization_id is None:
        return None
    organization = person.organization
    if actor is None:
        return organization if _same_keepers(person, organization) else None
    return organization if sees(actor, organization) else None


def _same_keepers(person: Person, organization: Organization) -> bool:
    """Whether the role rule shows ``organization`` to those who see ``person`` by
    team (or, for records without a team, by owner) — from the loaded rows."""
    if person.team_id is not None or organization.team_id is not None:
        return person.team_id == organization.team_id
    return person.owner_id == organization.owner_id


def clean_text(value: str, *, field: str, required: bool, max_length: int) -> str:
    """Stripped text without NUL characters, within ``max_length``; errors keyed ``field``."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: [_("This field is required.")]})
    if "\x00" in value:
        raise ValidationError({field: [_("Null characters are not allowed.")]})
    if len(value) > max_length:
        raise ValidationError(
            {
                field: [
                    _("Enter at most %(max)s characters (this has %(count)s).")
                    % {"max": f"{max_length:,}", "count": f"{len(value):,}"}
                ]
            }
        )
    return value


def activity_create(
    *,
    actor,
    kind: str,
    subject: str,
    person: Person | None = None,
    organization: Organization | None = None,
    occurred_at: datetime | None = None,
    direction: str = Direction.NONE,
    duration_minutes: int | None = None,
    text: str = "",
    outcome: str = "",
    internal_participants: Any = (),
    external_participants: Any = (),
    private: bool = False,
    via: str = "ui",
    files: Any = (),
) -> Activity:
    """Log a contact with a customer. An activity on a person at an organization is
    linked to that organization too (its primary one, unless given; see
    primary_organization for when not), so it shows in the organization's timeline.
    ``files`` (uploaded files) become its attachments: all of them or, if one is
    refused, none and no activity either."""
    from kontor.activities.services.attachments import stored_files_removed_on_error

    with stored_files_removed_on_error() as stored:
        return _activity_create(
            actor=actor,
            kind=kind,
            subject=subject,
            person=person,
            organization=organization,
            occurred_at=occurred_at,
            direction=direction,
            duration_minutes=duration_minutes,
            text=text,
            outcome=outcome,
            internal_participants=internal_participants,
            external_participants=external_participants,
            private=private,
            via=via,
            files=files,
            stored=stored,
        )


def _clean_choices(*, kind: str, direction: str) -> None:
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": [_("Choose a valid type.")]})
    if direction not in Direction.values:
        raise ValidationError({"direction": [_("Choose a valid direction.")]})


def _clean_duration(value: int | None) -> int | None:
    if value is not None and not (0 <= value <= MAX_DURATION_MINUTES):
        raise ValidationError(
            {
                "duration_minutes": [
                    _("Enter a duration between 0 and %(max)s minutes.")
                    % {"max": MAX_DURATION_MINUTES}
                ]
            }
        )
    return value


def _require_visible_participants(actor, persons) -> None:
    """External participants are persons the actor may see (others are 404)."""
    for person in persons or ():
        require_visible(actor, person)


@transaction.atomic
def _activity_create(
    *,
    actor,
    kind,
    subject,
    person,
    organization,
    occurred_at,
    direction,
    duration_minutes,
    text,
    outcome,
    internal_participants,
    external_participants,
    private,
    via,
    files,
    stored: list,
) -> Activity:
    from kontor.activities.services.attachments import attachment_add, check_upload

    require_can_log(actor)
    if person is None and organization is None:
        raise ValidationError({"person": [_("Choose a person or an organization.")]})
    require_visible(actor, person)
    require_visible(actor, organization)
    _require_visible_participants(actor, external_participants)
    _clean_choices(kind=kind, direction=direction)
    for upload in files or ():
        check_upload(upload)  # every file before anything is written
    if organization is None:
        organization = primary_organization(actor, person)
    activity = Activity(
        kind=kind,
        direction=direction,
        occurred_at=occurred_at or timezone.now(),
        duration_minutes=_clean_duration(duration_minutes),
        subject=clean_text(subject, field="subject", required=True, max_length=300),
        text=clean_text(text, field="text", required=False, max_length=ACTIVITY_TEXT_MAX_LENGTH),
        outcome=clean_text(outcome, field="outcome", required=False, max_length=300),
        person=person,
        organization=organization,
        author=actor,
        private=private,
    )
    # As in task_create: the related records were handed in, the uuid is fresh, and
    # "a person or an organization" was checked above (the database checks it too).
    activity.full_clean(
        exclude=["person", "organization", "author"],
        validate_unique=False,
        validate_constraints=False,
    )
    activity.save()
    if internal_participants:
        activity.internal_participants.set(internal_participants)
    if external_participants:
        activity.external_participants.set(external_participants)
    audit.record(actor=actor, action=AuditAction.CREATE, instance=activity, via=via)
    for upload in files or ():
        attachment = attachment_add(
            actor=actor,
            activity=activity,
            name=upload.name,
            content=upload,
            content_type=getattr(upload, "content_type", "") or "",
            via=via,
        )
        stored.append(attachment.file.name)
    return activity


def can_change(actor, activity: Activity) -> bool:
    """Edit and delete: the author (with activities.edit), or a role that may delete
    customers (a manager correcting the history, also of what Kontor filed)."""
    if actor is None:
        return True
    return user_can(actor, Capability.ACTIVITIES_EDIT) and (
        activity.author_id == actor.pk or user_can(actor, Capability.CUSTOMERS_DELETE)
    )


def _require_can_change(actor, activity: Activity) -> None:
    # Its customer visible, and a private one only for its author: else 404.
    if actor is not None and not Activity.objects.visible_to(actor).filter(pk=activity.pk).exists():
        raise Http404
    if not can_change(actor, activity):
        raise PermissionDenied(_("Only the author or a manager may change this activity."))


def _names(items) -> list[str]:
    return sorted(str(item) for item in items)


@transaction.atomic
def activity_update(
    *,
    actor,
    activity: Activity,
    data: dict[str, Any],
    version: int | None = None,
    via: str = "ui",
) -> Activity:
    """Change an activity: ``data`` holds any of EDITABLE_FIELDS and
    ``internal_participants`` / ``external_participants`` (replacing them).
    ``version`` is the one the editor read: if someone saved since, EditConflict."""
    data = dict(data)
    unknown = set(data) - set(EDITABLE_FIELDS) - {"internal_participants", "external_participants"}
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    current = Activity.objects.select_for_update().get(pk=activity.pk)
    _require_can_change(actor, current)
    if version is not None and current.version != version:
        raise EditConflict(current)
    internal = data.pop("internal_participants", None)
    external = data.pop("external_participants", None)
    if external is not None:
        _require_visible_participants(actor, external)
        # Those the actor may not see were not shown to them: they stay.
        external = list(external) + [
            p for p in current.external_participants.all() if actor and not sees(actor, p)
        ]
    before = audit.snapshot(current)
    for name, value in data.items():
        setattr(current, name, value)
    _clean_choices(kind=current.kind, direction=current.direction)
    current.subject = clean_text(current.subject, field="subject", required=True, max_length=300)
    current.text = clean_text(
        current.text, field="text", required=False, max_length=ACTIVITY_TEXT_MAX_LENGTH
    )
    current.outcome = clean_text(current.outcome, field="outcome", required=False, max_length=300)
    current.duration_minutes = _clean_duration(current.duration_minutes)
    if current.occurred_at is None:
        raise ValidationError({"occurred_at": [_("This field is required.")]})
    current.full_clean()
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    related = {}
    if internal is not None:
        old = _names(current.internal_participants.all())
        current.internal_participants.set(internal)
        related["internal_participants"] = [old, _names(internal)]
    if external is not None:
        old = _names(current.external_participants.all())
        current.external_participants.set(external)
        related["external_participants"] = [old, _names(external)]
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=current,
        before=before,
        related=related or None,
        via=via,
    )
    return current


def activity_delete(*, actor, activity: Activity, via: str = "ui") -> None:
    """Delete an activity with its attachments; the files go once the deletion is
    committed (a rolled-back deletion keeps them)."""
    with transaction.atomic():
        current = Activity.objects.select_for_update().get(pk=activity.pk)
        _require_can_change(actor, current)
        names = list(current.attachments.values_list("file", flat=True))
        for attachment in current.attachments.all():
            audit.record(actor=actor, action=AuditAction.DELETE, instance=attachment, via=via)
        audit.record(actor=actor, action=AuditAction.DELETE, instance=current, via=via)
        current.delete()

        def remove_files() -> None:
            from django.core.files.storage import default_storage

            for name in names:
                default_storage.delete(name)

        transaction.on_commit(remove_files)

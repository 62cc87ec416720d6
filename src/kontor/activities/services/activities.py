"""Writes on activities: one function per use case, checked and audited.

``actor=None`` means Kontor itself (the worker filing an incoming e-mail): no
capability or visibility check, the audit entry has no actor."""

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.activities.models import ACTIVITY_TEXT_MAX_LENGTH, Activity, ActivityKind, Direction
from kontor.core import audit
from kontor.core.access import user_can
from kontor.core.models import AuditAction
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person


def require_can_log(actor) -> None:
    if actor is not None and not user_can(actor, Capability.ACTIVITIES_EDIT):
        raise PermissionDenied(_("Your role does not allow this."))


def require_visible(actor, record: Person | Organization | None) -> None:
    """Services do not trust their callers to have looked the customer up for the actor."""
    if actor is None or record is None:
        return
    if not type(record).objects.visible_to(actor).filter(pk=record.pk).exists():
        raise Http404


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


@transaction.atomic
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
) -> Activity:
    """Log a contact with a customer. An activity on a person at an organization is
    linked to that organization too (its primary one, unless given), so it shows in
    the organization's timeline."""
    require_can_log(actor)
    if person is None and organization is None:
        raise ValidationError({"person": [_("Choose a person or an organization.")]})
    require_visible(actor, person)
    require_visible(actor, organization)
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": [_("Choose a valid type.")]})
    if direction not in Direction.values:
        raise ValidationError({"direction": [_("Choose a valid direction.")]})
    if organization is None and person is not None and person.organization_id:
        organization = person.organization
    activity = Activity(
        kind=kind,
        direction=direction,
        occurred_at=occurred_at or timezone.now(),
        duration_minutes=duration_minutes,
        subject=clean_text(subject, field="subject", required=True, max_length=300),
        text=clean_text(text, field="text", required=False, max_length=ACTIVITY_TEXT_MAX_LENGTH),
        outcome=clean_text(outcome, field="outcome", required=False, max_length=300),
        person=person,
        organization=organization,
        author=actor,
        private=private,
    )
    activity.full_clean()
    activity.save()
    if internal_participants:
        activity.internal_participants.set(internal_participants)
    if external_participants:
        activity.external_participants.set(external_participants)
    audit.record(actor=actor, action=AuditAction.CREATE, instance=activity, via=via)
    return activity

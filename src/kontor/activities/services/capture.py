"""Trade-fair quick capture: one visitor in one step — the person and organization
(found or made), the trade-fair conversation and the follow-up task, in one
transaction. The page (views/capture.py) and the API (api/capture.py) both call
``capture_record``; ``capture_matches`` is what the page offers while the user types."""

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.activities.models import Activity, ActivityKind, Direction, Task
from kontor.activities.services.activities import activity_create, require_can_log, require_visible
from kontor.activities.services.tasks import task_create
from kontor.core import hooks
from kontor.core.normalize import company_key
from kontor.customers import duplicates, services
from kontor.customers.models import ContactRole, Organization, Person, Salutation
from kontor.customers.queries import mark_organization_visibility

FOLLOW_UP_DAYS = (1, 3, 7, 14)
DEFAULT_FOLLOW_UP_DAYS = 3
MAX_FOLLOW_UP_DAYS = 365
MATCH_LIMIT = 5

# The person's contact fields a capture fills when they are still empty on a known
# person; a filled one is never overwritten.
FILLABLE_PERSON_FIELDS = ("salutation", "first_name", "job_title", "email", "phone", "mobile")

# Field errors of the services the capture calls, keyed by the capture's own fields.
_ORGANIZATION_ERRORS = {"name": "company"}
_ACTIVITY_ERRORS = {"subject": "event", "text": "notes"}
_TASK_ERRORS = {"title": "follow_up", "due_date": "follow_up_days"}


@dataclass
class CaptureData:
    """What the user typed at the booth. ``person`` / ``organization`` are known
    records the user chose (None: make a new one from the typed values, if any)."""

    event: str
    last_name: str = ""
    first_name: str = ""
    salutation: str = ""
    company: str = ""
    job_title: str = ""
    email: str = ""
    phone: str = ""
    mobile: str = ""
    interests: str = ""
    notes: str = ""
    consent: bool = False
    follow_up: str = ""
    follow_up_days: int = DEFAULT_FOLLOW_UP_DAYS
    assignee: Any = None  # a user; None: the actor
    person: Person | None = None
    organization: Organization | None = None


@dataclass
class CaptureResult:
    person: Person
    organization: Organization | None
    activity: Activity
    task: Task
    created_person: bool
    created_organization: bool


@dataclass
class CaptureMatches:
    """Known records that look like the visitor, best first, and the one to preselect
    (a strong, unique match) or None."""

    persons: list[duplicates.Candidate] = field(default_factory=list)
    organizations: list[duplicates.Candidate] = field(default_factory=list)
    person: Person | None = None
    organization: Organization | None = None


def _strip(value: str | None) -> str:
    return (value or "").strip()


def capture_matches(*, user, data: CaptureData, limit: int = MATCH_LIMIT) -> CaptureMatches:
    """Persons and organizations ``user`` may see that look like ``data`` (the
    duplicate matching of kontor.customers.duplicates). A unique e-mail match is
    preselected; so is a unique organization of the same name, or else the
    preselected person's organization."""
    found = CaptureMatches()
    company, email = _strip(data.company), _strip(data.email).lower()
    if company:
        probe = {"name": company}
        if "@" in email:  # the mail domain finds the company by its website
            probe["email"] = email
        found.organizations = duplicates.candidates_for_data(
            user=user, model=Organization, data=probe, limit=limit
        )
        same_name = [c for c in found.organizations if "company_name" in c.reasons]
        if len(same_name) == 1:
            found.organization = same_name[0].record
    person_data = {
        "first_name": _strip(data.first_name),
        "last_name": _strip(data.last_name),
        "email": email,
        "phone": _strip(data.phone),
        "mobile": _strip(data.mobile),
    }
    # A name alone matches only at the same organization (there is no city at a fair).
    organization = data.organization or found.organization
    if organization is not None:
        person_data["organization"] = organization
    if any(v for k, v in person_data.items() if k != "first_name"):
        found.persons = duplicates.candidates_for_data(
            user=user, model=Person, data=person_data, limit=limit
        )
    # A candidate shows its employer only where the user may see it.
    mark_organization_visibility([c.record for c in found.persons], user=user)
    by_email = [c for c in found.persons if "email" in c.reasons]
    if len(by_email) == 1:
        found.person = by_email[0].record
        if found.organization is None and found.person.organization_visible:
            found.organization = found.person.organization
            if not any(c.record.pk == found.organization.pk for c in found.organizations):
                found.organizations.insert(0, duplicates.Candidate(found.organization, 100, []))
    return found


def _check(data: CaptureData) -> None:
    """Every input error at once, before anything is written."""
    errors: dict[str, list[str]] = {}
    if not _strip(data.event):
        errors["event"] = [_("Enter the trade fair or event.")]
    if data.person is None and not _strip(data.last_name) and not _strip(data.email):
        errors["last_name"] = [_("Enter a last name or an e-mail address.")]
    if data.salutation not in Salutation.values:
        errors["salutation"] = [_("Choose a valid salutation.")]
    days = data.follow_up_days
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= MAX_FOLLOW_UP_DAYS:
        errors["follow_up_days"] = [
            _("Enter a number of days from 0 to %(max)s.") % {"max": MAX_FOLLOW_UP_DAYS}
        ]
    if errors:
        raise ValidationError(errors)


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({names.get(k, k): v for k, v in exc.message_dict.items()})


def _name_from_email(email: str) -> tuple[str, str]:
    """A name for a visitor known only by e-mail: "max.mustermann@…" gives
    ("Max", "Mustermann"); "info@…" gives ("", "info")."""
    local = email.partition("@")[0]
    parts = [p for p in re.split(r"[._\-+]+", local) if p]
    if len(parts) >= 2 and all(p.isalpha() for p in parts[:2]):
        return parts[0].capitalize(), parts[-1].capitalize()
    return "", local[:100] or email[:100]


def _person_values(data: CaptureData) -> dict[str, str]:
    values = {
        "salutation": data.salutation,
        "first_name": _strip(data.first_name),
        "last_name": _strip(data.last_name),
        "job_title": _strip(data.job_title),
        "email": _strip(data.email),
        "phone": _strip(data.phone),
        "mobile": _strip(data.mobile),
    }
    if not values["last_name"]:
        first, last = _name_from_email(values["email"])
        values["last_name"] = last
        values["first_name"] = values["first_name"] or first
    return values


def _text(data: CaptureData) -> str:
    parts = []
    if _strip(data.interests):
        parts.append(_("Interests: %(interests)s") % {"interests": _strip(data.interests)})
    if _strip(data.notes):
        parts.append(_strip(data.notes))
    parts.append(
        _("Agrees to be contacted: yes") if data.consent else _("Agrees to be contacted: no")
    )
    return "\n\n".join(parts)


def _fill_person(person: Person, values: dict[str, str], organization, *, actor, via) -> Person:
    """Fill the empty contact fields of a known person (never overwrite one) and link
    them to ``organization`` if they are not yet."""
    data: dict[str, Any] = {
        name: values[name]
        for name in FILLABLE_PERSON_FIELDS
        if values.get(name) and not getattr(person, name)
    }
    email = values.get("email", "").lower()
    if (
        email
        and person.email
        and person.email.lower() != email
        and not person.email2
        and "email" not in data
    ):
        data["email2"] = values["email"]
    if organization is not None and person.organization_id is None:
        data["organization"] = organization  # person_update links them as well
    if data:
        person = services.person_update(person=person, actor=actor, data=data, via=via)
    if (
        organization is not None
        and person.organization_id != organization.pk
        and not ContactRole.objects.filter(person=person, organization=organization).exists()
    ):
        services.contact_role_set(
            person=person,
            organization=organization,
            actor=actor,
            job_title=values.get("job_title", ""),
            via=via,
        )
    return person


@transaction.atomic
def capture_record(*, actor, data: CaptureData, via: str = "ui") -> CaptureResult:
    """Record a trade-fair visitor: the person (and their organization) found or
    made, the trade-fair conversation (incoming) and the follow-up task, all or
    nothing. A known person's filled fields are kept; only empty ones are filled."""
    require_can_log(actor)
    _check(data)
    require_visible(actor, data.person)
    require_visible(actor, data.organization)
    values = _person_values(data)

    organization, created_organization = data.organization, False
    company = _strip(data.company)
    if organization is None and company:
        if data.person is not None and data.person.organization_id:
            current = data.person.organization
            if company_key(current.name) == company_key(company):
                organization = current
        if organization is None:
            try:
                organization = services.organization_create(
                    actor=actor, data={"name": company}, via=via
                )
            except ValidationError as exc:
                raise _renamed(exc, _ORGANIZATION_ERRORS) from exc
            created_organization = True

    person, created_person = data.person, False
    if person is None:
        person = services.person_create(
            actor=actor, data={**values, "organization": organization}, via=via
        )
        created_person = True
    else:
        person = _fill_person(person, values, organization, actor=actor, via=via)
    if organization is None and person.organization_id:
        organization = person.organization

    event = _strip(data.event)
    try:
        activity = activity_create(
            actor=actor,
            kind=ActivityKind.TRADE_FAIR,
            direction=Direction.INCOMING,
            subject=_("Trade fair: %(event)s") % {"event": event},
            text=_text(data),
            person=person,
            organization=organization,
            via=via,
        )
    except ValidationError as exc:
        raise _renamed(exc, _ACTIVITY_ERRORS) from exc
    title = (
        _strip(data.follow_up)
        or (_("Follow up on %(event)s: %(name)s") % {"event": event, "name": person.full_name})[
            :200
        ]
    )
    try:
        task = task_create(
            actor=actor,
            title=title,
            due_date=timezone.localdate() + timedelta(days=data.follow_up_days),
            assignee=data.assignee or actor,
            person=person,
            organization=organization,
            activity=activity,
            via=via,
        )
    except ValidationError as exc:
        raise _renamed(exc, _TASK_ERRORS) from exc
    result = CaptureResult(
        person=person,
        organization=organization,
        activity=activity,
        task=task,
        created_person=created_person,
        created_organization=created_organization,
    )
    # Processes with the trade-fair trigger start here (kontor.processes registers).
    hooks.trade_fair_captured.emit(result=result, actor=actor)
    return result


def resolve_choice(model, *, user, value, field: str):
    """A chosen known record by uuid among those ``user`` may see; None for "new".
    An unknown or invisible one is a field error, not a hint that it exists."""
    if value in (None, "", "new"):
        return None
    found = model.objects.visible_to(user).filter(uuid=value).first() if _is_uuid(value) else None
    if found is None:
        raise ValidationError({field: [_("Choose a record from the list or create a new one.")]})
    return found


def _is_uuid(value) -> bool:
    if isinstance(value, uuid.UUID):
        return True
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


__all__ = [
    "FOLLOW_UP_DAYS",
    "CaptureData",
    "CaptureMatches",
    "CaptureResult",
    "capture_matches",
    "capture_record",
    "resolve_choice",
]

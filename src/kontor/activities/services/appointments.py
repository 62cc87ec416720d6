"""Writes on appointments (Termine): create, change, cancel, the visit report and
the reminders. One function per use case, checked and audited.

Times. Forms and API clients may give local (naive) times; they are read in the
actor's time zone (``time_zone`` argument, else ``actor.time_zone``, else the active
one). A local time that does not exist because the clocks go forward (a DST gap,
e.g. 2027-03-28 02:30 in Europe/Berlin) is refused. A local time that exists twice
because the clocks go back (2027-10-31 02:30 in Europe/Berlin) means its FIRST
occurrence (still summer time, ``fold=0``) — the usual reading, and the one Python
and PostgreSQL pick. Aware times are taken as they are.

All-day appointments run from local midnight of the first day to local midnight
after the last day (the end is exclusive, as DTEND in iCalendar): a one-day
appointment on 2 June is stored as 2 June 00:00 → 3 June 00:00 in the organizer's
zone. Forms and the API give the first and the last day (dates, or datetimes whose
local date is taken).

Invitations. With ``send_invitations`` the appointment is mailed after the commit
(``kontor.activities.invitations``); every change that is mailed raises the
iCalendar SEQUENCE first.

Reminders. ``reminder_due_at`` is kept equal to ``starts_at - reminder_minutes`` on
every write; moving the start or changing the lead time re-arms the reminder.
``appointment_reminders_send`` (called by the periodic task) claims each due row
with a conditional UPDATE before it mails, so two workers never remind twice."""

import logging
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kontor.activities import invitations
from kontor.activities.models import ActivityKind, Appointment, AppointmentStatus
from kontor.activities.services.activities import (
    activity_create,
    clean_text,
    primary_organization,
    require_can_log,
    require_visible,
)
from kontor.core import audit, hooks
from kontor.core.access import EditConflict, sees
from kontor.core.models import AuditAction
from kontor.customers.models import Organization, Person

logger = logging.getLogger(__name__)

MAX_DURATION = timedelta(days=14)
# Four weeks: a reminder further ahead is almost certainly a typo.
MAX_REMINDER_MINUTES = 4 * 7 * 24 * 60
REPORT_KINDS = (ActivityKind.VISIT, ActivityKind.MEETING, ActivityKind.CALL)

# The fields appointment_update accepts in ``data``.
UPDATABLE = {
    "title",
    "location",
    "description",
    "starts_at",
    "ends_at",
    "all_day",
    "attendees",
    "external_attendees",
    "person",
    "organization",
    "reminder_minutes",
}


class AppointmentConflict(EditConflict):
    """Someone else saved the appointment after this edit started."""


# --- Time handling ------------------------------------------------------------------------


def zone_of(actor, time_zone=None) -> zoneinfo.ZoneInfo:
    """The zone local times are read in: the given one, the actor's, the active one."""
    name = time_zone or getattr(actor, "time_zone", None)
    if isinstance(name, zoneinfo.ZoneInfo):
        return name
    if name:
        try:
            return zoneinfo.ZoneInfo(str(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError(
                {"time_zone": [_("Unknown time zone: %(name)s.") % {"name": name}]}
            ) from exc
    return timezone.get_current_timezone()


OUT_OF_RANGE = gettext_lazy("Enter a time between the years 1 and 9999.")


def local_to_aware(value: datetime, tz: zoneinfo.ZoneInfo, *, field: str) -> datetime:
    """``value`` (naive, local to ``tz``) as an aware datetime. A time in a DST gap is
    refused; an ambiguous one is its first occurrence (fold=0)."""
    try:
        if timezone.is_aware(value):
            value.astimezone(UTC)  # stored in UTC: it must exist there
            return value
        aware = value.replace(tzinfo=tz, fold=0)
        # A time in the gap does not survive the round trip through UTC.
        round_trip = aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    except OverflowError:  # the first or last hours of the calendar
        raise ValidationError({field: [OUT_OF_RANGE]}) from None
    if round_trip != value.replace(fold=0):
        raise ValidationError(
            {
                field: [
                    _("This time does not exist in %(zone)s because the clocks change.")
                    % {"zone": tz.key}
                ]
            }
        )
    # In UTC: an aware time in a repeated hour compares unequal to everything in
    # another zone (PEP 495), which would confuse every comparison after this.
    return aware.astimezone(UTC)


def _local_midnight(day: date, tz: zoneinfo.ZoneInfo) -> datetime:
    # Where midnight itself falls into a gap (some zones switch at 00:00), the day
    # begins at the first moment that exists.
    naive = datetime.combine(day, time.min)
    return naive.replace(tzinfo=tz).astimezone(UTC)


def _day_of(value: date | datetime, tz: zoneinfo.ZoneInfo) -> date:
    if isinstance(value, datetime):
        return value.astimezone(tz).date() if timezone.is_aware(value) else value.date()
    return value


def _times(
    *, starts_at, ends_at, all_day: bool, tz: zoneinfo.ZoneInfo
) -> tuple[datetime, datetime]:
    """Validated (starts_at, ends_at), aware. For all-day, ``ends_at`` is the last day."""
    errors: dict[str, list[str]] = {}
    if starts_at is None:
        errors["starts_at"] = [_("This field is required.")]
    if ends_at is None:
        errors["ends_at"] = [_("This field is required.")]
    if errors:
        raise ValidationError(errors)
    if all_day:
        first, last = _day_of(starts_at, tz), _day_of(ends_at, tz)
        if last < first:
            raise ValidationError({"ends_at": [_("The last day is before the first day.")]})
        start, end = _local_midnight(first, tz), _local_midnight(last + timedelta(days=1), tz)
    else:
        if not isinstance(starts_at, datetime):
            starts_at = datetime.combine(starts_at, time.min)
        if not isinstance(ends_at, datetime):
            ends_at = datetime.combine(ends_at, time.min)
        start = local_to_aware(starts_at, tz, field="starts_at")
        end = local_to_aware(ends_at, tz, field="ends_at")
        if end < start:
            raise ValidationError({"ends_at": [_("The end is before the start.")]})
    if end - start > MAX_DURATION:
        raise ValidationError(
            {
                "ends_at": [
                    _("An appointment can last at most %(days)s days.")
                    % {"days": MAX_DURATION.days}
                ]
            }
        )
    return start, end


def _reminder_minutes(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        minutes = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"reminder_minutes": [_("Enter a whole number.")]}) from exc
    if not 0 <= minutes <= MAX_REMINDER_MINUTES:
        raise ValidationError(
            {
                "reminder_minutes": [
                    _("Enter a number of minutes between 0 and %(max)s.")
                    % {"max": MAX_REMINDER_MINUTES}
                ]
            }
        )
    return minutes


def _arm_reminder(appointment: Appointment, *, rearm: bool) -> None:
    if appointment.reminder_minutes is None:
        appointment.reminder_due_at = None
    else:
        appointment.reminder_due_at = appointment.starts_at - timedelta(
            minutes=appointment.reminder_minutes
        )
    if rearm:
        appointment.reminder_sent_at = None


# --- Checks -------------------------------------------------------------------------------


def _active_users(users) -> list:
    users = list(users or ())
    if any(not u.is_active for u in users):
        raise ValidationError(
            {"attendees": [_("Only active users can attend: %(names)s.") % {"names": ", ".join(
                str(u) for u in users if not u.is_active
            )}]}
        )  # fmt: skip
    return list(dict.fromkeys(users))


def _visible_persons(actor, persons) -> list[Person]:
    persons = list(dict.fromkeys(persons or ()))
    if actor is not None and persons:
        visible = set(
            Person.objects.visible_to(actor)
            .filter(pk__in=[p.pk for p in persons])
            .values_list("pk", flat=True)
        )
        if len(visible) != len(persons):
            raise ValidationError({"external_attendees": [_("Choose persons you may see.")]})
    return persons


def _require_editable(actor, appointment: Appointment) -> None:
    """Who may change an appointment: anyone with activities.edit who sees it."""
    require_can_log(actor)
    if actor is not None and not (
        Appointment.objects.visible_to(actor).filter(pk=appointment.pk).exists()
    ):
        raise Http404


def _send_invitations(appointment: Appointment, method: str) -> None:
    pk = appointment.pk
    # Sent by the worker: a mail server that is down neither slows nor breaks the save,
    # and the failed task is recorded.
    transaction.on_commit(
        lambda: invitations.appointment_invitations_task.enqueue(pk, method), robust=True
    )


def _m2m_names(values) -> list[str]:
    return sorted(str(v) for v in values)


# --- Writes -------------------------------------------------------------------------------


@transaction.atomic
def appointment_create(
    *,
    actor,
    title: str,
    starts_at: date | datetime,
    ends_at: date | datetime,
    all_day: bool = False,
    location: str = "",
    description: str = "",
    attendees: Any = (),
    external_attendees: Any = (),
    person: Person | None = None,
    organization: Organization | None = None,
    reminder_minutes: int | None = None,
    time_zone: str | zoneinfo.ZoneInfo | None = None,
    send_invitations: bool = False,
    via: str = "ui",
    context: dict | None = None,
) -> Appointment:
    """Plan an appointment organised by ``actor`` (its owner, in the actor's team).
    ``context`` (e.g. the process item it was planned for) is handed to the
    ``appointment_created`` hook."""
    require_can_log(actor)
    require_visible(actor, person)
    require_visible(actor, organization)
    tz = zone_of(actor, time_zone)
    start, end = _times(starts_at=starts_at, ends_at=ends_at, all_day=all_day, tz=tz)
    attendees = _active_users(attendees)
    external_attendees = _visible_persons(actor, external_attendees)
    if organization is None:
        organization = primary_organization(actor, person)
    appointment = Appointment(
        title=clean_text(title, field="title", required=True, max_length=200),
        location=clean_text(location, field="location", required=False, max_length=300),
        description=clean_text(description, field="description", required=False, max_length=20_000),
        starts_at=start,
        ends_at=end,
        all_day=all_day,
        person=person,
        organization=organization,
        reminder_minutes=_reminder_minutes(reminder_minutes),
        owner=actor,
        team=actor.primary_team if actor is not None else None,
    )
    _arm_reminder(appointment, rearm=True)
    appointment.full_clean()
    appointment.save()
    if attendees:
        appointment.attendees.set(attendees)
    if external_attendees:
        appointment.external_attendees.set(external_attendees)
    audit.record(
        actor=actor,
        action=AuditAction.CREATE,
        instance=appointment,
        related={
            "attendees": [[], _m2m_names(attendees)],
            "external_attendees": [[], _m2m_names(external_attendees)],
        },
        via=via,
    )
    if send_invitations:
        _send_invitations(appointment, "REQUEST")
    hooks.appointment_created.emit(appointment=appointment, actor=actor, context=context or {})
    return appointment


@transaction.atomic
def appointment_update(
    *,
    actor,
    appointment: Appointment,
    data: dict[str, Any],
    version: int | None = None,
    time_zone: str | zoneinfo.ZoneInfo | None = None,
    send_invitations: bool = False,
    via: str = "ui",
) -> Appointment:
    """Change the fields in ``data`` (see UPDATABLE). ``version`` is the one the
    editor read: if someone saved since, AppointmentConflict carries their version."""
    _require_editable(actor, appointment)
    unknown = set(data) - UPDATABLE
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    current = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if version is not None and current.version != version:
        raise AppointmentConflict(current)
    if current.status == AppointmentStatus.CANCELLED:
        raise ValidationError(
            {"status": [_("This appointment is cancelled; it can no longer be changed.")]}
        )
    before = audit.snapshot(current)
    old_start, old_minutes = current.starts_at, current.reminder_minutes
    tz = zone_of(actor, time_zone)
    all_day = data.get("all_day", current.all_day)
    if {"starts_at", "ends_at", "all_day"} & set(data):
        starts_at = data.get("starts_at", current.starts_at)
        ends_at = data.get("ends_at")
        if ends_at is None:
            # Kept end of an all-day appointment: its last day, not the midnight after.
            ends_at = current.ends_at - timedelta(days=1) if current.all_day else current.ends_at
        current.starts_at, current.ends_at = _times(
            starts_at=starts_at, ends_at=ends_at, all_day=all_day, tz=tz
        )
        current.all_day = all_day
    for name in ("title", "location", "description"):
        if name in data:
            limit = {"title": 200, "location": 300, "description": 20_000}[name]
            setattr(
                current,
                name,
                clean_text(data[name], field=name, required=name == "title", max_length=limit),
            )
    for name in ("person", "organization"):
        if name in data:
            if data[name] is not None and data[name] != getattr(current, name):
                require_visible(actor, data[name])
            setattr(current, name, data[name])
    if "reminder_minutes" in data:
        current.reminder_minutes = _reminder_minutes(data["reminder_minutes"])
    rearm = current.starts_at != old_start or current.reminder_minutes != old_minutes
    _arm_reminder(current, rearm=rearm)
    related = {}
    if "attendees" in data:
        attendees = _active_users(data["attendees"])
        related["attendees"] = [_m2m_names(current.attendees.all()), _m2m_names(attendees)]
        current.attendees.set(attendees)
    if "external_attendees" in data:
        persons = _visible_persons(actor, data["external_attendees"])
        attending = list(current.external_attendees.all())
        # Those the actor may not see were not shown to them (detail page, API): they
        # stay.
        persons += [p for p in attending if actor is not None and not sees(actor, p)]
        related["external_attendees"] = [_m2m_names(attending), _m2m_names(persons)]
        current.external_attendees.set(persons)
    if send_invitations:
        current.sequence += 1
    current.full_clean()
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        instance=current,
        before=before,
        related=related,
        via=via,
    )
    if send_invitations:
        _send_invitations(current, "REQUEST")
    return current


@transaction.atomic
def appointment_cancel(
    *,
    actor,
    appointment: Appointment,
    reason: str = "",
    send_invitations: bool = False,
    via: str = "ui",
) -> Appointment:
    """Cancel a planned appointment; the reason (optional) is added to its description.
    With ``send_invitations`` the attendees get a METHOD:CANCEL mail."""
    _require_editable(actor, appointment)
    current = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if current.status != AppointmentStatus.PLANNED:
        raise ValidationError({"status": [_("Only a planned appointment can be cancelled.")]})
    reason = clean_text(reason, field="reason", required=False, max_length=1000)
    before = audit.snapshot(current)
    current.status = AppointmentStatus.CANCELLED
    if reason:
        line = _("Cancelled: %(reason)s") % {"reason": reason}
        current.description = f"{current.description}\n\n{line}".strip()[:20_000]
    if send_invitations:
        current.sequence += 1
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    if send_invitations:
        _send_invitations(current, "CANCEL")
    return current


@transaction.atomic
def appointment_report(
    *,
    actor,
    appointment: Appointment,
    text: str = "",
    outcome: str = "",
    subject: str = "",
    kind: str = ActivityKind.VISIT,
    via: str = "ui",
):
    """Write the visit report: an activity on the appointment's customer (kind visit,
    meeting or call), at its start, lasting as long as it did, with the organizer and
    attendees as internal and the external attendees as external participants. The
    appointment is then held. Only one report per appointment."""
    _require_editable(actor, appointment)
    current = (
        # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins.
        Appointment.objects.select_for_update(of=("self",))
        .select_related("person", "organization", "owner")
        .get(pk=appointment.pk)
    )
    if current.report_id is not None:
        raise ValidationError(
            {"report": [_("A visit report has already been written for this appointment.")]}
        )
    if current.status == AppointmentStatus.CANCELLED:
        raise ValidationError(
            {"report": [_("This appointment was cancelled; it has no visit report.")]}
        )
    if current.person_id is None and current.organization_id is None:
        raise ValidationError(
            {
                "report": [
                    _(
                        "Link the appointment to a person or an organization first: "
                        "the report goes into that customer's contact history."
                    )
                ]
            }
        )
    if kind not in REPORT_KINDS:
        raise ValidationError({"kind": [_("Choose a valid type.")]})
    internal = ([current.owner] if current.owner_id else []) + list(current.attendees.all())
    external = list(current.external_attendees.all())
    # activity_create takes only participants the actor may see (they are named to
    # them); those of another team attended all the same and are added after.
    hidden = [p for p in external if actor is not None and not sees(actor, p)]
    activity = activity_create(
        actor=actor,
        kind=kind,
        subject=subject or current.title,
        person=current.person,
        organization=current.organization,
        occurred_at=current.starts_at,
        duration_minutes=int((current.ends_at - current.starts_at).total_seconds() // 60),
        text=text,
        outcome=outcome,
        internal_participants=list(dict.fromkeys(internal)),
        external_participants=[p for p in external if p not in hidden],
        via=via,
    )
    if hidden:
        activity.external_participants.add(*hidden)
    before = audit.snapshot(current)
    current.report = activity
    current.status = AppointmentStatus.HELD
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return activity


# --- Reminders ----------------------------------------------------------------------------


def _recipients(appointment: Appointment) -> list:
    users = ([appointment.owner] if appointment.owner_id else []) + list(
        appointment.attendees.all()
    )
    return [u for u in dict.fromkeys(users) if u.is_active and u.email]


def _reminder_message(appointment: Appointment, user, connection) -> mail.EmailMessage:
    try:
        tz = zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    language = user.language if user.language in dict(settings.LANGUAGES) else None
    with translation.override(language), timezone.override(tz):
        start = timezone.localtime(appointment.starts_at)
        end = timezone.localtime(appointment.ends_at)
        if appointment.all_day:
            when = date_format(start, "SHORT_DATE_FORMAT")
            last = (end - timedelta(days=1)).date()
            if last != start.date():
                when = f"{when} – {date_format(last, 'SHORT_DATE_FORMAT')}"
            when = f"{when} ({_('all day')})"
        else:
            when = (
                f"{date_format(start, 'SHORT_DATETIME_FORMAT')} – "
                f"{date_format(end, 'TIME_FORMAT' if end.date() == start.date() else 'SHORT_DATETIME_FORMAT')}"  # noqa: E501
            )
        subject = _("Reminder: %(title)s, %(when)s") % {"title": appointment.title, "when": when}
        lines = [
            _("Appointment: %(title)s") % {"title": appointment.title},
            _("When: %(when)s (%(zone)s)") % {"when": when, "zone": tz.key},
        ]
        if appointment.location:
            lines.append(_("Where: %(location)s") % {"location": appointment.location})
        customer = appointment.person or appointment.organization
        if customer is not None:
            lines.append(_("Customer: %(customer)s") % {"customer": customer})
        lines += ["", settings.SITE_URL + appointment.get_absolute_url()]
    return mail.EmailMessage(
        subject=subject.replace("\n", " "),
        body="\n".join(lines) + "\n",
        to=[user.email],
        connection=connection,
    )


def appointment_reminders_send(*, now: datetime | None = None) -> int:
    """Mail the reminders that are due (planned, due by ``now``, not yet sent) to the
    organizer and the internal attendees, each in their language and time zone.
    Returns the number of appointments reminded.

    Each appointment is claimed with ``UPDATE … WHERE reminder_sent_at IS NULL``
    (committed at once) before its mails go out: a second worker running at the same
    time finds nothing to claim, so nobody is reminded twice. The price: a mail server
    failing after the claim loses that reminder (it is logged) — at most once, never
    twice. Appointments already over when the worker gets to them are claimed silently."""
    now = now or timezone.now()
    due = list(
        Appointment.objects.filter(
            status=AppointmentStatus.PLANNED,
            reminder_due_at__lte=now,
            reminder_sent_at__isnull=True,
        )
        .order_by("reminder_due_at", "id")
        .values_list("pk", flat=True)[:500]
    )
    reminded = 0
    connection = None
    for pk in due:
        with transaction.atomic():
            claimed = Appointment.objects.filter(
                pk=pk,
                status=AppointmentStatus.PLANNED,
                reminder_sent_at__isnull=True,
            ).update(reminder_sent_at=now)
        if not claimed:
            continue
        appointment = (
            Appointment.objects.select_related("owner", "person", "organization")
            .prefetch_related("attendees")
            .get(pk=pk)
        )
        if appointment.ends_at < now:
            continue
        recipients = _recipients(appointment)
        if not recipients:
            continue
        if connection is None:
            connection = mail.get_connection()
        try:
            connection.send_messages(
                [_reminder_message(appointment, user, connection) for user in recipients]
            )
        except Exception:  # the mail server's errors are many; the claim stands
            logger.exception("Reminder for appointment %s could not be sent", pk)
            continue
        reminded += 1
    if connection is not None:
        connection.close()
    return reminded

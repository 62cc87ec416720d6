"""Writes on tasks and follow-ups (Wiedervorlagen): one function per use case.

Who may: a role with activities.edit, on tasks they can see (their own, their team's
by the role rule, and the ones they created for someone else). ``actor=None`` is
Kontor itself. Every write is audited; the reminder e-mails are sent from here too
(``task_reminders_send``, run by the worker every REMINDER_SECONDS)."""

import calendar
import logging
import zoneinfo
from datetime import MAXYEAR, date, datetime, time, timedelta
from itertools import groupby

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kontor.activities.models import Activity, Recurrence, Task, TaskPriority, TaskStatus
from kontor.activities.services.activities import clean_text, require_can_log, require_visible
from kontor.core import audit, hooks
from kontor.core.access import EditConflict
from kontor.core.models import AuditAction
from kontor.customers.models import Organization, Person

logger = logging.getLogger(__name__)

__all__ = [
    "EditConflict",
    "next_due_date",
    "task_create",
    "task_delete",
    "task_done",
    "task_reminders_send",
    "task_reopen",
    "task_update",
]

MAX_RECURRENCE_INTERVAL = 365
# A task with a due time is reminded this long before it is due (the worker looks
# every REMINDER_SECONDS, so the mail leaves between this and that much less).
TASK_REMINDER_LEAD = timedelta(minutes=15)

# The fields task_update may change.
EDITABLE_FIELDS = (
    "title",
    "description",
    "due_date",
    "due_time",
    "priority",
    "assignee",
    "recurrence",
    "recurrence_interval",
    "person",
    "organization",
)


# --- Checks ----------------------------------------------------------------------------


def _require_task_visible(actor, task: Task) -> None:
    if actor is not None and not Task.objects.visible_to(actor).filter(pk=task.pk).exists():
        raise Http404


def _clean_assignee(assignee):
    User = get_user_model()
    if assignee is None or not isinstance(assignee, User):
        raise ValidationError({"assignee": [_("Choose a user.")]})
    if not assignee.is_active:
        raise ValidationError({"assignee": [_("This user is no longer active.")]})
    return assignee


def _clean_fields(*, due_date, priority, recurrence, recurrence_interval) -> None:
    errors: dict[str, list[str]] = {}
    if not isinstance(due_date, date) or isinstance(due_date, datetime):
        errors["due_date"] = [_("Enter a due date.")]
    if priority not in TaskPriority.values:
        errors["priority"] = [_("Choose a valid priority.")]
    if recurrence not in Recurrence.values:
        errors["recurrence"] = [_("Choose a valid repetition.")]
    if (
        not isinstance(recurrence_interval, int)
        or isinstance(recurrence_interval, bool)
        or not 1 <= recurrence_interval <= MAX_RECURRENCE_INTERVAL
    ):
        errors["recurrence_interval"] = [
            _("Enter a whole number from 1 to %(max)s.") % {"max": MAX_RECURRENCE_INTERVAL}
        ]
    if errors:
        raise ValidationError(errors)


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the month's last day where it is shorter
    (Jan 31 + 1 month = Feb 28, or 29 in a leap year)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if year > MAXYEAR:
        raise OverflowError(f"year {year} is out of range")
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_due_date(day: date, recurrence: str, interval: int = 1) -> date | None:
    """The due date of the occurrence after one due on ``day``; None past the end of
    the calendar (year 9999), where the series ends (it answered 500)."""
    try:
        if recurrence == Recurrence.DAILY:
            return day + timedelta(days=interval)
        if recurrence == Recurrence.WEEKLY:
            return day + timedelta(weeks=interval)
        if recurrence == Recurrence.MONTHLY:
            return _add_months(day, interval)
        if recurrence == Recurrence.YEARLY:
            return _add_months(day, 12 * interval)
    except OverflowError:
        return None
    raise ValueError(f"Task does not repeat: {recurrence!r}")


# --- Writes ----------------------------------------------------------------------------


TASK_RELATIONS = ["owner", "team", "created_by", "person", "organization", "activity"]


@transaction.atomic
def task_create(
    *,
    actor,
    title: str,
    due_date: date,
    assignee=None,
    due_time: time | None = None,
    priority: str = TaskPriority.NORMAL,
    description: str = "",
    person: Person | None = None,
    organization: Organization | None = None,
    activity: Activity | None = None,
    recurrence: str = "",
    recurrence_interval: int = 1,
    via: str = "ui",
) -> Task:
    """Create a task for ``assignee`` (default: the actor; an active user), in the
    assignee's team."""
    require_can_log(actor)
    require_visible(actor, person)
    require_visible(actor, organization)
    assignee = _clean_assignee(assignee or actor)
    _clean_fields(
        due_date=due_date,
        priority=priority,
        recurrence=recurrence,
        recurrence_interval=recurrence_interval,
    )
    task = Task(
        title=clean_text(title, field="title", required=True, max_length=200),
        description=clean_text(description, field="description", required=False, max_length=20_000),
        due_date=due_date,
        due_time=due_time,
        priority=priority,
        owner=assignee,
        team=assignee.primary_team,
        created_by=actor,
        person=person,
        organization=organization,
        activity=activity,
        recurrence=recurrence,
        recurrence_interval=recurrence_interval,
    )
    # The related records are the ones handed in (already read) and a fresh uuid4 is
    # unique: re-checking them costs five queries per task (a process step creates
    # several); the database's foreign keys still guard a record deleted meanwhile.
    task.full_clean(exclude=TASK_RELATIONS, validate_unique=False)
    task.save()
    audit.record(actor=actor, action=AuditAction.CREATE, instance=task, via=via)
    return task


def _locked(actor, task: Task) -> Task:
    """The task's current row, locked; checked that the actor may change it."""
    require_can_log(actor)
    current = Task.objects.select_for_update().filter(pk=task.pk).first()
    if current is None:
        raise Http404
    _require_task_visible(actor, current)
    return current


@transaction.atomic
def task_update(
    *, actor, task: Task, data: dict, version: int | None = None, via: str = "ui"
) -> Task:
    """Change the fields in ``data`` (names from EDITABLE_FIELDS; ``assignee`` is a
    user). ``version`` is the one the edit started from: EditConflict if someone
    saved in between. A task given to another assignee moves to their team, and a
    changed due date or time is reminded again."""
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    current = _locked(actor, task)
    if version is not None and current.version != version:
        raise EditConflict(current)
    before = audit.snapshot(current)
    data = dict(data)
    if "person" in data:
        require_visible(actor, data["person"])
    if "organization" in data:
        require_visible(actor, data["organization"])
    if "assignee" in data:
        assignee = _clean_assignee(data.pop("assignee"))
        if assignee.pk != current.owner_id:
            current.owner = assignee
            current.team = assignee.primary_team
    if "title" in data:
        data["title"] = clean_text(data["title"], field="title", required=True, max_length=200)
    if "description" in data:
        data["description"] = clean_text(
            data["description"], field="description", required=False, max_length=20_000
        )
    if ("due_date" in data and data["due_date"] != current.due_date) or (
        "due_time" in data and data["due_time"] != current.due_time
    ):
        current.reminder_sent_at = None
    for name, value in data.items():
        setattr(current, name, value)
    _clean_fields(
        due_date=current.due_date,
        priority=current.priority,
        recurrence=current.recurrence,
        recurrence_interval=current.recurrence_interval,
    )
    current.full_clean()
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current


@transaction.atomic
def task_done(*, actor, task: Task, via: str = "ui") -> Task:
    """Mark the task done. A repeating task gets its next occurrence, once: due
    ``recurrence_interval`` days/weeks/months/years later, linked through
    ``previous`` (done, reopened and done again makes no second one)."""
    current = _locked(actor, task)
    if current.status == TaskStatus.DONE:
        return current
    before = audit.snapshot(current)
    current.status = TaskStatus.DONE
    current.done_at = timezone.now()
    current.done_by = actor
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    next_due = (
        next_due_date(current.due_date, current.recurrence, current.recurrence_interval)
        if current.recurrence
        else None
    )
    if next_due is not None and not Task.objects.filter(previous=current).exists():
        following = Task(
            title=current.title,
            description=current.description,
            due_date=next_due,
            due_time=current.due_time,
            priority=current.priority,
            owner=current.owner,
            team=current.team,
            created_by=current.created_by,
            person=current.person,
            organization=current.organization,
            activity=current.activity,
            recurrence=current.recurrence,
            recurrence_interval=current.recurrence_interval,
            previous=current,
            custom=current.custom,
        )
        following.full_clean()
        following.save()
        audit.record(actor=actor, action=AuditAction.CREATE, instance=following, via=via)
    hooks.task_done.emit(task=current, actor=actor)
    return current


@transaction.atomic
def task_reopen(*, actor, task: Task, via: str = "ui") -> Task:
    """Open a done task again (its next occurrence, if any, stays)."""
    current = _locked(actor, task)
    if current.status == TaskStatus.OPEN:
        return current
    before = audit.snapshot(current)
    current.status = TaskStatus.OPEN
    current.done_at = None
    current.done_by = None
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    hooks.task_reopened.emit(task=current, actor=actor)
    return current


@transaction.atomic
def task_delete(*, actor, task: Task, via: str = "ui") -> None:
    current = _locked(actor, task)
    audit.record(actor=actor, action=AuditAction.DELETE, instance=current, via=via)
    current.delete()


# --- Reminder e-mails ------------------------------------------------------------------


def _zone(user) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _reminder_due(task: Task, now: datetime) -> bool:
    """Due today in the assignee's time zone; with a due time, from
    TASK_REMINDER_LEAD before it."""
    zone = _zone(task.owner)
    if task.due_date != now.astimezone(zone).date():
        return False
    if task.due_time is None:
        return True
    due_at = datetime.combine(task.due_date, task.due_time, tzinfo=zone)
    return due_at - TASK_REMINDER_LEAD <= now


def _claim(task: Task, now: datetime) -> bool:
    # A conditional UPDATE outside any transaction: of two workers looking at the
    # same row, exactly one changes it and sends.
    return bool(
        Task.objects.filter(
            pk=task.pk, status=TaskStatus.OPEN, reminder_sent_at__isnull=True
        ).update(reminder_sent_at=now)
    )


def _reminder_message(user, tasks: list[Task]) -> EmailMessage:
    with (
        translation.override(user.language or settings.LANGUAGE_CODE),
        timezone.override(_zone(user)),
    ):
        subject = ngettext(
            "Kontor: %(count)s task due today", "Kontor: %(count)s tasks due today", len(tasks)
        ) % {"count": len(tasks)}
        body = render_to_string(
            "activities/task_reminder_email.txt",
            {
                "user": user,
                "tasks": [(task, settings.SITE_URL + task.get_absolute_url()) for task in tasks],
                "my_day_url": settings.SITE_URL + reverse("activities:my_day"),
            },
        )
    return EmailMessage(subject=subject, body=body, to=[user.email])


def task_reminders_send(*, now: datetime | None = None) -> int:
    """Send each assignee one e-mail listing their open tasks due today that were
    not reminded yet, in the assignee's language; returns the number of e-mails.
    Idempotent and safe with several workers: each task is claimed (reminder_sent_at
    set) before the mail goes out, and released again if sending fails."""
    now = now or timezone.now()
    # Today somewhere on earth: from yesterday to tomorrow in UTC.
    utc_today = now.astimezone(zoneinfo.ZoneInfo("UTC")).date()
    candidates = (
        Task.objects.open()
        .filter(
            reminder_sent_at__isnull=True,
            due_date__range=(utc_today - timedelta(days=1), utc_today + timedelta(days=1)),
            owner__is_active=True,
        )
        .exclude(owner__email="")
        .select_related("owner", "person", "organization")
        .order_by("owner_id", "due_date", "due_time", "id")
    )
    sent = 0
    for _owner_id, group in groupby(candidates, key=lambda t: t.owner_id):
        claimed = [t for t in group if _reminder_due(t, now) and _claim(t, now)]
        if not claimed:
            continue
        user = claimed[0].owner
        try:
            _reminder_message(user, claimed).send()
        except Exception:
            logger.exception("Task reminder to %s failed; will retry", user.get_username())
            Task.objects.filter(pk__in=[t.pk for t in claimed], reminder_sent_at=now).update(
                reminder_sent_at=None
            )
            continue
        sent += 1
    return sent

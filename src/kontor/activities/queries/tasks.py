"""Reads on tasks for the pages and the API: My day, the task list with its filters,
a customer's open tasks, and today's appointments of a user."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from kontor.activities.models import Appointment, AppointmentStatus, Task, TaskStatus
from kontor.core.access import get_object_for_user, team_ids
from kontor.customers.models import Organization, Person

TASK_ORDER = ("due_date", "id")
UPCOMING_DAYS = 7
TASK_RELATED = ("owner", "person", "organization")


def task_get(*, user, uuid) -> Task:
    """The task if ``user`` may see it; 404 otherwise."""
    return get_object_for_user(
        Task, user, uuid=uuid, related=(*TASK_RELATED, "created_by", "done_by", "previous")
    )


def tasks_visible(*, user) -> QuerySet[Task]:
    return Task.objects.visible_to(user).select_related(*TASK_RELATED)


def task_list(
    *,
    user,
    assignee=None,
    status: str = "",
    due_after: date | None = None,
    due_before: date | None = None,
    priority: str = "",
    person: Person | None = None,
    organization: Organization | None = None,
) -> QuerySet[Task]:
    """Visible tasks, filtered. ``assignee``: "me", "team" (anyone in the user's
    teams), a user, or None for everyone visible. ``due_after``/``due_before`` are
    inclusive."""
    tasks = tasks_visible(user=user)
    if assignee == "me":
        tasks = tasks.filter(owner=user)
    elif assignee == "team":
        members = get_user_model().objects.filter(teams__in=team_ids(user)).values("pk")
        tasks = tasks.filter(Q(owner=user) | Q(owner__in=members))
    elif assignee is not None:
        tasks = tasks.filter(owner=assignee)
    if status:
        tasks = tasks.filter(status=status)
    if due_after:
        tasks = tasks.filter(due_date__gte=due_after)
    if due_before:
        tasks = tasks.filter(due_date__lte=due_before)
    if priority:
        tasks = tasks.filter(priority=priority)
    if person is not None:
        tasks = tasks.filter(person=person)
    if organization is not None:
        tasks = tasks.filter(organization=organization)
    return tasks


def customer_open_tasks(*, user, customer: Person | Organization) -> QuerySet[Task]:
    """Open tasks linked to the customer that ``user`` may see, soonest first."""
    kind = "person" if isinstance(customer, Person) else "organization"
    return tasks_visible(user=user).open().filter(**{kind: customer}).order_by(*TASK_ORDER)


@dataclass
class MyDay:
    today: date
    overdue: list[Task] = field(default_factory=list)
    due_today: list[Task] = field(default_factory=list)
    upcoming: list[Task] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Start and end of ``day`` in the active (the user's) time zone, as aware datetimes."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def my_day(*, user, today: date | None = None) -> MyDay:
    """The user's own tasks — overdue, due today, due in the next days (open ones,
    and those done today so they can be undone) — and today's appointments the user
    organizes or attends. Two queries, whatever the numbers. Only what names customers
    the user may see (Task/Appointment.objects.customers_visible_to)."""
    today = today or timezone.localdate()
    start, end = day_bounds(today)
    tasks = (
        Task.objects.customers_visible_to(user)
        .filter(owner=user, due_date__lte=today + timedelta(days=UPCOMING_DAYS))
        .filter(Q(status=TaskStatus.OPEN) | Q(status=TaskStatus.DONE, done_at__gte=start))
        .select_related("person", "organization")
        .order_by("due_date", "due_time", "id")
    )
    day = MyDay(today=today)
    for task in tasks:
        if task.due_date < today:
            day.overdue.append(task)
        elif task.due_date == today:
            day.due_today.append(task)
        else:
            day.upcoming.append(task)
    day.appointments = list(appointments_of_day(user=user, start=start, end=end))
    return day


def appointments_of_day(*, user, start: datetime, end: datetime) -> QuerySet[Appointment]:
    """Appointments starting in [start, end) that ``user`` organizes or attends,
    not cancelled, of customers they may see."""
    mine = Appointment.objects.filter(Q(owner=user) | Q(attendees=user)).values("pk")
    return (
        Appointment.objects.customers_visible_to(user)
        .filter(pk__in=mine, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("person", "organization")
        .order_by("starts_at", "id")
    )


@dataclass(frozen=True)
class CustomerOption:
    label: str
    kind: str  # "person" | "organization"
    record: Person | Organization

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.record.uuid}"


CUSTOMER_OPTIONS = 10


def customer_options(*, user, q: str) -> list[CustomerOption]:
    """Customers the user may see whose name starts with ``q``, for the customer
    field of the task forms (an option's value is "<kind>:<uuid>")."""
    q = (q or "").strip()
    if len(q) < 2:
        return []
    organizations = Organization.objects.visible_to(user).filter(name__istartswith=q)[
        :CUSTOMER_OPTIONS
    ]
    persons = (
        Person.objects.visible_to(user)
        .filter(Q(last_name__istartswith=q) | Q(first_name__istartswith=q))
        .order_by("last_name", "first_name", "id")[:CUSTOMER_OPTIONS]
    )
    options = [
        CustomerOption(f"{o.name}{f' ({o.city})' if o.city else ''}", "organization", o)
        for o in organizations
    ]
    options += [
        CustomerOption(f"{p.full_name}{f' ({p.city})' if p.city else ''}", "person", p)
        for p in persons
    ]
    return options


def customer_get(*, user, value: str) -> Person | Organization | None:
    """The customer named by an option value ("person:<uuid>" or
    "organization:<uuid>") if the user may see it; None otherwise."""
    kind, _sep, uuid = (value or "").partition(":")
    model = {"person": Person, "organization": Organization}.get(kind)
    if model is None:
        return None
    return model.objects.visible_to(user).filter(uuid=uuid).first() if _is_uuid(uuid) else None


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except (ValueError, TypeError):
        return False
    return True

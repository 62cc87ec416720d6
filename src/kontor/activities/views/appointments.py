"""The calendar (/calendar/: day, week and month of a user or a team), the
appointment pages (new, detail, edit, cancel, visit report) and the appointments
section of the 360° customer page. Thin: the rules live in the services and queries."""

import calendar as pycalendar
import uuid as uuid_module
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kontor.activities.forms.appointments import (
    AppointmentForm,
    CancelForm,
    ReportForm,
    local_initial,
)
from kontor.activities.models import Activity, Appointment, AppointmentStatus
from kontor.activities.queries import appointments as queries
from kontor.activities.services import appointments as services
from kontor.core.access import sees, user_can
from kontor.core.models import Team
from kontor.core.navigation import safe_next
from kontor.core.permissions import Capability
from kontor.customers.models import Organization, Person

VIEWS = ("day", "week", "month")
DAY_HOURS = (7, 19)  # the hours a day shows at least (7:00 to 19:59)
COLOURS = 8  # who-0 … who-7 in calendar.css


def _require(request: HttpRequest, capability: str) -> None:
    if not user_can(request.user, capability):
        raise PermissionDenied


# --- Calendar -----------------------------------------------------------------------------


@dataclass
class Item:
    appointment: Appointment
    start: datetime  # local
    end: datetime  # local
    colour: int = 0
    who: str = ""


@dataclass
class Day:
    date: date
    today: bool
    in_month: bool = True
    all_day: list[Item] = field(default_factory=list)
    timed: list[Item] = field(default_factory=list)
    hours: list = field(default_factory=list)  # [(hour, [Item])] for the grid

    @property
    def items(self) -> list[Item]:
        return self.all_day + self.timed


# The days a calendar page may show: a month grid reaches a week beyond its month and
# links to the months around it, which must be dates too (year 1 and 9999 overflowed).
FIRST_DAY, LAST_DAY = date(1, 2, 1), date(9999, 11, 30)


def _parse_date(value: str | None) -> date:
    try:
        day = date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        return timezone.localdate()
    return min(max(day, FIRST_DAY), LAST_DAY)


def _range(view: str, day: date) -> tuple[date, date, date, date]:
    """(first day shown, day after the last shown, previous, next) for ``view``."""
    if view == "day":
        return day, day + timedelta(days=1), day - timedelta(days=1), day + timedelta(days=1)
    if view == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=7), day - timedelta(days=7), day + timedelta(days=7)
    first = day.replace(day=1)
    last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
    start = first - timedelta(days=first.weekday())
    end = last + timedelta(days=7 - last.weekday())
    previous = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    return start, end, previous, following


def _midnight(day: date) -> datetime:
    tz = timezone.get_current_timezone()
    return datetime.combine(day, time.min).replace(tzinfo=tz).astimezone(tz)


def _who(request: HttpRequest):
    """The people whose calendar is shown: a team's active members, or one user."""
    users = get_user_model().objects.filter(is_active=True)
    team = None
    person = request.user
    if request.GET.get("team"):
        value = request.GET["team"]
        team = Team.objects.filter(uuid=value).first() if _is_uuid(value) else None
        if team is None:
            raise Http404
        people = list(users.filter(teams=team).order_by("last_name", "first_name", "username"))
        return team, None, people
    if request.GET.get("user"):
        person = users.filter(username=request.GET["user"]).first()
        if person is None:
            raise Http404
    return team, person, [person]


def _is_uuid(value: str) -> bool:
    try:
        uuid_module.UUID(value)
    except ValueError:
        return False
    return True


def _days(view: str, day: date, first: date, after: date, rows: list[Appointment], people):
    today = timezone.localdate()
    days = []
    current = first
    while current < after:
        days.append(Day(date=current, today=current == today, in_month=current.month == day.month))
        current += timedelta(days=1)
    by_date = {d.date: d for d in days}
    colour = {u.pk: i % COLOURS for i, u in enumerate(people)}
    names = {u.pk: str(u) for u in people}
    for appointment in rows:
        start = timezone.localtime(appointment.starts_at)
        end = timezone.localtime(appointment.ends_at)
        involved = [appointment.owner_id] + [u.pk for u in appointment.attendees.all()]
        mine = [pk for pk in involved if pk in colour]
        item = Item(
            appointment,
            start,
            end,
            colour=colour[mine[0]] if mine else 0,
            who=", ".join(names[pk] for pk in dict.fromkeys(mine)),
        )
        last = (end - timedelta(microseconds=1)).date() if end > start else start.date()
        spans = appointment.all_day or last != start.date()
        current = start.date()
        while current <= last:
            target = by_date.get(current)
            if target is not None:
                (target.all_day if spans else target.timed).append(item)
            current += timedelta(days=1)
    if view != "month":
        low, high = DAY_HOURS
        for d in days:
            for item in d.timed:
                low, high = min(low, item.start.hour), max(high, item.start.hour)
        for d in days:
            d.hours = [(h, [i for i in d.timed if i.start.hour == h]) for h in range(low, high + 1)]
    return days


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else "week"
    day = _parse_date(request.GET.get("date"))
    team, person, people = _who(request)
    first, after, previous, following = _range(view, day)
    rows = (
        queries.calendar_appointments(
            user=request.user, start=_midnight(first), end=_midnight(after), people=people
        )
        if people
        else []
    )
    days = _days(view, day, first, after, rows, people)
    keep = {"team": str(team.uuid)} if team else {}
    if person is not None and person != request.user:
        keep = {"user": person.get_username()}

    def link(**params) -> str:
        return "?" + urlencode({**keep, "view": view, **params})

    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    context = {
        "view": view,
        "day": day,
        "first": first,
        "last": after - timedelta(days=1),
        "days": days,
        "weeks": weeks,
        "hours": [h for h, _items in days[0].hours] if view != "month" else [],
        "rows_by_hour": _rows_by_hour(days) if view != "month" else [],
        "team": team,
        "person": person,
        "people": people if team else [],
        "legend": [(u, i % COLOURS) for i, u in enumerate(people)] if team else [],
        "users": queries.calendar_people(),
        "teams": Team.objects.order_by("name"),
        "previous_url": link(date=previous.isoformat()),
        "next_url": link(date=following.isoformat()),
        "today_url": link(date=timezone.localdate().isoformat()),
        "view_urls": [
            (v, label, "?" + urlencode({**keep, "view": v, "date": day.isoformat()}))
            for v, label in (("day", _("Day")), ("week", _("Week")), ("month", _("Month")))
        ],
        "day_url": "?" + urlencode({**keep, "view": "day"}),
        "new_url": reverse("activities:appointment_create"),
        "can_create": user_can(request.user, Capability.ACTIVITIES_EDIT),
        "count": len(rows),
    }
    response = render(request, "activities/calendar.html", context)
    return response


def _rows_by_hour(days: list[Day]) -> list[tuple[int, list[tuple[Day, list[Item]]]]]:
    """The grid row by row: for each hour, each day's items starting in it."""
    if not days:
        return []
    rows = []
    for index, (hour, _items) in enumerate(days[0].hours):
        rows.append((hour, [(d, d.hours[index][1]) for d in days]))
    return rows


# --- Appointment pages --------------------------------------------------------------------


def _initial_from_query(request: HttpRequest) -> dict:
    """Prefill from the calendar (?start=2027-03-29T10:00 or ?date=2027-03-29), the
    customer page (?person=<uuid> / ?organization=<uuid>) and a process step
    (?title=…&duration=<minutes>)."""
    initial: dict = {"reminder_minutes": "15"}
    start = None
    if request.GET.get("start"):
        try:
            start = datetime.strptime(request.GET["start"][:16], "%Y-%m-%dT%H:%M")
        except ValueError:
            start = None
    elif request.GET.get("date"):
        try:
            start = datetime.combine(date.fromisoformat(request.GET["date"]), time(9))
        except ValueError:
            start = None
    if start is not None and not FIRST_DAY <= start.date() <= LAST_DAY:
        start = None  # its end (up to a day later) would overflow
    if start is None:
        now = timezone.localtime()
        start = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        start = start.replace(tzinfo=None)
    initial["starts_at"] = start.strftime("%Y-%m-%dT%H:%M")
    duration = request.GET.get("duration", "")
    minutes = int(duration) if duration.isdecimal() and duration.isascii() else 60
    minutes = minutes if 0 < minutes <= 24 * 60 else 60
    initial["ends_at"] = (start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")
    if request.GET.get("title"):
        initial["title"] = request.GET["title"][:200]
    for name in ("person", "organization"):
        if request.GET.get(name) and _is_uuid(request.GET[name]):
            initial[name] = request.GET[name]
    return initial


def _form_page(request, form, appointment, status=200, conflict=None):
    return render(
        request,
        "activities/appointment_form.html",
        {
            "form": form,
            "appointment": appointment,
            "conflict": conflict,
            "zone": timezone.get_current_timezone_name(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def appointment_create(request: HttpRequest) -> HttpResponse:
    _require(request, Capability.ACTIVITIES_EDIT)
    if request.method == "GET":
        form = AppointmentForm(user=request.user, initial=_initial_from_query(request))
        return _form_page(request, form, None)
    form = AppointmentForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.service_data()
        try:
            appointment = services.appointment_create(
                actor=request.user,
                time_zone=timezone.get_current_timezone(),
                send_invitations=form.cleaned_data["send_invitations"],
                # The form posts back to its own URL: ?process_item=… came with it
                # (see the appointment_created hook).
                context=(
                    {"process_item": request.GET["process_item"]}
                    if request.GET.get("process_item")
                    else None
                ),
                **data,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Appointment saved."))
            # Scheduled for a process item: back to the process (its ``next``).
            return redirect(safe_next(request, appointment.get_absolute_url()))
    return _form_page(request, form, None, status=422)


@login_required
@require_http_methods(["GET", "POST"])
def appointment_edit(request: HttpRequest, uuid) -> HttpResponse:
    _require(request, Capability.ACTIVITIES_EDIT)
    appointment = queries.appointment_get(user=request.user, uuid=uuid)
    if appointment.status == AppointmentStatus.CANCELLED:
        messages.error(request, _("This appointment is cancelled; it can no longer be changed."))
        return redirect(appointment.get_absolute_url())
    if request.method == "GET":
        initial = {
            "title": appointment.title,
            "location": appointment.location,
            "starts_at": local_initial(appointment.starts_at),
            "ends_at": local_initial(appointment.ends_at, all_day=appointment.all_day, end=True),
            "all_day": appointment.all_day,
            "attendees": [u.pk for u in appointment.attendees.all()],
            "external_attendees": [p.pk for p in appointment.external_attendees.all()],
            "person": appointment.person.uuid if appointment.person else None,
            "organization": appointment.organization.uuid if appointment.organization else None,
            "reminder_minutes": appointment.reminder_minutes,
            "description": appointment.description,
            "version": appointment.version,
        }
        form = AppointmentForm(user=request.user, appointment=appointment, initial=initial)
        return _form_page(request, form, appointment)
    form = AppointmentForm(request.POST, user=request.user, appointment=appointment)
    conflict = None
    if form.is_valid():
        try:
            saved = services.appointment_update(
                actor=request.user,
                appointment=appointment,
                data=form.service_data(),
                version=form.cleaned_data.get("version"),
                time_zone=timezone.get_current_timezone(),
                send_invitations=form.cleaned_data["send_invitations"],
            )
        except services.AppointmentConflict as exc:
            conflict = exc.current
            # Saving again means "keep mine": the form now carries their version.
            form.data = form.data.copy()
            form.data["version"] = exc.current.version
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(saved.get_absolute_url())
    return _form_page(
        request, form, appointment, status=409 if conflict else 422, conflict=conflict
    )


@login_required
def appointment_detail(request: HttpRequest, uuid) -> HttpResponse:
    appointment = queries.appointment_get(user=request.user, uuid=uuid)
    can_edit = user_can(request.user, Capability.ACTIVITIES_EDIT)
    planned = appointment.status == AppointmentStatus.PLANNED
    return render(
        request,
        "activities/appointment_detail.html",
        {
            "appointment": appointment,
            "attendees": list(appointment.attendees.all()),
            # Attending does not make a person one of its customers: only those the
            # user may see are named.
            "external_attendees": [
                p for p in appointment.external_attendees.all() if sees(request.user, p)
            ],
            "last_day": timezone.localtime(appointment.ends_at) - timedelta(days=1),
            "can_edit": can_edit and appointment.status != AppointmentStatus.CANCELLED,
            "can_cancel": can_edit and planned,
            "can_report": can_edit
            and appointment.report_id is None
            and appointment.status != AppointmentStatus.CANCELLED,
            "report_url": _report_url(request.user, appointment),
        },
    )


def _report_url(user, appointment: Appointment) -> str | None:
    """The link to the visit report, if ``user`` may see it (it may be private)."""
    if appointment.report_id is None:
        return None
    if not Activity.objects.visible_to(user).filter(pk=appointment.report_id).exists():
        return None
    try:
        return appointment.report.get_absolute_url()
    except NoReverseMatch:  # the activity pages come with the contact history
        return None


@login_required
@require_http_methods(["GET", "POST"])
def appointment_cancel(request: HttpRequest, uuid) -> HttpResponse:
    _require(request, Capability.ACTIVITIES_EDIT)
    appointment = queries.appointment_get(user=request.user, uuid=uuid)
    form = CancelForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_cancel(
                actor=request.user,
                appointment=appointment,
                reason=form.cleaned_data["reason"],
                send_invitations=form.cleaned_data["send_invitations"],
            )
        except ValidationError as exc:
            for errors in exc.message_dict.values():
                for error in errors:
                    form.add_error(None, error)
        else:
            messages.success(request, _("Appointment cancelled."))
            return redirect(appointment.get_absolute_url())
    if request.method == "POST":
        status = 422
    return render(
        request,
        "activities/appointment_cancel.html",
        {"form": form, "appointment": appointment},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def appointment_report(request: HttpRequest, uuid) -> HttpResponse:
    _require(request, Capability.ACTIVITIES_EDIT)
    appointment = queries.appointment_get(user=request.user, uuid=uuid)
    form = ReportForm(request.POST or None, initial={"subject": appointment.title})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_report(
                actor=request.user, appointment=appointment, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Visit report saved."))
            return redirect(appointment.get_absolute_url())
    if request.method == "POST":
        status = 422
    return render(
        request,
        "activities/appointment_report.html",
        {"form": form, "appointment": appointment},
        status=status,
    )


# --- The 360° section ---------------------------------------------------------------------


@login_required
def customer_appointments(request: HttpRequest, uuid) -> HttpResponse:
    """The appointments section of a person's or an organization's page (their uuids
    never collide)."""
    _require(request, Capability.CUSTOMERS_VIEW)
    customer = (
        Person.objects.visible_to(request.user).filter(uuid=uuid).first()
        or Organization.objects.visible_to(request.user).filter(uuid=uuid).first()
    )
    if customer is None:
        raise Http404
    upcoming, past = queries.customer_appointments(user=request.user, customer=customer)
    kind = "person" if isinstance(customer, Person) else "organization"
    response = render(
        request,
        "activities/includes/customer_appointments.html#body",
        {
            "record": customer,
            "upcoming": upcoming,
            "past": past,
            "can_create": user_can(request.user, Capability.ACTIVITIES_EDIT),
            "new_url": reverse("activities:appointment_create")
            + "?"
            + urlencode({kind: str(customer.uuid)}),
        },
    )
    patch_vary_headers(response, ("HX-Request",))
    return response


urlpatterns: list = [
    path("calendar/", calendar, name="calendar"),
    path("calendar/appointments/new/", appointment_create, name="appointment_create"),
    path("calendar/appointments/<uuid:uuid>/", appointment_detail, name="appointment_detail"),
    path("calendar/appointments/<uuid:uuid>/edit/", appointment_edit, name="appointment_edit"),
    path(
        "calendar/appointments/<uuid:uuid>/cancel/", appointment_cancel, name="appointment_cancel"
    ),
    path(
        "calendar/appointments/<uuid:uuid>/report/", appointment_report, name="appointment_report"
    ),
    path(
        "calendar/customers/<uuid:uuid>/appointments/",
        customer_appointments,
        name="customer_appointments",
    ),
]

"""iCalendar (RFC 5545) for appointments and tasks: the events of the personal
calendar feed and the calendar object mailed as an invitation (iTIP, RFC 5546).

Everything is written in UTC (``...Z``), so no VTIMEZONE is needed; all-day entries
are DATE values. The UID of an entry is ``<uuid>@kontor`` wherever it appears, so a
client that holds an appointment from the feed and from an invitation sees one entry.

Only building lives here; which rows go in is decided by the callers
(services/feeds.py, invitations.py)."""

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable

from django.conf import settings
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress

from kontor.activities.models import Appointment, AppointmentStatus, Task

PRODID = "-//Kontor//Kontor CRM//DE"
# How often subscribers should fetch the feed again (RFC 7986 and the older
# Microsoft property that Outlook reads).
REFRESH_INTERVAL = dt.timedelta(minutes=15)
PUBLISHED_TTL = "PT15M"

METHOD_REQUEST = "REQUEST"
METHOD_CANCEL = "CANCEL"
METHODS = (METHOD_REQUEST, METHOD_CANCEL)

# Parameter values (CN) cannot hold double quotes or control characters.
_UNSAFE_PARAM = re.compile(r'["\x00-\x1f\x7f]')


def uid_of(record: Appointment | Task) -> str:
    return f"{record.uuid}@kontor"


def absolute_url(record: Appointment | Task) -> str:
    """SITE_URL + the record's page; empty if the page is not routed (yet)."""
    try:
        return settings.SITE_URL + record.get_absolute_url()
    except NoReverseMatch:
        return ""


def _zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def all_day_dates(appointment: Appointment) -> tuple[dt.date, dt.date]:
    """First day and the day after the last (DTEND of a DATE event is exclusive).

    An all-day appointment is stored as UTC instants; its days are those of the
    organizer's time zone (where it was entered). An end at local midnight belongs
    to the day before; otherwise the end's day is included."""
    owner = appointment.owner
    zone = _zone(owner.time_zone if owner is not None else None)
    start = timezone.localtime(appointment.starts_at, zone)
    end = timezone.localtime(appointment.ends_at, zone)
    first = start.date()
    if end.time() == dt.time(0, 0) and end.date() > first:
        return first, end.date()
    return first, max(end.date(), first) + dt.timedelta(days=1)


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def customer_names(appointment: Appointment | Task) -> list[str]:
    names = []
    if appointment.person_id and appointment.person is not None:
        names.append(str(appointment.person))
    if appointment.organization_id and appointment.organization is not None:
        names.append(str(appointment.organization))
    return names


def _add_times(event: Event, appointment: Appointment) -> None:
    if appointment.all_day:
        first, after_last = all_day_dates(appointment)
        event.add("dtstart", first)
        event.add("dtend", after_last)
    else:
        event.add("dtstart", _utc(appointment.starts_at))
        event.add("dtend", _utc(max(appointment.ends_at, appointment.starts_at)))


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    name = _UNSAFE_PARAM.sub("", name).strip()
    if name:
        address.params["CN"] = name
    return address


def appointment_event(appointment: Appointment) -> Event:
    """The appointment as it appears in the user's feed: DTSTAMP is the last change,
    not the time of the request, so an unchanged calendar gives the same bytes (and
    the same ETag) on every poll. Expects ``person`` and ``organization`` loaded."""
    event = Event()
    event.add("uid", uid_of(appointment))
    event.add("dtstamp", _utc(appointment.updated_at))
    event.add("last-modified", _utc(appointment.updated_at))
    _add_times(event, appointment)
    event.add("summary", appointment.title)
    if appointment.location:
        event.add("location", appointment.location)
    lines = []
    if appointment.description:
        lines.append(appointment.description)
    names = customer_names(appointment)
    if names:
        lines.append(_("Customer: %(names)s") % {"names": ", ".join(names)})
    url = absolute_url(appointment)
    if url:
        lines.append(url)
        event.add("url", url)
    if lines:
        event.add("description", "\n\n".join(lines))
    event.add("sequence", appointment.sequence)
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def task_event(task: Task) -> Event:
    """An open task as an all-day entry on its due date that does not block time.
    Call it with the user's language active (the "Task:" prefix)."""
    event = Event()
    event.add("uid", uid_of(task))
    event.add("dtstamp", _utc(task.updated_at))
    event.add("last-modified", _utc(task.updated_at))
    event.add("dtstart", task.due_date)
    event.add("dtend", task.due_date + dt.timedelta(days=1))
    event.add("summary", _("Task: %(title)s") % {"title": task.title})
    lines = []
    if task.due_time is not None:
        lines.append(_("Due at %(time)s") % {"time": task.due_time.strftime("%H:%M")})
    if task.description:
        lines.append(task.description)
    names = customer_names(task)
    if names:
        lines.append(_("Customer: %(names)s") % {"names": ", ".join(names)})
    url = absolute_url(task)
    if url:
        lines.append(url)
        event.add("url", url)
    if lines:
        event.add("description", "\n\n".join(lines))
    event.add("sequence", 0)
    event.add("status", "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    return event


def feed_calendar(
    *, name: str, appointments: Iterable[Appointment], tasks: Iterable[Task]
) -> Calendar:
    """The subscribed calendar. Call it with the feed owner's language active."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", PUBLISHED_TTL)
    for appointment in appointments:
        calendar.add_component(appointment_event(appointment))
    for task in tasks:
        calendar.add_component(task_event(task))
    return calendar


def organizer_address(appointment: Appointment) -> vCalAddress:
    """The organizer (the owner); Kontor's own sender address if the owner has no
    e-mail (iTIP needs an ORGANIZER)."""
    from email.utils import parseaddr

    owner = appointment.owner
    if owner is not None and owner.email:
        return _address(owner.email, str(owner))
    name, email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return _address(email or "kontor@localhost", name or "Kontor")


def invitation_calendar(
    appointment: Appointment, *, method: str, attendees: Iterable[tuple[str, str]]
) -> Calendar:
    """METHOD:REQUEST (or CANCEL) for ``attendees`` (e-mail, name). The same UID as
    in the feed; SEQUENCE from the appointment, which the caller raises on changes.

    The internal link and the customer are left out: the same file goes to people
    outside the company."""
    if method not in METHODS:
        raise ValueError(f"Unknown iTIP method {method!r}")
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", uid_of(appointment))
    # With a METHOD, DTSTAMP is when this message was made (RFC 5545 3.8.7.2).
    event.add("dtstamp", _utc(timezone.now()))
    event.add("last-modified", _utc(appointment.updated_at))
    _add_times(event, appointment)
    event.add("summary", appointment.title)
    if appointment.location:
        event.add("location", appointment.location)
    if appointment.description:
        event.add("description", appointment.description)
    event.add("sequence", appointment.sequence)
    cancelled = method == METHOD_CANCEL or appointment.status == AppointmentStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("organizer", organizer_address(appointment))
    for email, name in attendees:
        address = _address(email, name)
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["ROLE"] = "REQ-PARTICIPANT"
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE"
        event.add("attendee", address)
    calendar.add_component(event)
    return calendar

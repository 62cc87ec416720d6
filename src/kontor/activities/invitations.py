"""Invitations: an appointment mailed to its attendees with an .ics file attached.

One e-mail per recipient (each in their own language and time zone), all carrying
the same iTIP calendar object: METHOD:REQUEST for a new or changed appointment,
METHOD:CANCEL when it is called off. The UID is the one of the feed; the SEQUENCE is
the appointment's, raised by the caller whenever a change is mailed, so calendar
programs replace the earlier version instead of adding a second entry.

Callers queue ``appointment_invitations_task`` with ``transaction.on_commit``: the
appointment is saved whether or not the mail server answers, and a failure is
recorded by django-tasks (and logged)."""

import datetime as dt
import logging
import smtplib
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from kontor.activities import ical
from kontor.activities.models import Appointment

logger = logging.getLogger(__name__)

ATTACHMENT_NAME = "invite.ics"
# The language of external persons without one.
EXTERNAL_LANGUAGE = "de"


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    language: str
    time_zone: str
    # Users get a link to the appointment in Kontor; external persons cannot log in.
    internal: bool


class _CalendarEmail(EmailMultiAlternatives):
    """Django takes a content type as "type/subtype" only; the iTIP parts need
    parameters (``text/calendar; method=REQUEST; charset=utf-8``), which are set on
    the MIME part here. The charset is Django's own."""

    def _create_mime_attachment(self, content, mimetype):
        base, _sep, params = mimetype.partition(";")
        part = super()._create_mime_attachment(content, base.strip())
        for param in params.split(";"):
            key, _sep, value = param.strip().partition("=")
            if key and key.lower() != "charset":
                part.set_param(key, value)
        return part


def _language(code: str | None) -> str:
    return code if code in dict(settings.LANGUAGES) else EXTERNAL_LANGUAGE


def _time_zone(name: str | None) -> str:
    try:
        zoneinfo.ZoneInfo(name or "")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return settings.TIME_ZONE
    return name


def recipients_of(appointment: Appointment) -> list[Recipient]:
    """Internal attendees (active users) and external attendees with an e-mail
    address, each address once; the organizer is not invited to their own
    appointment."""
    organizer = (appointment.owner.email or "").lower() if appointment.owner else ""
    seen = {organizer} if organizer else set()
    result = []
    for user in appointment.attendees.all():
        email = (user.email or "").strip()
        if not email or not user.is_active or email.lower() in seen:
            continue
        seen.add(email.lower())
        result.append(
            Recipient(
                email=email,
                name=str(user),
                language=_language(user.language),
                time_zone=_time_zone(user.time_zone),
                internal=True,
            )
        )
    for person in appointment.external_attendees.all():
        email = (person.email or "").strip()
        if not email or email.lower() in seen:
            continue
        seen.add(email.lower())
        result.append(
            Recipient(
                email=email,
                name=str(person),
                language=_language(person.language),
                time_zone=settings.TIME_ZONE,
                internal=False,
            )
        )
    return result


def _when(appointment: Appointment, zone_name: str) -> str:
    """The date and time in the recipient's zone and the active language."""
    if appointment.all_day:
        first, after_last = ical.all_day_dates(appointment)
        last = after_last - dt.timedelta(days=1)
        if first == last:
            return formats.date_format(first, "DATE_FORMAT")
        return " – ".join(formats.date_format(day, "DATE_FORMAT") for day in (first, last))
    zone = zoneinfo.ZoneInfo(zone_name)
    start = timezone.localtime(appointment.starts_at, zone)
    end = timezone.localtime(appointment.ends_at, zone)
    if start.date() == end.date():
        end_text = formats.time_format(end, "TIME_FORMAT")
    else:
        end_text = formats.date_format(end, "DATETIME_FORMAT")
    return f"{formats.date_format(start, 'DATETIME_FORMAT')} – {end_text} ({zone_name})"


def _subject(appointment: Appointment, method: str) -> str:
    if method == ical.METHOD_CANCEL:
        return _("Cancelled: %(title)s") % {"title": appointment.title}
    return _("Invitation: %(title)s") % {"title": appointment.title}


def _body(appointment: Appointment, method: str, recipient: Recipient) -> str:
    organizer = str(appointment.owner) if appointment.owner else "Kontor"
    if method == ical.METHOD_CANCEL:
        intro = _("%(organizer)s has cancelled this appointment:") % {"organizer": organizer}
    else:
        intro = _("%(organizer)s invites you to this appointment:") % {"organizer": organizer}
    lines = [
        intro,
        "",
        appointment.title,
        _("When: %(when)s") % {"when": _when(appointment, recipient.time_zone)},
    ]
    if appointment.location:
        lines.append(_("Where: %(location)s") % {"location": appointment.location})
    if appointment.description:
        lines += ["", appointment.description]
    if recipient.internal:
        url = ical.absolute_url(appointment)
        if url:
            lines += ["", url]
    if method != ical.METHOD_CANCEL:
        lines += [
            "",
            _("The attached invitation (invite.ics) adds the appointment to your calendar."),
        ]
    return "\n".join(lines) + "\n"


def _message(
    appointment: Appointment, method: str, recipient: Recipient, ics: str
) -> EmailMultiAlternatives:
    content_type = f"text/calendar; method={method}; charset=utf-8"
    with translation.override(recipient.language):
        message = _CalendarEmail(
            subject=_subject(appointment, method),
            body=_body(appointment, method, recipient),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[recipient.email],
            reply_to=[appointment.owner.email]
            if appointment.owner and appointment.owner.email
            else None,
        )
    # As an alternative part, Outlook and Gmail show the invitation with their
    # accept/decline buttons; as an attachment, every other program can open it.
    message.attach_alternative(ics, content_type)
    message.attach(ATTACHMENT_NAME, ics, content_type)
    return message


def appointment_invitations_send(*, appointment_id: int, method: str = "REQUEST") -> None:
    """Mail the appointment to its attendees (internal users and external persons with
    an e-mail address) with a METHOD:REQUEST (or CANCEL) iCalendar attachment.
    Call it from ``transaction.on_commit`` (or queue ``appointment_invitations_task``).
    A deleted appointment sends nothing. SMTP errors propagate."""
    method = (method or "").upper()
    if method not in ical.METHODS:
        raise ValueError(f"Unknown iTIP method {method!r}")
    appointment = (
        Appointment.objects.select_related("owner")
        .prefetch_related("attendees", "external_attendees")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None:
        return
    recipients = recipients_of(appointment)
    if not recipients:
        return
    calendar = ical.invitation_calendar(
        appointment, method=method, attendees=[(r.email, r.name) for r in recipients]
    )
    ics = calendar.to_ical().decode()
    messages = [_message(appointment, method, recipient, ics) for recipient in recipients]
    with get_connection(fail_silently=False) as connection:
        connection.send_messages(messages)


@task()
def appointment_invitations_task(appointment_id: int, method: str = "REQUEST") -> None:
    """The background form of ``appointment_invitations_send``. A mail server that
    fails is logged and re-raised, so django-tasks records the task as failed; the
    appointment itself was committed before and stays."""
    try:
        appointment_invitations_send(appointment_id=appointment_id, method=method)
    except (smtplib.SMTPException, OSError):
        logger.exception(
            "Invitations for appointment %s (%s) could not be sent", appointment_id, method
        )
        raise

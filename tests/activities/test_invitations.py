"""Invitations by e-mail, through a real SMTP server (the smtp_sink fixture); the
attached calendar is parsed back with icalendar."""

import datetime as dt
import logging
import zoneinfo

import pytest
from django.conf import settings
from django.db import transaction
from django_tasks import TaskResultStatus
from icalendar import Calendar

from kontor.activities.invitations import appointment_invitations_send, appointment_invitations_task
from kontor.activities.models import Appointment, AppointmentStatus
from tests.activities.factories import AppointmentFactory
from tests.core.factories import UserFactory
from tests.customers.factories import PersonFactory, owned_by
from tests.mailsink import _free_port

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# Wednesday 2030-03-13, 10:00–11:30 in Berlin (CET, UTC+1)
START = dt.datetime(2030, 3, 13, 10, 0, tzinfo=BERLIN)


def meeting(owner, *, attendees=(), external=(), **kwargs) -> Appointment:
    item = AppointmentFactory(
        owner=owner,
        title="Jahresgespräch",
        location="Köln",
        description="Preise für 2031",
        starts_at=START,
        ends_at=START + dt.timedelta(minutes=90),
        **kwargs,
    )
    item.attendees.set(attendees)
    item.external_attendees.set(external)
    return item


def by_recipient(smtp_sink) -> dict:
    return {message["To"]: message for message in smtp_sink.messages}


def attachment(message):
    (part,) = [p for p in message.iter_attachments() if p.get_filename() == "invite.ics"]
    return part


def calendar_of(message) -> Calendar:
    return Calendar.from_ical(attachment(message).get_content())


def test_a_request_goes_to_each_attendee_with_an_ics(owner, teammate, smtp_sink):
    teammate.time_zone = "America/New_York"
    teammate.save()
    customer = owned_by(PersonFactory, owner, first_name="Eva", last_name="Schulz")
    customer.email = "eva@kunde.de"
    customer.save()
    item = meeting(owner, attendees=[teammate], external=[customer], sequence=0)
    appointment_invitations_send(appointment_id=item.pk, method="REQUEST")
    messages = by_recipient(smtp_sink)
    assert set(messages) == {teammate.email, "eva@kunde.de"}
    assert sorted(rcpt for e in smtp_sink.envelopes for rcpt in e.rcpt_tos) == sorted(
        [teammate.email, "eva@kunde.de"]
    )
    for message in messages.values():
        assert message["From"] == settings.DEFAULT_FROM_EMAIL
        assert message["Reply-To"] == owner.email
        part = attachment(message)
        assert part.get_content_type() == "text/calendar"
        assert part.get_param("method") == "REQUEST"
        assert part.get_content_charset() == "utf-8"
        # also the calendar alternative Outlook shows with its buttons
        (alternative,) = [
            p
            for p in message.walk()
            if p.get_content_type() == "text/calendar" and p.get_filename() is None
        ]
        assert alternative.get_param("method") == "REQUEST"
        assert Calendar.from_ical(alternative.get_content()) == calendar_of(message)

    calendar = calendar_of(messages[teammate.email])
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{item.uuid}@kontor"
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Jahresgespräch"
    assert str(event["LOCATION"]) == "Köln"
    assert event["DTSTART"].dt == dt.datetime(2030, 3, 13, 9, 0, tzinfo=dt.UTC)
    assert event["DTEND"].dt == dt.datetime(2030, 3, 13, 10, 30, tzinfo=dt.UTC)
    assert str(event["ORGANIZER"]) == f"mailto:{owner.email}"
    assert event["ORGANIZER"].params["CN"] == str(owner)
    attendees = {str(a): a.params for a in event["ATTENDEE"]}
    assert set(attendees) == {f"mailto:{teammate.email}", "mailto:eva@kunde.de"}
    for params in attendees.values():
        assert (params["ROLE"], params["PARTSTAT"], params["RSVP"]) == (
            "REQ-PARTICIPANT",
            "NEEDS-ACTION",
            "TRUE",
        )
    assert attendees["mailto:eva@kunde.de"]["CN"] == "Eva Schulz"


def test_each_recipient_reads_it_in_their_language_and_time_zone(owner, teammate, smtp_sink):
    teammate.time_zone = "America/New_York"
    teammate.language = "en"
    teammate.save()
    customer = owned_by(PersonFactory, owner, email="eva@kunde.de", language="")
    item = meeting(owner, attendees=[teammate], external=[customer])
    appointment_invitations_send(appointment_id=item.pk, method="REQUEST")
    messages = by_recipient(smtp_sink)
    english = messages[teammate.email]
    assert english["Subject"] == "Invitation: Jahresgespräch"
    text = english.get_body(("plain",)).get_content()
    # 10:00 in Berlin is 05:00 in New York
    assert "March 13, 2030, 5 a.m. – 6:30 a.m. (America/New_York)" in text
    assert item.get_absolute_url() in text
    # external persons: German, the company's time zone, no link into Kontor
    german = messages["eva@kunde.de"].get_body(("plain",)).get_content()
    assert "13. März 2030 10:00 – 11:30 (Europe/Berlin)" in german
    assert item.get_absolute_url() not in german


def test_recipients_without_address_the_organizer_and_inactive_users_are_skipped(
    owner, teammate, smtp_sink
):
    no_mail = UserFactory(username="nomail", email="")
    gone = UserFactory(username="gone", is_active=False)
    person = owned_by(PersonFactory, owner, email="")
    item = meeting(owner, attendees=[owner, teammate, no_mail, gone], external=[person])
    appointment_invitations_send(appointment_id=item.pk, method="REQUEST")
    assert [m["To"] for m in smtp_sink.messages] == [teammate.email]
    (event,) = calendar_of(smtp_sink.messages[0]).walk("VEVENT")
    attendee = event["ATTENDEE"]
    assert str(attendee) == f"mailto:{teammate.email}"


def test_a_cancellation_keeps_the_uid_and_carries_the_sequence(owner, teammate, smtp_sink):
    item = meeting(owner, attendees=[teammate], sequence=2, status=AppointmentStatus.CANCELLED)
    appointment_invitations_send(appointment_id=item.pk, method="CANCEL")
    (message,) = smtp_sink.messages
    assert message["Subject"] == "Cancelled: Jahresgespräch"
    part = attachment(message)
    assert part.get_param("method") == "CANCEL"
    calendar = calendar_of(message)
    assert str(calendar["METHOD"]) == "CANCEL"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{item.uuid}@kontor"
    assert event["SEQUENCE"] == 2
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["ATTENDEE"]) == f"mailto:{teammate.email}"


def test_an_all_day_appointment_is_sent_as_dates(owner, teammate, smtp_sink):
    owner.time_zone = "Europe/Berlin"
    owner.save()
    item = AppointmentFactory(
        owner=owner,
        title="Messe",
        all_day=True,
        starts_at=dt.datetime(2030, 5, 6, tzinfo=BERLIN),
        ends_at=dt.datetime(2030, 5, 8, tzinfo=BERLIN),
    )
    item.attendees.set([teammate])
    appointment_invitations_send(appointment_id=item.pk, method="REQUEST")
    (event,) = calendar_of(smtp_sink.messages[0]).walk("VEVENT")
    assert (event["DTSTART"].dt, event["DTEND"].dt) == (dt.date(2030, 5, 6), dt.date(2030, 5, 8))
    text = smtp_sink.messages[0].get_body(("plain",)).get_content()
    assert "May 6, 2030 – May 7, 2030" in text


def test_a_deleted_appointment_sends_nothing(owner, teammate, smtp_sink):
    item = meeting(owner, attendees=[teammate])
    pk = item.pk
    item.delete()
    appointment_invitations_send(appointment_id=pk, method="REQUEST")
    appointment_invitations_send(appointment_id=10**9, method="CANCEL")
    assert smtp_sink.messages == []


def test_the_task_sends_after_the_commit(
    owner, teammate, smtp_sink, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = IMMEDIATE
    item = meeting(owner, attendees=[teammate])
    with django_capture_on_commit_callbacks(execute=True):
        transaction.on_commit(lambda: appointment_invitations_task.enqueue(item.pk, "REQUEST"))
        assert smtp_sink.messages == []
    assert [m["To"] for m in smtp_sink.messages] == [teammate.email]


def test_a_mail_server_that_is_down_fails_the_task_and_keeps_the_appointment(
    owner, teammate, settings, caplog
):
    settings.TASKS = IMMEDIATE
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _free_port()  # nobody listens
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2
    item = meeting(owner, attendees=[teammate])
    with caplog.at_level(logging.ERROR, logger="kontor.activities.invitations"):
        result = appointment_invitations_task.enqueue(item.pk, "REQUEST")
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class_path == "builtins.ConnectionRefusedError"
    assert f"Invitations for appointment {item.pk} (REQUEST) could not be sent" in caplog.text
    assert Appointment.objects.filter(pk=item.pk, title="Jahresgespräch").exists()


def test_an_unknown_method_is_refused(owner):
    item = meeting(owner)
    with pytest.raises(ValueError, match="PUBLISH"):
        appointment_invitations_send(appointment_id=item.pk, method="PUBLISH")

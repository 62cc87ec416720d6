"""The issue's "done when", end to end through the public entry points: a sales rep logs
a call and a visit report, schedules a follow-up, sees it in the calendar feed, mails
the customer from a template with a personal sentence from the notes, and the reply
lands in the customer's history by itself (a real SMTP server and a real IMAP server)."""

import datetime as dt
from email.utils import format_datetime
from urllib.parse import urlsplit

import icalendar
import pytest
from django.utils import timezone

from kontor.activities.models import ActivityKind, Direction
from kontor.activities.queries.activities import timeline
from kontor.activities.services import appointments, feeds, tasks
from kontor.activities.services.activities import activity_create
from kontor.customers.notes import note_create
from kontor.mail import imap
from kontor.mail.models import ImapSecurity, Mailbox, MailboxKind, MailStatus
from kontor.mail.services import outgoing
from kontor.mail.services import templates as mail_templates
from tests.mail.dovecot import build_mail, customer, dovecot  # noqa: F401

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def test_a_reps_day_with_a_customer(
    client,
    owner,
    team,
    settings,
    smtp_sink,
    dovecot,  # noqa: F811 (the fixture, imported above)
    django_capture_on_commit_callbacks,
):
    settings.TASKS = IMMEDIATE
    erika = customer(owner, first_name="Erika", last_name="Muster", email="erika@kunde.de")
    note_create(actor=owner, customer=erika, text="Schöne Grüße an Ihre Töchter Anna und Maria!")

    # a call and a visit report
    activity_create(
        actor=owner,
        kind=ActivityKind.CALL,
        direction=Direction.OUTGOING,
        subject="Bedarf besprochen",
        person=erika,
    )
    start = timezone.now() - dt.timedelta(hours=3)
    visit = appointments.appointment_create(
        actor=owner,
        title="Besuch bei Muster",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        person=erika,
    )
    appointments.appointment_report(
        actor=owner, appointment=visit, text="Maschine vorgeführt.", outcome="Angebot erwünscht"
    )

    # a follow-up, visible in the calendar feed
    follow_up = tasks.task_create(
        actor=owner,
        title="Angebot nachfassen",
        due_date=timezone.localdate() + dt.timedelta(days=3),
        person=erika,
    )
    _feed, url = feeds.feed_create(actor=owner)
    feed = client.get(urlsplit(url).path)  # no login: the secret URL is the key
    calendar = icalendar.Calendar.from_ical(feed.content)
    summaries = [str(event["SUMMARY"]) for event in calendar.walk("VEVENT")]
    assert any(follow_up.title in summary for summary in summaries)

    # an e-mail from a template with the personal sentence from the notes
    template = mail_templates.template_create(
        actor=owner,
        name="Nachfassen",
        subject="Ihr Angebot, {{ person.last_name }}",
        body="{{ person.letter_salutation }},\n\nanbei das Angebot.\n\n{{ notes.latest }}",
    )
    with django_capture_on_commit_callbacks(execute=True):
        sent = outgoing.mail_send(
            actor=owner,
            person=erika,
            subject=template.subject,
            body=template.body,
            template=template,
        )
    sent.refresh_from_db()
    assert sent.status == MailStatus.SENT
    (delivered,) = smtp_sink.messages
    assert delivered["To"] == "erika@kunde.de"
    assert delivered["Subject"] == "Ihr Angebot, Muster"
    body = delivered.get_body(("plain",)).get_content()
    assert "Sehr geehrte Frau Muster" in body or "Guten Tag Erika Muster" in body
    assert "Anna und Maria" in body

    # the customer's reply, from another address, found by In-Reply-To
    mailbox = Mailbox.objects.create(
        name="Vertrieb",
        email_address="vertrieb@firma.de",
        kind=MailboxKind.TEAM,
        team=team,
        host=dovecot.host,
        port=dovecot.port,
        security=ImapSecurity.NONE,
        username=dovecot.user,
        password=dovecot.password,
    )
    dovecot.append(
        build_mail(
            sender="Erika Muster <e.muster@privat.example>",
            subject="Re: Ihr Angebot, Muster",
            text="Danke, wir bestellen.",
            message_id="<reply-1@privat.example>",
            in_reply_to=delivered["Message-ID"],
            date=format_datetime(timezone.now() + dt.timedelta(minutes=5)),
        )
    )
    assert imap.poll_mailbox(mailbox).ok

    history = list(timeline(user=owner, person=erika).order_by("occurred_at", "id"))
    assert [(a.kind, a.direction) for a in history] == [
        (ActivityKind.VISIT, Direction.NONE),
        (ActivityKind.CALL, Direction.OUTGOING),
        (ActivityKind.EMAIL, Direction.OUTGOING),
        (ActivityKind.EMAIL, Direction.INCOMING),
    ]
    assert history[-1].subject == "Re: Ihr Angebot, Muster"

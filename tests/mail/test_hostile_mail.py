"""Every e-mail Kontor sends, with a hostile value in every text field it uses
(issue 12, item 1): the e-mail written from Kontor (merge fields), invitations,
appointment and task reminders, overdue and escalation warnings, the set-password
and the password-reset link.

Kontor's mails are plain text (text/plain, and text/calendar for invitations). A
text part is never parsed as HTML by a mail program, so user text is in it as typed
(escaped, a reader would see ``&lt;``). What must not happen: an HTML part carrying
user markup, or a header broken by a line break. Should an HTML part ever be added,
it is held to the pages' rule (nothing from the user becomes an element or an hx-*
attribute)."""

import datetime as dt
import zoneinfo

import pytest
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django.utils.html import escape

from kontor.activities.invitations import appointment_invitations_send
from kontor.activities.models import Appointment
from kontor.activities.services.appointments import appointment_reminders_send
from kontor.activities.services.tasks import task_reminders_send
from kontor.core.permissions import RoleCode
from kontor.core.services import user_send_password_link
from kontor.customers.models import Organization, Person
from kontor.mail import merge, outbox
from kontor.mail.services import outgoing
from kontor.processes.deadlines import deadline_escalations_send, deadline_warnings_send
from kontor.processes.models import (
    ActivityType,
    Process,
    ProcessVersion,
    Step,
    StepActivity,
    StepRun,
    StepRunStatus,
    Transition,
    VersionStatus,
)
from kontor.processes.services import instances as engine
from tests.activities.factories import AppointmentFactory, TaskFactory
from tests.conftest import role
from tests.core.factories import UserFactory
from tests.customers.factories import OrganizationFactory, PersonFactory, owned_by
from tests.mail.hostile import HOSTILE, MARKER, assert_inert, hostile_values

pytestmark = pytest.mark.django_db

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
PLAIN_PARTS = {"text/plain", "text/calendar"}


def hostile_user(username: str, team, code=RoleCode.SALES_REP):
    return UserFactory(
        username=username,
        first_name=HOSTILE,
        last_name=HOSTILE,
        role=role(code),
        teams=[team],
    )


@pytest.fixture
def sender(team):
    return hostile_user("sender", team, RoleCode.SALES_MANAGER)


@pytest.fixture
def customer(sender):
    organization = owned_by(OrganizationFactory, sender, **hostile_values(Organization))
    values = hostile_values(Person)
    values.update(salutation="ms", email="kundin@kunde.example", organization=organization)
    return owned_by(PersonFactory, sender, **values)


def assert_plain_and_inert(messages) -> None:
    """Each message: only text/plain and text/calendar parts (and attachments), no
    line break in a header, user text present (the test reached it) and, in any HTML
    part, nothing from the user as markup."""
    assert messages, "no e-mail was sent"
    for message in messages:
        mime = message.message()
        assert "\n" not in message.subject and "\r" not in message.subject
        texts = []
        for part in mime.walk():
            if part.is_multipart():
                continue
            content_type = part.get_content_type()
            text = part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
            if content_type == "text/html":
                assert_inert(text, require_disable=False)
            elif part.get_filename() is None:
                assert content_type in PLAIN_PARTS, content_type
            if content_type == "text/calendar":
                # No HTML description for the calendar program to render.
                assert "X-ALT-DESC" not in text
            texts.append(text)
        assert MARKER in message.subject + "".join(texts), "the hostile value is not in it"


def test_the_mail_written_from_kontor(sender, customer, mailoutbox, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    names = [name for group in merge.available_fields(actor=sender) for name, _l in group.fields]
    body = "\n".join(f"{{{{ {name} }}}}" for name in names)
    message = outgoing.mail_send(
        actor=sender, person=customer, subject=HOSTILE + "{{ person.last_name }}", body=body
    )
    assert outbox.outbox_send.call(message.pk) == "sent"
    assert_plain_and_inert(mailoutbox)


@pytest.fixture
def appointment(sender, team, customer):
    guest = hostile_user("guest", team)
    start = timezone.now() + dt.timedelta(hours=2)
    item = AppointmentFactory(
        owner=sender,
        title=HOSTILE,
        location=HOSTILE,
        description=HOSTILE,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        person=customer,
        reminder_minutes=180,
        reminder_due_at=start - dt.timedelta(hours=3),
    )
    item.attendees.set([guest])
    item.external_attendees.set([customer])
    return item


def test_invitations_and_cancellations(appointment, mailoutbox):
    appointment_invitations_send(appointment_id=appointment.pk, method="REQUEST")
    appointment_invitations_send(appointment_id=appointment.pk, method="CANCEL")
    assert len(mailoutbox) == 4
    assert_plain_and_inert(mailoutbox)


def test_appointment_reminders(appointment, mailoutbox):
    assert appointment_reminders_send(now=timezone.now()) == 1
    assert Appointment.objects.get(pk=appointment.pk).reminder_sent_at is not None
    assert_plain_and_inert(mailoutbox)


def test_task_reminders(sender, customer, mailoutbox):
    now = timezone.now().astimezone(BERLIN)
    TaskFactory(
        owner=sender,
        team=sender.teams.first(),
        title=HOSTILE,
        description=HOSTILE,
        due_date=now.date(),
        person=customer,
    )
    sender.time_zone = "Europe/Berlin"
    sender.save()
    assert task_reminders_send(now=now) == 1
    assert_plain_and_inert(mailoutbox)


def test_overdue_and_escalation_warnings(sender, customer, team, mailoutbox, settings):
    settings.PROCESS_ESCALATE_AFTER_DAYS = 1
    lead = hostile_user("lead", team, RoleCode.SALES_MANAGER)
    team.lead = lead
    team.save()
    process = Process.objects.create(name=HOSTILE)
    version = ProcessVersion.objects.create(
        process=process, number=1, status=VersionStatus.PUBLISHED, goal=HOSTILE
    )
    first = Step.objects.create(
        version=version, key="call", name=HOSTILE, position=0, deadline_days=3
    )
    StepActivity.objects.create(step=first, kind=ActivityType.TASK, title=HOSTILE, position=0)
    done = Step.objects.create(
        version=version, key="done", name="Done", position=1, is_end=True, goal_reached=True
    )
    Transition.objects.create(version=version, source=first, target=done)
    instance = engine.instance_start(actor=sender, version_or_process=version, person=customer)
    due = dt.datetime(2027, 3, 25, 23, 59, 59, tzinfo=BERLIN)
    StepRun.objects.filter(instance=instance, status=StepRunStatus.ACTIVE).update(due_at=due)

    assert deadline_warnings_send(now=due + dt.timedelta(hours=1)) == 1
    # One business day after Thursday 25 March 2027 is Tuesday 30 March (Easter).
    assert deadline_escalations_send(now=due + dt.timedelta(days=5, minutes=1)) == 1
    assert len(mailoutbox) == 2
    assert_plain_and_inert(mailoutbox)


def test_the_set_password_and_password_reset_links(team, mailoutbox):
    admin = hostile_user("chef", team, RoleCode.ADMINISTRATOR)
    user = hostile_user("neu", team)
    user_send_password_link(actor=admin, user=user, domain="crm.example", use_https=True)
    form = PasswordResetForm({"email": user.email})
    assert form.is_valid()
    form.save(
        domain_override="crm.example",
        subject_template_name="registration/password_reset_subject.txt",
        email_template_name="registration/password_reset_email.html",
    )
    link, reset = mailoutbox
    assert_plain_and_inert([link])
    # The reset mail names no user text (only the address): plain text all the same.
    assert [part.get_content_type() for part in reset.message().walk()] == ["text/plain"]


def test_the_check_catches_user_markup_in_an_html_part():
    message = EmailMultiAlternatives(subject="Hallo", body=HOSTILE, to=["a@example.com"])
    message.attach_alternative(f"<p>{HOSTILE}</p>", "text/html")
    with pytest.raises(AssertionError):
        assert_plain_and_inert([message])
    message = EmailMultiAlternatives(subject="Hallo", body=HOSTILE, to=["a@example.com"])
    message.attach_alternative(f"<p>{escape(HOSTILE)}</p>", "text/html")
    assert_plain_and_inert([message])

"""Polling a real IMAP server (dovecot, started by the fixture)."""

import datetime as dt

import pytest
from django.utils import timezone

from kontor.activities.models import Activity
from kontor.mail import imap, tasks
from kontor.mail.models import ImapSecurity, Mailbox, MailboxKind, MailMessage, MailStatus
from tests.mail.dovecot import build_mail, customer, dovecot, free_port  # noqa: F401

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def mailbox(dovecot, team):  # noqa: F811
    return Mailbox.objects.create(
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


def test_a_poll_files_new_mails_and_a_second_poll_files_nothing_new(dovecot, mailbox, owner):  # noqa: F811
    erika = customer(owner, first_name="Erika", email="erika@kunde.de")
    dovecot.append(build_mail(message_id="<a@kunde.de>", subject="Erste"))
    dovecot.append(build_mail(message_id="<b@kunde.de>", sender="fremd@x.de", subject="Zweite"))

    result = imap.poll_mailbox(mailbox)

    assert (result.ok, result.fetched) == (True, 2)
    assert sorted(MailMessage.objects.values_list("subject", "status")) == [
        ("Erste", MailStatus.FILED),
        ("Zweite", MailStatus.REVIEW),
    ]
    assert list(Activity.objects.values_list("person", "subject")) == [(erika.pk, "Erste")]
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 2
    assert mailbox.uidvalidity
    assert (mailbox.last_error, mailbox.failures, mailbox.next_poll_at) == ("", 0, None)
    assert mailbox.last_polled_at is not None
    # Fetched with BODY.PEEK: still unread for the people who read the mailbox.
    assert dovecot.unseen() == [b"1", b"2"]

    again = imap.poll_mailbox(mailbox)

    assert (again.ok, again.fetched) == (True, 0)
    assert (MailMessage.objects.count(), Activity.objects.count()) == (2, 1)

    dovecot.append(build_mail(message_id="<c@kunde.de>", subject="Dritte"))
    assert imap.poll_mailbox(mailbox).fetched == 1
    assert MailMessage.objects.count() == 3


def test_a_changed_uidvalidity_starts_over_without_filing_twice(dovecot, mailbox, owner):  # noqa: F811
    customer(owner, email="erika@kunde.de")
    dovecot.append(build_mail())
    imap.poll_mailbox(mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=1, last_uid=99)
    mailbox.refresh_from_db()

    result = imap.poll_mailbox(mailbox)

    assert (result.ok, result.fetched) == (True, 1)
    mailbox.refresh_from_db()
    assert mailbox.last_uid == 1
    assert (MailMessage.objects.count(), Activity.objects.count()) == (1, 1)


def test_a_wrong_password_is_reported_and_backs_off(dovecot, mailbox):  # noqa: F811
    dovecot.append(build_mail())
    Mailbox.objects.filter(pk=mailbox.pk).update(password="wrong")
    mailbox.refresh_from_db()
    before = timezone.now()

    result = imap.poll_mailbox(mailbox, timeout=10)

    assert result.error == "The server 127.0.0.1 rejected the login of kontor."
    mailbox.refresh_from_db()
    assert (mailbox.last_error, mailbox.failures, mailbox.last_uid) == (result.error, 1, 0)
    assert before + dt.timedelta(minutes=1) <= mailbox.next_poll_at
    assert mailbox.next_poll_at <= timezone.now() + dt.timedelta(minutes=1)
    assert MailMessage.objects.count() == 0

    second = timezone.now()
    imap.poll_mailbox(mailbox, timeout=10)
    mailbox.refresh_from_db()
    assert mailbox.failures == 2
    assert second + dt.timedelta(minutes=2) <= mailbox.next_poll_at
    assert mailbox.next_poll_at <= timezone.now() + dt.timedelta(minutes=2)


def test_a_closed_port_is_reported_then_the_mailbox_recovers(dovecot, mailbox, owner):  # noqa: F811
    customer(owner, email="erika@kunde.de")
    dovecot.append(build_mail())
    Mailbox.objects.filter(pk=mailbox.pk).update(port=free_port())
    mailbox.refresh_from_db()

    result = imap.poll_mailbox(mailbox, timeout=5)

    # Refused, silent or not IMAP: one message (test_servers.py).
    assert result.error == f"The server 127.0.0.1 could not be reached on port {mailbox.port}."
    mailbox.refresh_from_db()
    assert (mailbox.failures, mailbox.last_error) == (1, result.error)

    # Fixed: the next poll (here forced) files the mail and clears the failure.
    Mailbox.objects.filter(pk=mailbox.pk).update(port=dovecot.port)
    mailbox.refresh_from_db()
    assert imap.poll_mailbox(mailbox).fetched == 1
    mailbox.refresh_from_db()
    assert (mailbox.failures, mailbox.last_error, mailbox.next_poll_at) == (0, "", None)
    assert MailMessage.objects.get().status == MailStatus.FILED


def test_a_missing_folder_is_reported(dovecot, mailbox):  # noqa: F811
    Mailbox.objects.filter(pk=mailbox.pk).update(folder="Archiv 2020")
    mailbox.refresh_from_db()

    result = imap.poll_mailbox(mailbox)

    assert result.error == "The folder Archiv 2020 does not exist on the server."


def test_an_unknown_host_is_reported(mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(host="imap.invalid")
    mailbox.refresh_from_db()

    result = imap.poll_mailbox(mailbox, timeout=5)

    assert result.error == f"The server imap.invalid could not be reached on port {mailbox.port}."


def test_a_mail_over_the_limit_is_fetched_as_headers_only(dovecot, mailbox, owner, settings):  # noqa: F811
    settings.MAIL_MAX_MB = 1
    customer(owner, email="erika@kunde.de")
    dovecot.append(build_mail(text="x" * (1024 * 1024 + 100)))

    assert imap.poll_mailbox(mailbox).ok

    message = MailMessage.objects.get()
    assert message.status == MailStatus.REVIEW
    assert message.size > 1024 * 1024
    assert message.raw.size < 2000
    assert message.subject == "Anfrage"


def test_the_periodic_task_polls_due_mailboxes_and_one_failure_stops_none(
    dovecot,  # noqa: F811
    mailbox,
    owner,
    settings,
):
    settings.TASKS = IMMEDIATE
    customer(owner, email="erika@kunde.de")
    dovecot.append(build_mail())
    broken = Mailbox.objects.create(
        name="Kaputt",
        email_address="service@firma.de",
        host="127.0.0.1",
        port=free_port(),
        security=ImapSecurity.NONE,
        username="x",
        password="y",
    )
    waiting = Mailbox.objects.create(
        name="Wartet",
        email_address="info@firma.de",
        host="127.0.0.1",
        port=free_port(),
        security=ImapSecurity.NONE,
        username="x",
        password="y",
        next_poll_at=timezone.now() + dt.timedelta(minutes=5),
    )
    Mailbox.objects.create(
        name="Aus",
        email_address="aus@firma.de",
        host="h",
        username="u",
        password="p",
        enabled=False,
    )

    result = tasks.poll_mailboxes.enqueue()

    assert result.return_value == {"polled": 2, "failed": 1}
    assert MailMessage.objects.get().status == MailStatus.FILED
    broken.refresh_from_db()
    waiting.refresh_from_db()
    assert broken.failures == 1
    assert waiting.failures == 0


def test_poll_now_task_polls_one_mailbox(dovecot, mailbox, settings):  # noqa: F811
    settings.TASKS = IMMEDIATE
    dovecot.append(build_mail())

    assert tasks.poll_mailbox.enqueue(mailbox.pk).return_value == 1
    assert tasks.poll_mailbox.enqueue(999_999).return_value == 0


def test_connection_test_reports_the_message_count_or_the_error(dovecot, mailbox):  # noqa: F811
    dovecot.append(build_mail())
    assert imap.test_connection(mailbox) == 1

    mailbox.password = "wrong"
    with pytest.raises(imap.MailboxError, match="rejected the login"):
        imap.test_connection(mailbox)


def test_backoff_doubles_up_to_an_hour():
    assert [imap.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 7, 8, 50)] == [
        1, 2, 4, 8, 60, 60, 60,
    ]  # fmt: skip


def test_tls_against_a_plain_server_is_reported(dovecot, mailbox):  # noqa: F811
    Mailbox.objects.filter(pk=mailbox.pk).update(security=ImapSecurity.STARTTLS)
    mailbox.refresh_from_db()
    unreachable = f"The server 127.0.0.1 could not be reached on port {mailbox.port}."
    assert imap.poll_mailbox(mailbox, timeout=5).error == unreachable

    Mailbox.objects.filter(pk=mailbox.pk).update(security=ImapSecurity.SSL)
    mailbox.refresh_from_db()
    assert imap.poll_mailbox(mailbox, timeout=5).error == unreachable
    mailbox.refresh_from_db()
    assert mailbox.failures == 2

"""Mailboxes: who may configure which, the password never shown back, test and poll."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from kontor.core.models import AuditEntry
from kontor.mail.models import ImapSecurity, Mailbox, MailboxKind, MailMessage
from tests.mail.dovecot import build_mail, dovecot  # noqa: F401

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def form_data(**overrides):
    data = {
        "name": "Vertrieb",
        "email_address": "vertrieb@firma.de",
        "kind": MailboxKind.TEAM,
        "host": "imap.firma.de",
        "port": "993",
        "security": ImapSecurity.SSL,
        "username": "vertrieb",
        "password": "geheim-123",
        "folder": "INBOX",
        "enabled": "on",
    }
    data.update(overrides)
    return data


def rows():
    return list(Mailbox.objects.order_by("pk").values()), AuditEntry.objects.count()


def test_a_mail_manager_adds_a_team_mailbox(client, admin, team):
    client.force_login(admin)

    response = client.post(reverse("mail:mailbox_create"), form_data(team=team.pk))

    assert response.status_code == 302
    mailbox = Mailbox.objects.get()
    assert (mailbox.kind, mailbox.team, mailbox.owner, mailbox.password, mailbox.port) == (
        MailboxKind.TEAM,
        team,
        None,
        "geheim-123",
        993,
    )
    entry = AuditEntry.objects.get(object_id=mailbox.pk, content_type__model="mailbox")
    assert "password" not in entry.changes


def test_a_sales_rep_adds_only_a_personal_mailbox(client, owner, team):
    client.force_login(owner)

    refused = client.post(reverse("mail:mailbox_create"), form_data(team=team.pk))
    assert refused.status_code == 200
    assert Mailbox.objects.count() == 0

    client.post(reverse("mail:mailbox_create"), form_data(kind=MailboxKind.PERSONAL))
    mailbox = Mailbox.objects.get()
    assert (mailbox.kind, mailbox.owner, mailbox.team) == (MailboxKind.PERSONAL, owner, None)


def test_read_only_users_cannot_manage_mailboxes(client, readonly):
    client.force_login(readonly)

    assert client.get(reverse("mail:mailbox_list")).status_code == 403
    assert (
        client.post(reverse("mail:mailbox_create"), form_data(kind="personal")).status_code == 403
    )
    assert rows() == ([], 0)


def test_the_password_is_never_shown_and_blank_keeps_it(client, admin):
    client.force_login(admin)
    client.post(reverse("mail:mailbox_create"), form_data())
    mailbox = Mailbox.objects.get()
    Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=7, uidvalidity=3, failures=4)

    page = client.get(reverse("mail:mailbox_edit", args=[mailbox.pk])).content.decode()
    assert "geheim-123" not in page

    client.post(
        reverse("mail:mailbox_edit", args=[mailbox.pk]),
        form_data(password="", name="Vertrieb Nord"),
    )
    mailbox.refresh_from_db()
    assert (mailbox.name, mailbox.password, mailbox.last_uid, mailbox.failures) == (
        "Vertrieb Nord",
        "geheim-123",
        7,
        0,
    )

    # Another folder: fetched from the start.
    client.post(
        reverse("mail:mailbox_edit", args=[mailbox.pk]),
        form_data(password="neu", folder="Kunden"),
    )
    mailbox.refresh_from_db()
    assert (mailbox.password, mailbox.folder, mailbox.last_uid, mailbox.uidvalidity) == (
        "neu",
        "Kunden",
        0,
        None,
    )


def test_one_sees_and_edits_only_mailboxes_one_manages(client, owner, teammate, admin):
    theirs = Mailbox.objects.create(
        name="Teammate", email_address="t@firma.de", kind=MailboxKind.PERSONAL, owner=teammate,
        host="h", username="u", password="p",
    )  # fmt: skip
    shared = Mailbox.objects.create(
        name="Service", email_address="service@firma.de", host="h", username="u", password="p"
    )
    before = rows()
    client.force_login(owner)

    listing = client.get(reverse("mail:mailbox_list")).content.decode()
    assert "Teammate" not in listing
    assert "Service" not in listing
    for mailbox in (theirs, shared):
        assert client.get(reverse("mail:mailbox_edit", args=[mailbox.pk])).status_code == 404
        assert client.post(reverse("mail:mailbox_delete", args=[mailbox.pk])).status_code == 404
    assert rows() == before

    client.force_login(admin)
    listing = client.get(reverse("mail:mailbox_list")).content.decode()
    assert "Service" in listing
    assert "Teammate" not in listing


def test_deleting_a_mailbox_keeps_its_messages(client, admin):
    from kontor.mail import inbound

    mailbox = Mailbox.objects.create(
        name="Alt", email_address="alt@firma.de", host="h", username="u", password="p"
    )
    inbound.file_message(raw=build_mail(), mailbox=mailbox)
    client.force_login(admin)

    client.post(reverse("mail:mailbox_delete", args=[mailbox.pk]))

    assert Mailbox.objects.count() == 0
    assert MailMessage.objects.get().mailbox is None


def test_the_list_shows_last_error_and_last_poll(client, admin, django_assert_max_num_queries):
    Mailbox.objects.create(
        name="Kaputt", email_address="k@firma.de", host="h", username="u", password="p",
        last_error="The server h refused the connection on port 993.", failures=2,
        next_poll_at=timezone.now() + dt.timedelta(minutes=2),
    )  # fmt: skip
    client.force_login(admin)

    with django_assert_max_num_queries(8):
        body = client.get(reverse("mail:mailbox_list")).content.decode()

    assert "The server h refused the connection on port 993." in body
    assert "2 failures in a row; next try" in body
    assert "never" in body
    assert client.get(reverse("mail:mailbox_create")).status_code == 200


def test_test_connection_and_poll_now_against_a_real_server(
    client,
    admin,
    dovecot,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.TASKS = IMMEDIATE
    dovecot.append(build_mail())
    mailbox = Mailbox.objects.create(
        name="Echt", email_address="echt@firma.de", host=dovecot.host, port=dovecot.port,
        security=ImapSecurity.NONE, username=dovecot.user, password=dovecot.password,
    )  # fmt: skip
    client.force_login(admin)

    tested = client.post(reverse("mail:mailbox_test", args=[mailbox.pk]), follow=True)
    assert "Echt: connected; the folder holds 1 messages." in tested.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mail:mailbox_poll", args=[mailbox.pk]))
    assert MailMessage.objects.get().mailbox == mailbox

    Mailbox.objects.filter(pk=mailbox.pk).update(password="falsch")
    failed = client.post(reverse("mail:mailbox_test", args=[mailbox.pk]), follow=True)
    assert "Echt: The server 127.0.0.1 rejected the login of kontor." in failed.content.decode()

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


def test_a_sales_rep_adds_only_a_personal_mailbox(client, owner, team, settings):
    settings.MAIL_IMAP_ALLOWED_HOSTS = ["imap.firma.de"]
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


# --- Who may point a mailbox at which server (kontor.mail.servers) ------------------------


def test_without_allowed_servers_a_sales_rep_cannot_add_a_mailbox(client, owner):
    client.force_login(owner)

    listing = client.get(reverse("mail:mailbox_list")).content.decode()
    assert reverse("mail:mailbox_create") not in listing
    assert "Only an administrator may set up mailboxes." in listing
    page = client.get(reverse("mail:mailbox_create"), follow=True)
    assert page.redirect_chain == [(reverse("mail:mailbox_list"), 302)]
    response = client.post(
        reverse("mail:mailbox_create"), form_data(kind=MailboxKind.PERSONAL), follow=True
    )

    assert "Only an administrator may set up mailboxes." in response.content.decode()
    assert rows() == ([], 0)


def test_a_sales_rep_may_use_only_the_servers_the_administrator_allows(client, owner, settings):
    settings.MAIL_IMAP_ALLOWED_HOSTS = ["imap.firma.de", ".mail.firma.de"]
    client.force_login(owner)
    assert "Allowed servers: imap.firma.de, .mail.firma.de" in (
        client.get(reverse("mail:mailbox_create")).content.decode()
    )

    for host in ("intranet.firma.de", "firma.de.evil.example", "10.0.0.1"):
        refused = client.post(
            reverse("mail:mailbox_create"), form_data(kind=MailboxKind.PERSONAL, host=host)
        )
        assert refused.status_code == 200
        assert len(refused.context["form"].errors["host"]) == 1
    assert rows() == ([], 0)

    for host in ("IMAP.firma.de", "eu.mail.firma.de"):
        client.post(reverse("mail:mailbox_create"), form_data(kind=MailboxKind.PERSONAL, host=host))
    assert sorted(Mailbox.objects.values_list("host", flat=True)) == [
        "IMAP.firma.de",
        "eu.mail.firma.de",
    ]

    # Nor can an allowed mailbox be moved to another server afterwards.
    mailbox = Mailbox.objects.get(host="IMAP.firma.de")
    before = rows()
    moved = client.post(
        reverse("mail:mailbox_edit", args=[mailbox.pk]),
        form_data(kind=MailboxKind.PERSONAL, host="intranet.firma.de"),
    )
    assert moved.context["form"].errors["host"] == [
        "Choose one of the IMAP servers your administrator allows: imap.firma.de, .mail.firma.de."
    ]
    assert rows() == before


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "169.254.169.254", "[::1]",
     "::ffff:127.0.0.1", "0.0.0.0", "224.0.0.1", "100.64.0.1", "fe80::1"],  # noqa: S104 — refused, not bound
)  # fmt: skip
def test_nobody_points_a_mailbox_at_a_private_address(client, admin, host):
    client.force_login(admin)

    response = client.post(reverse("mail:mailbox_create"), form_data(host=host))

    assert response.context["form"].errors["host"] == [
        "Kontor does not connect to local or private network addresses. For a mail server "
        "on the company network, set MAIL_IMAP_ALLOW_PRIVATE=true in Kontor's settings."
    ]
    assert rows() == ([], 0)


def test_only_a_mail_manager_hears_of_the_setting_for_private_addresses(client, owner, settings):
    # The setting is of no use to a sales rep: they hear only that it is refused.
    settings.MAIL_IMAP_ALLOWED_HOSTS = ["10.1.2.3"]
    client.force_login(owner)

    response = client.post(
        reverse("mail:mailbox_create"), form_data(kind=MailboxKind.PERSONAL, host="10.1.2.3")
    )

    assert response.context["form"].errors["host"] == [
        "Kontor does not connect to local or private network addresses."
    ]


def test_private_addresses_are_allowed_by_the_setting(client, admin, settings):
    settings.MAIL_IMAP_ALLOW_PRIVATE = True
    client.force_login(admin)

    client.post(reverse("mail:mailbox_create"), form_data(host="10.1.2.3"))

    assert Mailbox.objects.get().host == "10.1.2.3"


def test_a_mail_manager_may_use_any_public_server(client, admin):
    client.force_login(admin)

    client.post(reverse("mail:mailbox_create"), form_data(host="imap.example.org"))

    assert Mailbox.objects.get().host == "imap.example.org"


@pytest.mark.parametrize("port", ["0", "65536", "70000", "-1"])
def test_a_port_outside_1_to_65535_is_refused(client, admin, port):
    client.force_login(admin)

    response = client.post(reverse("mail:mailbox_create"), form_data(port=port))

    assert response.status_code == 200
    assert len(response.context["form"].errors["port"]) == 1
    assert rows() == ([], 0)


def test_the_services_apply_the_same_rules(owner, admin, settings):
    # The services behind the pages (and any API on mailboxes to come) check the rules
    # themselves: a form that lets a value through changes nothing.
    from django.core.exceptions import ValidationError

    from kontor.mail.services import incoming

    settings.MAIL_IMAP_ALLOWED_HOSTS = ["imap.firma.de"]
    values = {
        "name": "Meins", "email_address": "ich@firma.de", "port": 993,
        "security": ImapSecurity.SSL, "username": "ich", "folder": "INBOX", "enabled": True,
    }  # fmt: skip
    cases = [
        (owner, "imap.example.org", 993, "host"),
        (admin, "127.0.0.1", 993, "host"),
        (admin, "imap.example.org", 65536, "port"),
        (admin, "imap.example.org", 0, "port"),
    ]
    for actor, host, port, field in cases:
        with pytest.raises(ValidationError) as refused:
            incoming.mailbox_create(
                actor=actor, kind=MailboxKind.PERSONAL, password="p",
                **{**values, "host": host, "port": port},
            )  # fmt: skip
        assert list(refused.value.message_dict) == [field]
    assert rows() == ([], 0)

    mine = incoming.mailbox_create(
        actor=owner, kind=MailboxKind.PERSONAL, password="p", **{**values, "host": "imap.firma.de"}
    )
    with pytest.raises(ValidationError):
        incoming.mailbox_update(actor=owner, mailbox=mine, host="imap.example.org")
    mine.refresh_from_db()
    assert mine.host == "imap.firma.de"

"""The IMAP connection is no port scanner (kontor.mail.servers): private addresses are
refused unless the setting allows them, a name is resolved once and the checked address
is used, a personal mailbox only reaches the servers its owner may use, and whatever
fails before the login reads the same — no banner, refused alike silent."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.urls import reverse

from kontor.mail import imap, servers
from kontor.mail.models import ImapSecurity, Mailbox, MailboxKind, MailMessage
from tests.mail.dovecot import build_mail, dovecot, free_port  # noqa: F401

pytestmark = pytest.mark.django_db

BANNER = b"SSH-2.0-OpenSSH_9.2p1 internal-build-server-7\r\n"


@contextmanager
def tcp_service(*, banner: bytes | None) -> Iterator[int]:
    """A TCP service on 127.0.0.1 that is not IMAP: it says ``banner`` to whoever
    connects, or (None) accepts and says nothing. Yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def serve():
        while not stop.is_set():
            try:
                conn, _addr = listener.accept()
            except OSError:
                continue
            accepted.append(conn)
            if banner is not None:
                conn.sendall(banner)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()


def make_mailbox(*, host="127.0.0.1", port, **extra) -> Mailbox:
    # Straight into the table, as a mailbox saved before the rules would be.
    values = {"username": "kontor", "password": "secret", **extra}
    return Mailbox.objects.create(
        name="Probe", email_address="probe@firma.de", host=host, port=port,
        security=ImapSecurity.NONE, **values,
    )  # fmt: skip


def unreachable(mailbox) -> str:
    return f"The server {mailbox.host} could not be reached on port {mailbox.port}."


def test_refused_silent_and_foreign_services_read_the_same_and_no_banner(settings):
    settings.MAIL_IMAP_ALLOW_PRIVATE = True
    closed = make_mailbox(port=free_port())
    with tcp_service(banner=BANNER) as talking, tcp_service(banner=None) as silent:
        foreign = make_mailbox(port=talking)
        quiet = make_mailbox(port=silent)
        errors = {}
        for mailbox in (closed, foreign, quiet):
            with pytest.raises(imap.MailboxError) as failed:
                imap.test_connection(mailbox, timeout=1)
            errors[mailbox.port] = str(failed.value)
        polled = imap.poll_mailbox(foreign, timeout=1).error

    assert errors == {m.port: unreachable(m) for m in (closed, foreign, quiet)}
    assert polled == unreachable(foreign)
    foreign.refresh_from_db()
    assert foreign.last_error == unreachable(foreign)
    assert "SSH" not in foreign.last_error


def test_the_test_button_shows_no_banner(client, admin, settings):
    settings.MAIL_IMAP_ALLOW_PRIVATE = True
    client.force_login(admin)
    with tcp_service(banner=BANNER) as port:
        mailbox = make_mailbox(port=port)
        page = client.post(reverse("mail:mailbox_test", args=[mailbox.pk]), follow=True)

    body = page.content.decode()
    assert f"Probe: {unreachable(mailbox)}" in body
    assert "OpenSSH" not in body
    assert "internal-build-server" not in body


def test_a_private_address_is_not_connected_to_without_the_setting(
    client,
    admin,
    dovecot,  # noqa: F811
    settings,
):
    dovecot.append(build_mail())
    settings.MAIL_IMAP_ALLOW_PRIVATE = False  # the fixture turned it on
    by_address = make_mailbox(port=dovecot.port, username=dovecot.user, password=dovecot.password)
    by_name = make_mailbox(
        host="localhost", port=dovecot.port, username=dovecot.user, password=dovecot.password
    )

    for mailbox in (by_address, by_name):
        assert imap.poll_mailbox(mailbox).error == unreachable(mailbox)
        with pytest.raises(imap.MailboxError, match="could not be reached"):
            imap.test_connection(mailbox)
    client.force_login(admin)
    page = client.post(reverse("mail:mailbox_test", args=[by_address.pk]), follow=True)
    assert f"Probe: {unreachable(by_address)}" in page.content.decode()
    assert MailMessage.objects.count() == 0

    settings.MAIL_IMAP_ALLOW_PRIVATE = True
    assert imap.poll_mailbox(by_name).fetched == 1


def test_the_name_is_resolved_once_and_the_checked_address_is_used(
    dovecot,  # noqa: F811
    monkeypatch,
):
    # A name that answers 127.0.0.1 when checked and another address afterwards (DNS
    # rebinding): the connection must go to the address that was checked.
    real = socket.getaddrinfo
    lookups = []

    def rebinding(host, *args, **kwargs):
        if host != "imap.rebind.test":
            return real(host, *args, **kwargs)
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "127.0.0.2"
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    dovecot.append(build_mail())
    mailbox = make_mailbox(
        host="imap.rebind.test", port=dovecot.port, username=dovecot.user,
        password=dovecot.password,
    )  # fmt: skip

    assert imap.poll_mailbox(mailbox).fetched == 1
    assert lookups == ["imap.rebind.test"]


def test_a_personal_mailbox_reaches_only_the_servers_its_owner_may_use(
    owner,
    dovecot,  # noqa: F811
    settings,
):
    dovecot.append(build_mail())
    mailbox = make_mailbox(
        port=dovecot.port, username=dovecot.user, password=dovecot.password,
        kind=MailboxKind.PERSONAL, owner=owner,
    )  # fmt: skip

    result = imap.poll_mailbox(mailbox)

    assert result.error == (
        "The server 127.0.0.1 is not among the IMAP servers allowed for personal mailboxes."
    )
    assert MailMessage.objects.count() == 0

    settings.MAIL_IMAP_ALLOWED_HOSTS = ["127.0.0.1"]
    assert imap.poll_mailbox(mailbox).fetched == 1


def test_a_port_out_of_range_is_not_connected_to(settings):
    settings.MAIL_IMAP_ALLOW_PRIVATE = True
    mailbox = make_mailbox(port=70000)

    assert imap.poll_mailbox(mailbox, timeout=1).error == unreachable(mailbox)


@pytest.mark.parametrize(
    ("address", "public", "with_setting"),
    [
        ("93.184.216.34", True, True),
        ("2a00:1450:4001:82b::200e", True, True),
        ("127.0.0.1", False, True),
        ("::1", False, True),
        ("10.0.0.1", False, True),
        ("172.16.5.4", False, True),
        ("192.168.1.1", False, True),
        ("169.254.169.254", False, True),
        ("fe80::1%eth0", False, True),
        ("fd00::1", False, True),
        ("100.64.0.1", False, True),
        ("::ffff:127.0.0.1", False, True),
        ("::ffff:10.0.0.1", False, True),
        ("240.0.0.1", False, True),
        ("0.0.0.0", False, False),  # noqa: S104 — an address refused, not bound
        ("::", False, False),
        ("224.0.0.1", False, False),
        ("ff02::1", False, False),
    ],
)
def test_which_addresses_are_connected_to(settings, address, public, with_setting):
    settings.MAIL_IMAP_ALLOW_PRIVATE = False
    assert servers.address_allowed(address) is public
    settings.MAIL_IMAP_ALLOW_PRIVATE = True
    assert servers.address_allowed(address) is with_setting


def test_allowed_hosts_match_exact_names_and_dotted_domains(settings):
    settings.MAIL_IMAP_ALLOWED_HOSTS = ["imap.firma.de", ".mail.firma.de", " "]
    assert [
        servers.host_listed(h)
        for h in (
            "imap.firma.de", "IMAP.Firma.de.", "mail.firma.de", "eu.mail.firma.de",
            "firma.de", "evilmail.firma.de", "imap.firma.de.evil.example",
        )
    ] == [True, True, True, True, False, False, False]  # fmt: skip

"""Fetching from IMAP mailboxes (imaplib).

``poll_mailbox(mailbox)`` fetches the messages after the mailbox's ``last_uid``
and files each (kontor.mail.inbound.file_message). It reads without changing the
mailbox: the folder is opened read-only and bodies are fetched with BODY.PEEK, so
nothing is marked read. ``last_uid`` advances only past messages filed, so a
message that failed is fetched again next time; when the server's UIDVALIDITY
changes the mailbox is read from the start (Message-IDs keep anything from being
filed twice).

Only servers kontor.mail.servers allows are connected to, at an address it checked.
A failure is stored on the mailbox as a message for people (``last_error``) and the
next poll waits, doubling each time: 1, 2, 4 … minutes, at most an hour. Success
clears it. The message says only "could not be reached", "rejected the login" or,
once logged in, what is wrong with the folder: never what the other side answered
(a banner), nor refused apart from silent — the details are in the server log.
"""

import imaplib
import logging
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.mail import inbound, servers
from kontor.mail.models import ImapSecurity, Mailbox

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
BATCH_SIZE = 25
MAX_BACKOFF_MINUTES = 60


class MailboxError(Exception):
    """A failure worth telling the user about (the message is translated)."""


@dataclass
class PollResult:
    fetched: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def backoff(failures: int) -> timedelta:
    """How long to wait after the ``failures``-th failure in a row."""
    return timedelta(minutes=min(2 ** max(0, failures - 1), MAX_BACKOFF_MINUTES))


def unreachable(mailbox: Mailbox) -> str:
    """The one message for every failure before the login: unknown name, refused,
    silent, closed, not IMAP, no TLS, a refused address. Telling them apart (or
    echoing what the other side said) would make the Test button a port scanner."""
    return _("The server %(host)s could not be reached on port %(port)s.") % {
        "host": mailbox.host,
        "port": mailbox.port,
    }


def _describe(exc: BaseException, mailbox: Mailbox) -> str:
    """A failure after the login, for people (the server's own words only in the log)."""
    if isinstance(exc, MailboxError):
        return str(exc)
    if isinstance(exc, OSError):  # the connection broke off
        return unreachable(mailbox)
    if isinstance(exc, imaplib.IMAP4.error):
        return _("The server %(host)s answered with an error.") % {"host": mailbox.host}
    return _("Unexpected error; the details are in the server log.")


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _CheckedIMAP4(imaplib.IMAP4):
    """IMAP over a connection to an address kontor.mail.servers checked (not to what
    the host name resolves to when imaplib looks it up again)."""

    def __init__(self, host: str, port: int, *, addresses: list[str], timeout: float):
        self._addresses = addresses
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout):
        return servers.connect_checked(self._addresses, self.port, timeout)


class _CheckedIMAP4SSL(imaplib.IMAP4_SSL):
    """IMAP over TLS to a checked address; the certificate is checked for the host name."""

    def __init__(self, host: str, port: int, *, addresses: list[str], ssl_context, timeout):
        self._addresses = addresses
        super().__init__(host, port, ssl_context=ssl_context, timeout=timeout)

    def _create_socket(self, timeout):
        sock = servers.connect_checked(self._addresses, self.port, timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def _open(mailbox: Mailbox, context: ssl.SSLContext, timeout: int) -> imaplib.IMAP4:
    """A connection greeted by the server (TLS set up), not yet logged in."""
    if not servers.mailbox_permitted(mailbox):
        raise MailboxError(
            _("The server %(host)s is not among the IMAP servers allowed for personal mailboxes.")
            % {"host": mailbox.host}
        )
    try:
        if not servers.PORT_MIN <= mailbox.port <= servers.PORT_MAX:
            raise ValueError(f"port {mailbox.port} out of range")
        addresses = servers.resolve(mailbox.host, mailbox.port)
        if mailbox.security == ImapSecurity.SSL:
            return _CheckedIMAP4SSL(
                mailbox.host,
                mailbox.port,
                addresses=addresses,
                ssl_context=context,
                timeout=timeout,
            )
        return _CheckedIMAP4(mailbox.host, mailbox.port, addresses=addresses, timeout=timeout)
    except (OSError, imaplib.IMAP4.error, ValueError) as exc:
        # ValueError: a host name the resolver will not take (too long, a NUL …).
        logger.warning("Mailbox %s: %s:%s unreachable: %r", mailbox.pk, mailbox.host,
                       mailbox.port, exc)  # fmt: skip
        raise MailboxError(unreachable(mailbox)) from exc


def _login(conn: imaplib.IMAP4, mailbox: Mailbox, context: ssl.SSLContext) -> None:
    try:
        if mailbox.security == ImapSecurity.STARTTLS:
            conn.starttls(ssl_context=context)
    except (imaplib.IMAP4.error, OSError) as exc:  # no STARTTLS, or TLS failed
        logger.warning("Mailbox %s: STARTTLS failed: %r", mailbox.pk, exc)
        raise MailboxError(unreachable(mailbox)) from exc
    try:
        conn.login(mailbox.username, mailbox.password)
    except (imaplib.IMAP4.abort, OSError) as exc:  # the connection broke off
        logger.warning("Mailbox %s: login aborted: %r", mailbox.pk, exc)
        raise MailboxError(unreachable(mailbox)) from exc
    except imaplib.IMAP4.error as exc:
        raise MailboxError(
            _("The server %(host)s rejected the login of %(user)s.")
            % {"host": mailbox.host, "user": mailbox.username}
        ) from exc


@contextmanager
def connect(mailbox: Mailbox, *, timeout: int = TIMEOUT_SECONDS) -> Iterator[imaplib.IMAP4]:
    """A logged-in connection (SSL, STARTTLS or plain, as configured) to a server
    kontor.mail.servers allows. Raises MailboxError "could not be reached" or
    "rejected the login" — nothing in between."""
    context = ssl.create_default_context()
    conn = _open(mailbox, context, timeout)
    try:
        _login(conn, mailbox, context)
        yield conn
    finally:
        with suppress(imaplib.IMAP4.error, OSError):
            conn.logout()


def select(conn: imaplib.IMAP4, mailbox: Mailbox) -> tuple[int, int]:
    """Open the folder read-only: (UIDVALIDITY, number of messages)."""
    typ, data = conn.select(_quote(mailbox.folder), readonly=True)
    if typ != "OK":
        raise MailboxError(
            _("The folder %(folder)s does not exist on the server.") % {"folder": mailbox.folder}
        )
    _typ, validity = conn.response("UIDVALIDITY")
    try:
        uidvalidity = int(validity[0])
    except (TypeError, ValueError, IndexError):
        uidvalidity = 0
    try:
        count = int(data[0])
    except (TypeError, ValueError, IndexError):
        count = 0
    return uidvalidity, count


def test_connection(mailbox: Mailbox, *, timeout: int = 15) -> int:
    """Log in and open the folder; the number of messages in it. Raises MailboxError
    with a message for people."""
    try:
        with connect(mailbox, timeout=timeout) as conn:
            return select(conn, mailbox)[1]
    except MailboxError:
        raise
    except (OSError, imaplib.IMAP4.error) as exc:
        logger.warning("Mailbox %s: %r", mailbox.pk, exc)
        raise MailboxError(_describe(exc, mailbox)) from exc


_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


def _new_uids(conn: imaplib.IMAP4, after: int) -> list[int]:
    # "n:*" always includes the highest UID, even when it is below n: filter here.
    typ, data = conn.uid("SEARCH", None, f"UID {after + 1}:*")
    if typ != "OK":
        logger.warning("Mailbox: SEARCH answered %r", data)
        raise MailboxError(_("The server did not list the messages."))
    return sorted({int(x) for x in (data[0] or b"").split() if int(x) > after})


def _sizes(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    _typ, data = conn.uid("FETCH", ",".join(map(str, uids)), "(UID RFC822.SIZE)")
    sizes = {}
    for item in data or []:
        line = item[0] if isinstance(item, tuple) else item
        if not isinstance(line, bytes):
            continue
        uid, size = _UID.search(line), _SIZE.search(line)
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _bodies(conn: imaplib.IMAP4, uids: list[int], part: str) -> dict[int, bytes]:
    typ, data = conn.uid("FETCH", ",".join(map(str, uids)), f"(UID BODY.PEEK[{part}])")
    if typ != "OK":
        logger.warning("Mailbox: FETCH answered %r", data)
        raise MailboxError(_("The server did not send the messages."))
    bodies = {}
    items = list(data or [])
    for index, item in enumerate(items):
        if not isinstance(item, tuple):
            continue
        found = _UID.search(item[0])
        if found is None and index + 1 < len(items) and isinstance(items[index + 1], bytes):
            # Some servers send the UID after the literal.
            found = _UID.search(items[index + 1])
        if found is not None:
            bodies[int(found.group(1))] = item[1]
    return bodies


def _fetch_and_file(conn: imaplib.IMAP4, mailbox: Mailbox) -> int:
    uidvalidity, _count = select(conn, mailbox)
    if uidvalidity and uidvalidity != mailbox.uidvalidity:
        # A new folder (or one rebuilt by the server): start over.
        Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=uidvalidity, last_uid=0)
        mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
    uids = _new_uids(conn, mailbox.last_uid)
    limit = inbound.max_bytes()
    filed = 0
    for start in range(0, len(uids), BATCH_SIZE):
        batch = uids[start : start + BATCH_SIZE]
        sizes = _sizes(conn, batch)
        small = [u for u in batch if sizes.get(u, 0) <= limit]
        large = [u for u in batch if sizes.get(u, 0) > limit]
        bodies = _bodies(conn, small, "") if small else {}
        # A message over the limit is never loaded whole: its headers go to review.
        headers = _bodies(conn, large, "HEADER") if large else {}
        for uid in batch:
            if uid in bodies:
                inbound.file_message(raw=bodies[uid], mailbox=mailbox)
            elif uid in headers:
                inbound.file_message(raw=headers[uid], mailbox=mailbox, size=sizes[uid])
            else:
                # Expunged between SEARCH and FETCH: nothing to file.
                logger.info("Mailbox %s: UID %s is gone", mailbox.pk, uid)
            # Only ever forward, even with two pollers at once.
            Mailbox.objects.filter(pk=mailbox.pk, last_uid__lt=uid).update(last_uid=uid)
            mailbox.last_uid = uid
            filed += 1
    return filed


def poll_mailbox(mailbox: Mailbox, *, timeout: int = TIMEOUT_SECONDS) -> PollResult:
    """Fetch and file the mailbox's new messages; record success or the failure
    (with back-off) on the mailbox. Never raises for server trouble."""
    result = PollResult()
    now = timezone.now()
    try:
        with connect(mailbox, timeout=timeout) as conn:
            result.fetched = _fetch_and_file(conn, mailbox)
    except (MailboxError, OSError, imaplib.IMAP4.error) as exc:
        logger.info("Mailbox %s: %r", mailbox.pk, exc)
        result.error = _describe(exc, mailbox)
    except Exception as exc:  # a bug or a database error: retry later, details in the log
        logger.exception("Polling mailbox %s failed", mailbox.pk)
        result.error = _describe(exc, mailbox)
    if result.ok:
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=now, last_error="", failures=0, next_poll_at=None
        )
        mailbox.last_polled_at, mailbox.last_error = now, ""
        mailbox.failures, mailbox.next_poll_at = 0, None
    else:
        failures = mailbox.failures + 1
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_polled_at=now,
            last_error=result.error[:2000],
            failures=F("failures") + 1,
            next_poll_at=now + backoff(failures),
        )
        mailbox.refresh_from_db(fields=["last_polled_at", "last_error", "failures", "next_poll_at"])
        logger.warning("Mailbox %s: %s", mailbox.pk, result.error)
    return result

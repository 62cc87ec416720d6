"""Which IMAP servers Kontor connects to — the guard against server-side request forgery.

A mailbox makes Kontor's server open a connection to a host and port someone typed,
from inside the company network. So:

- Mailboxes are an administrator's setting. Roles with ``mail.manage`` (administrators,
  and whoever the administrator grants it to) may point a team or personal mailbox at
  any server. A user who only has ``activities.edit`` may add a personal mailbox only
  on a server listed in ``MAIL_IMAP_ALLOWED_HOSTS`` (the company's mail server); with
  the list empty (the default) only mail managers add mailboxes. A personal mailbox
  whose owner may no longer use its server is not polled.
- Whoever configured it, Kontor never connects to loopback, private, link-local,
  shared (CGN), multicast, reserved or unspecified addresses unless
  ``MAIL_IMAP_ALLOW_PRIVATE`` is set (a mail server on the company network). The host
  name is resolved once, every address it resolves to is checked, and the connection
  goes to a checked address — not to whatever the name resolves to a moment later
  (DNS rebinding).
- What goes wrong is told to people only as "could not be reached" or "login rejected"
  (kontor.mail.imap): never a banner, never refused apart from silent. The details go
  to the server log for the operator.
"""

import ipaddress
import logging
import socket

from django.conf import settings

from kontor.core.access import user_can
from kontor.core.permissions import Capability
from kontor.mail.models import MailboxKind

logger = logging.getLogger(__name__)

PORT_MIN, PORT_MAX = 1, 65535


class AddressRefused(OSError):
    """The host resolves to an address Kontor does not connect to."""


def _normalise(host: str) -> str:
    return (host or "").strip().lower().rstrip(".")


def allowed_hosts() -> list[str]:
    """The servers users without ``mail.manage`` may use for personal mailboxes."""
    return [_normalise(h) for h in settings.MAIL_IMAP_ALLOWED_HOSTS if _normalise(h)]


def host_listed(host: str) -> bool:
    """Whether ``host`` is in MAIL_IMAP_ALLOWED_HOSTS: an exact name, or below an
    entry that begins with a dot (``.firma.de`` allows firma.de and imap.firma.de),
    as Django's ALLOWED_HOSTS reads it."""
    host = _normalise(host)
    for entry in allowed_hosts():
        if entry.startswith("."):
            if host == entry[1:] or host.endswith(entry):
                return True
        elif host == entry:
            return True
    return False


def may_use_any_host(user) -> bool:
    """Mail managers choose any server (an administrator's setting)."""
    return user_can(user, Capability.MAIL_MANAGE)


def may_use_host(user, host: str) -> bool:
    return may_use_any_host(user) or host_listed(host)


def mailbox_permitted(mailbox) -> bool:
    """Whether Kontor may poll ``mailbox`` now: a team mailbox (only mail managers
    configure those) always; a personal one if its owner may use its server — so a
    mailbox set up before the rule, or whose server was taken off the list, is not
    polled. An orphaned personal mailbox is in the mail managers' hands."""
    if mailbox.kind != MailboxKind.PERSONAL or mailbox.owner_id is None:
        return True
    return may_use_host(mailbox.owner, mailbox.host)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    ip = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone ("%eth0") aside
    mapped = getattr(ip, "ipv4_mapped", None)
    return mapped if mapped is not None else ip  # ::ffff:127.0.0.1 is 127.0.0.1


def address_allowed(text: str) -> bool:
    """Whether Kontor may connect to the IP address ``text``. Multicast and
    "unspecified" (0.0.0.0 reaches this machine) never; public unicast addresses
    always; everything else (loopback, private, link-local, CGN, reserved) only with
    MAIL_IMAP_ALLOW_PRIVATE."""
    ip = _ip(text)
    if ip.is_multicast or ip.is_unspecified:
        return False
    public = ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved
    )
    return public or settings.MAIL_IMAP_ALLOW_PRIVATE


def literal_refused(host: str) -> bool:
    """Whether ``host`` as typed is already a refused address (an IP literal, or
    ``localhost``): said at once when the mailbox is saved, as it needs no lookup
    and tells nothing about the network."""
    host = _normalise(host)
    if host == "localhost" or host.endswith(".localhost"):
        return not settings.MAIL_IMAP_ALLOW_PRIVATE
    try:
        return not address_allowed(host.strip("[]"))
    except ValueError:
        return False  # a name: checked when connecting


def resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host``, every one checked. Raises AddressRefused if any is
    refused (a name with one public and one private address is refused: which one a
    connection would use is up to the resolver) and socket.gaierror if unknown."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    refused = [a for a in addresses if not address_allowed(a)]
    if refused or not addresses:
        raise AddressRefused(f"{host} resolves to refused addresses {refused}")
    return addresses


def connect_checked(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A TCP connection to the first of the checked ``addresses`` that answers."""
    last_error: OSError = OSError("no address")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            last_error = exc
    raise last_error

"""Incoming e-mail: parse a raw message, find the customers it concerns, file it.

``file_message(raw=…, mailbox=…)`` is the one entry point (the IMAP poller calls it
for every fetched message; a forwarding address would too). It never loses a mail
and never files one twice:
- the Message-ID (normalised, hashed) is unique: a message fetched again, or by two
  pollers at once, returns the row already there;
- a message that cannot be parsed, is too large, or names no known person waits in
  the review queue (status ``review``) with the reason in ``error``;
- a matched message becomes one e-mail activity on the sender (or the first person
  named), with all matched persons as participants and its attachments — a forbidden
  or oversize attachment is skipped and named in the activity text.
The raw message is kept as a .eml file under MEDIA_ROOT either way.
"""

import email
import email.policy
import email.utils
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from html.parser import HTMLParser

import nh3
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from kontor.activities.models import ACTIVITY_TEXT_MAX_LENGTH, Activity, ActivityKind, Direction
from kontor.activities.services.activities import activity_create
from kontor.activities.services.attachments import attachment_add, check_allowed, clean_filename
from kontor.customers.models import Person
from kontor.mail.models import Mailbox, MailboxKind, MailDirection, MailMessage, MailStatus

logger = logging.getLogger(__name__)

# What a filed mail's HTML may keep: text structure, tables, links. No images (they
# would load from the sender's server when the page is opened: a tracking pixel).
HTML_TAGS = {
    "p", "br", "div", "span", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a",
    "code", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption", "small", "sub", "sup",
}  # fmt: skip
HTML_ATTRIBUTES = {"a": {"href"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Never parse more than this as headers of a message too large to import.
MAX_HEADER_BYTES = 256 * 1024


def max_bytes() -> int:
    return settings.MAIL_MAX_MB * 1024 * 1024


# --- Message-ID -------------------------------------------------------------------------


def normalize_message_id(value: str | None) -> str:
    """``<abc@host>`` whatever the folding, spacing or extra text around it; "" if none."""
    value = str(value or "").strip()
    found = re.search(r"<([^<>]+)>", value)
    core = found.group(1) if found else value
    core = "".join(core.split())
    return f"<{core}>" if core else ""


def message_id_hash(message_id: str | None, raw: bytes = b"") -> str:
    """The key that makes a message unique: sha256 of the normalised Message-ID, or of
    the raw bytes for a message without one (the same bytes fetched twice still match).
    Outgoing messages stored with the same key are recognised when a copy comes in."""
    normalized = normalize_message_id(message_id)
    if normalized:
        return hashlib.sha256(normalized.encode("utf-8", "surrogateescape")).hexdigest()
    return hashlib.sha256(raw).hexdigest()


# --- Parsing ----------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    """HTML → plain text for mails without a text part: block elements become line
    breaks, script and style are dropped."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table"}
    SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def sanitize_html(html: str) -> str:
    """The only HTML of a mail Kontor ever shows: a short allow-list (nh3)."""
    return nh3.clean(
        html,
        tags=HTML_TAGS,
        attributes=HTML_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _clean(text: str) -> str:
    # PostgreSQL cannot store NUL characters.
    return (text or "").replace("\x00", "")


def _part_text(part) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError, ValueError):
        # An unknown or lying charset: the bytes as well as they decode.
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def _addresses(msg, name: str) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs of the header ``name``, in order."""
    values = msg.get_all(name) or []
    pairs = email.utils.getaddresses([str(v) for v in values])
    seen, result = set(), []
    for display, address in pairs:
        address = _clean(address).strip().lower()
        if "@" in address and address not in seen:
            seen.add(address)
            result.append((_clean(display).strip(), address))
    return result


def _sent_at(msg) -> datetime | None:
    value = msg.get("Date")
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@dataclass
class Attached:
    filename: str
    content_type: str
    content: bytes


@dataclass
class Parsed:
    """What Kontor takes from a message."""

    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    from_name: str = ""
    from_address: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str = ""
    sent_at: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[Attached] = field(default_factory=list)

    @property
    def addresses(self) -> list[str]:
        """From, To and Cc in that order, each once."""
        result = []
        for address in [self.from_address, *self.to, *self.cc]:
            if address and address not in result:
                result.append(address)
        return result


def parse_headers(raw: bytes) -> Parsed:
    """Only the header fields (for a message too large to import)."""
    end = re.search(rb"\r?\n\r?\n", raw[:MAX_HEADER_BYTES])
    head = raw[: end.end()] if end else raw[:MAX_HEADER_BYTES]
    msg = email.message_from_bytes(head, policy=email.policy.default)
    return _headers(msg)


def _headers(msg) -> Parsed:
    sender = _addresses(msg, "From")
    references = re.findall(r"<[^<>]+>", str(msg.get("References") or ""))
    return Parsed(
        message_id=_clean(normalize_message_id(msg.get("Message-ID"))),
        in_reply_to=_clean(normalize_message_id(msg.get("In-Reply-To"))),
        references=[normalize_message_id(r) for r in references][-20:],
        from_name=sender[0][0][:300] if sender else "",
        from_address=sender[0][1][:320] if sender else "",
        to=[a for _n, a in _addresses(msg, "To")],
        cc=[a for _n, a in _addresses(msg, "Cc")],
        subject=" ".join(_clean(str(msg.get("Subject") or "")).split())[:998],
        sent_at=_sent_at(msg),
    )


def parse(raw: bytes) -> Parsed:
    """Headers, bodies and attachments. Defects are tolerated (the email package
    records them and carries on); what still fails raises, and the caller files the
    message for review."""
    msg: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)
    parsed = _headers(msg)
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    text = _part_text(text_part) if text_part is not None else ""
    parsed.text = _clean(text).replace("\r\n", "\n").strip()
    html = _clean(_part_text(html_part)) if html_part is not None else ""
    parsed.html = sanitize_html(html) if html else ""
    if not parsed.text and html:
        parsed.text = html_to_text(html)
    for part in msg.iter_attachments():
        if part.get_content_type() == "message/rfc822":
            content = part.get_payload()[0].as_bytes() if part.get_payload() else b""
            name = part.get_filename() or "message.eml"
        else:
            content = part.get_payload(decode=True) or b""
            name = part.get_filename() or ""
        if not name and not content:
            continue
        parsed.attachments.append(
            Attached(
                filename=clean_filename(_clean(name)),
                content_type=part.get_content_type()[:150],
                content=content,
            )
        )
    return parsed


# --- Matching ---------------------------------------------------------------------------


@dataclass
class Match:
    person: Person
    participants: list[Person]
    direction: str


def _internal_addresses(addresses: list[str], mailbox: Mailbox | None) -> set[str]:
    """Of ``addresses``, those of the mailbox itself and of Kontor users."""
    internal = {mailbox.email_address.lower()} if mailbox else set()
    users = (
        get_user_model()
        .objects.annotate(address=Lower("email"))
        .filter(address__in=addresses)
        .values_list("address", flat=True)
    )
    return internal | set(users)


def direction_of(from_address: str, mailbox: Mailbox | None) -> str:
    """Incoming when an outsider wrote it; outgoing when the mailbox or a Kontor user
    did (a mail sent from one's own mail program with a copy to Kontor)."""
    if from_address and from_address.lower() in _internal_addresses(
        [from_address.lower()], mailbox
    ):
        return Direction.OUTGOING
    return Direction.INCOMING


def _persons_by_address(addresses: list[str]) -> dict[str, list[Person]]:
    if not addresses:
        return {}
    found: dict[str, list[Person]] = {}
    # email_key is the indexed lower-case e-mail; lower(email2) has an index of its own.
    first = Person.objects.filter(email_key__in=addresses).select_related("organization")
    second = (
        Person.objects.annotate(address=Lower("email2"))
        .filter(address__in=addresses)
        .select_related("organization")
    )
    for person in [*first, *second]:
        for address in {person.email.strip().lower(), person.email2.strip().lower()}:
            if address in addresses and person not in found.setdefault(address, []):
                found[address].append(person)
    for persons in found.values():
        persons.sort(key=lambda p: p.pk)
    return found


def _replied_person(parsed: Parsed) -> Person | None:
    """The person of a message we sent that this one answers (In-Reply-To, then the
    newest of References)."""
    for message_id in [parsed.in_reply_to, *reversed(parsed.references)]:
        if not message_id:
            continue
        sent = (
            MailMessage.objects.filter(
                message_id_hash=message_id_hash(message_id), direction=MailDirection.OUTGOING
            )
            .select_related("activity__person")
            .first()
        )
        if sent is not None and sent.activity_id and sent.activity.person_id:
            return sent.activity.person
    return None


def match(parsed: Parsed, mailbox: Mailbox | None) -> Match | None:
    """Which persons the message concerns, or None (→ review)."""
    addresses = parsed.addresses
    internal = _internal_addresses(addresses, mailbox)
    external = [a for a in addresses if a not in internal]
    by_address = _persons_by_address(external)
    participants: list[Person] = []
    for address in external:
        for person in by_address.get(address, []):
            if person not in participants:
                participants.append(person)
    from_external = bool(parsed.from_address) and parsed.from_address not in internal
    direction = Direction.INCOMING if from_external else Direction.OUTGOING
    replied = _replied_person(parsed)
    if replied is not None:
        if replied not in participants:
            participants.insert(0, replied)
        return Match(person=replied, participants=participants, direction=direction)
    if not participants:
        return None
    senders = by_address.get(parsed.from_address, []) if from_external else []
    return Match(
        person=(senders or participants)[0], participants=participants, direction=direction
    )


# --- Filing -----------------------------------------------------------------------------


def _activity_text(parsed: Parsed, notes: list[str]) -> str:
    note = "\n".join(notes)
    room = ACTIVITY_TEXT_MAX_LENGTH - len(note) - 10
    text = parsed.text.strip()
    if len(text) > room:
        text = text[: max(0, room - 2)] + " …"
    return f"{text}\n\n{note}".strip() if note else text


def file_activity(
    message: MailMessage,
    parsed: Parsed,
    *,
    person: Person,
    participants: list[Person],
    direction: str,
    actor=None,
    via: str = "mail",
    notes: list[str] | None = None,
) -> Activity:
    """Create the e-mail activity of ``message`` on ``person`` with its attachments,
    link it to the message and mark the message filed. Call inside a transaction.
    ``actor`` None is Kontor itself; a user filing from the review queue is the actor."""
    notes = list(notes or [])
    allowed: list[Attached] = []
    for attached in parsed.attachments:
        try:
            check_allowed(filename=attached.filename, size=len(attached.content))
        except ValidationError as exc:
            reason = " ".join(exc.message_dict.get("file", exc.messages))
            notes.append(
                _("Attachment %(name)s was not filed: %(reason)s")
                % {"name": attached.filename, "reason": reason}
            )
        else:
            allowed.append(attached)
    activity = activity_create(
        actor=actor,
        kind=ActivityKind.EMAIL,
        direction=direction,
        occurred_at=message.sent_at or timezone.now(),
        subject=(message.subject or _("(no subject)"))[:300],
        text=_activity_text(parsed, notes),
        person=person,
        external_participants=participants,
        private=message.private,
        via=via,
    )
    mailbox = message.mailbox
    # A personal mailbox's mail counts as its owner's contact.
    personal = mailbox is not None and mailbox.kind == MailboxKind.PERSONAL
    if actor is None and personal and mailbox.owner_id:
        Activity.objects.filter(pk=activity.pk).update(author_id=mailbox.owner_id)
        activity.author_id = mailbox.owner_id
    for attached in allowed:
        try:
            attachment_add(
                actor=actor,
                activity=activity,
                name=attached.filename,
                content=attached.content,
                content_type=attached.content_type,
                via=via,
            )
        except ValidationError:  # checked above; a second opinion costs nothing
            continue
    message.activity = activity
    message.status = MailStatus.FILED
    message.save(update_fields=["activity", "status", "updated_at"])
    return activity


def _file_matched(message: MailMessage, parsed: Parsed, mailbox: Mailbox | None) -> None:
    """File the stored ``message`` if it names known persons. Whatever goes wrong
    while filing (short of the database itself) leaves it waiting for review with
    the reason, so one odd message never blocks the messages after it."""
    try:
        with transaction.atomic():
            found = match(parsed, mailbox)
            if found is not None:
                file_activity(
                    message,
                    parsed,
                    person=found.person,
                    participants=found.participants,
                    direction=found.direction,
                )
    except (OperationalError, InterfaceError):
        raise  # the database is in trouble: the poll fails and is retried later
    except Exception as exc:
        logger.exception("Could not file incoming e-mail %s", message.message_id)
        reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        message.activity = None
        message.status = MailStatus.REVIEW
        message.error = _("The message could not be filed: %(error)s") % {"error": reason[:500]}
        message.save(update_fields=["activity", "status", "error", "updated_at"])


def _store(message: MailMessage, raw: bytes) -> None:
    message.raw.save(f"{message.uuid.hex}.eml", ContentFile(raw), save=False)


def _existing(key: str) -> MailMessage | None:
    return MailMessage.objects.filter(message_id_hash=key).first()


def file_message(
    *, raw: bytes, mailbox: Mailbox | None = None, size: int | None = None
) -> MailMessage:
    """File one raw message (see the module docstring). ``size`` is the real size
    when ``raw`` holds only the headers of a message too large to fetch."""
    size = len(raw) if size is None else size
    error = ""
    parsed: Parsed | None = None
    too_large = size > max_bytes()
    try:
        parsed = parse_headers(raw) if too_large else parse(raw)
    except Exception as exc:  # any parser failure: the mail waits for review
        logger.warning("Could not parse an incoming e-mail: %s", exc)
        error = _("The message could not be read: %(error)s") % {"error": str(exc)[:500]}
        try:
            parsed = parse_headers(raw)
        except Exception:
            parsed = Parsed()
    if too_large:
        error = _(
            "The message is %(size)s MB, more than the %(max)s MB Kontor files; "
            "only its headers were kept."
        ) % {"size": f"{size / 1024 / 1024:.1f}", "max": settings.MAIL_MAX_MB}
    key = message_id_hash(parsed.message_id, raw)
    existing = _existing(key)
    if existing is not None:
        return existing
    message = MailMessage(
        direction=MailDirection.INCOMING,
        status=MailStatus.REVIEW,
        mailbox=mailbox,
        message_id=parsed.message_id,
        message_id_hash=key,
        in_reply_to=parsed.in_reply_to,
        from_address=parsed.from_address,
        from_name=parsed.from_name,
        to_addresses=parsed.to,
        cc_addresses=parsed.cc,
        subject=parsed.subject,
        sent_at=parsed.sent_at,
        text_body="" if error else parsed.text,
        html_body="" if error else parsed.html,
        size=size,
        error=error,
    )
    _store(message, raw)
    try:
        with transaction.atomic():
            message.save()
            if not error:
                _file_matched(message, parsed, mailbox)
    except IntegrityError:
        # Filed at the same moment by another poller: theirs is the one.
        message.raw.delete(save=False)
        existing = _existing(key)
        if existing is None:
            raise
        return existing
    except Exception:
        message.raw.delete(save=False)
        raise
    return message


def reparse(message: MailMessage) -> Parsed:
    """The stored raw message parsed again (to file a reviewed message with its
    attachments). A message too large or unreadable gives its headers only."""
    raw = b""
    if message.raw:
        with message.raw.open("rb") as handle:
            raw = handle.read()
    if message.error or not raw:
        parsed = Parsed(subject=message.subject, text=message.text_body)
        return parsed
    try:
        return parse(raw)
    except Exception:
        return Parsed(subject=message.subject, text=message.text_body)

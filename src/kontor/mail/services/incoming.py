"""Writes on incoming e-mail: mailboxes, the review queue, private mails.

Who may (kontor.mail.queries holds the read side of the same rules):
- team mailboxes: mail.manage; personal mailboxes: their owner (activities.edit);
  the server: any for mail.manage, otherwise one in MAIL_IMAP_ALLOWED_HOSTS, and never
  a private address unless MAIL_IMAP_ALLOW_PRIVATE (kontor.mail.servers);
- filing or ignoring a waiting message: whoever reviews its mailbox; filing needs
  activities.edit and a person the user may see, ignoring activities.edit or
  mail.manage;
- marking a filed mail private: whoever may see it (activities.edit); from then on
  only that user sees it. Making it public again: that user.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from kontor.activities.models import Activity
from kontor.activities.services.activities import require_visible
from kontor.core import audit
from kontor.core.access import user_can
from kontor.core.models import AuditAction
from kontor.core.permissions import Capability
from kontor.customers.models import Person
from kontor.mail import inbound, queries, servers
from kontor.mail.models import Mailbox, MailboxKind, MailMessage, MailStatus

MAILBOX_FIELDS = (
    "name",
    "email_address",
    "team",
    "host",
    "port",
    "security",
    "username",
    "folder",
    "enabled",
)
# Changing any of these points the mailbox at another folder: fetch from the start
# (Message-IDs keep what was filed before from being filed again).
LOCATION_FIELDS = ("host", "port", "username", "folder")


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(_("Your role does not allow this."))


def _require_may_manage(actor, kind: str) -> None:
    if kind == MailboxKind.TEAM:
        _require(user_can(actor, Capability.MAIL_MANAGE))
    else:
        _require(queries.can_manage_mailboxes(actor))


def host_error(actor, host: str) -> str | None:
    """Why ``actor`` may not point a mailbox at ``host`` (kontor.mail.servers), or None."""
    if servers.literal_refused(host):
        refused = _("Kontor does not connect to local or private network addresses.")
        if user_can(actor, Capability.MAIL_MANAGE):
            # Whoever sets up mailboxes learns how to allow the company's own server.
            return f"{refused} " + _(
                "For a mail server on the company network, set MAIL_IMAP_ALLOW_PRIVATE=true "
                "in Kontor's settings."
            )
        return refused
    if servers.may_use_host(actor, host):
        return None
    allowed = servers.allowed_hosts()
    if not allowed:
        return _("Only an administrator may set up mailboxes.")
    return _("Choose one of the IMAP servers your administrator allows: %(hosts)s.") % {
        "hosts": ", ".join(allowed)
    }


def _validate(mailbox: Mailbox, *, actor) -> None:
    if mailbox.kind not in MailboxKind.values:
        raise ValidationError({"kind": [_("Choose a valid kind.")]})
    if not servers.PORT_MIN <= (mailbox.port or 0) <= servers.PORT_MAX:
        raise ValidationError({"port": [_("Enter a port between 1 and 65535.")]})
    refused = host_error(actor, mailbox.host)
    if refused:
        raise ValidationError({"host": [refused]})
    if not mailbox.password:
        raise ValidationError({"password": [_("This field is required.")]})
    mailbox.full_clean()


@transaction.atomic
def mailbox_create(*, actor, kind: str, password: str, via: str = "ui", **values) -> Mailbox:
    """A team mailbox (mail.manage) or the actor's own personal mailbox."""
    _require_may_manage(actor, kind)
    unknown = set(values) - set(MAILBOX_FIELDS)
    if unknown:
        raise TypeError(f"unknown mailbox fields: {sorted(unknown)}")
    mailbox = Mailbox(kind=kind, password=password, **values)
    if kind == MailboxKind.PERSONAL:
        mailbox.owner = actor
        mailbox.team = None
    _validate(mailbox, actor=actor)
    mailbox.save()
    audit.record(actor=actor, action=AuditAction.CREATE, instance=mailbox, via=via)
    return mailbox


@transaction.atomic
def mailbox_update(
    *, actor, mailbox: Mailbox, password: str = "", via: str = "ui", **values
) -> Mailbox:
    """Change a mailbox; a blank ``password`` keeps the stored one. Pointing it at
    another server, account or folder starts fetching from the beginning; any
    change clears the back-off so the next poll tries at once."""
    current = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    _require(queries.mailboxes_managed_by(actor).filter(pk=current.pk).exists())
    unknown = set(values) - set(MAILBOX_FIELDS)
    if unknown:
        raise TypeError(f"unknown mailbox fields: {sorted(unknown)}")
    before = audit.snapshot(current)
    moved = any(
        name in values and values[name] != getattr(current, name) for name in LOCATION_FIELDS
    )
    for name, value in values.items():
        setattr(current, name, value)
    if current.kind == MailboxKind.PERSONAL:
        current.team = None
    if password:
        current.password = password
    if moved:
        current.uidvalidity = None
        current.last_uid = 0
    current.failures = 0
    current.next_poll_at = None
    _validate(current, actor=actor)
    current.save()
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current


@transaction.atomic
def mailbox_delete(*, actor, mailbox: Mailbox, via: str = "ui") -> None:
    """Remove a mailbox. Its messages stay (filed mail is contact history)."""
    current = Mailbox.objects.select_for_update().get(pk=mailbox.pk)
    _require(queries.mailboxes_managed_by(actor).filter(pk=current.pk).exists())
    audit.record(actor=actor, action=AuditAction.DELETE, instance=current, via=via)
    current.delete()


def _waiting(actor, message: MailMessage) -> MailMessage:
    """The message locked, if the actor reviews it and it still waits."""
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer join.
    current = (
        MailMessage.objects.select_for_update(of=("self",))
        .select_related("mailbox")
        .get(pk=message.pk)
    )
    if not queries.messages_visible_to(actor).filter(pk=current.pk).exists():
        raise Http404
    if current.activity_id is not None or current.status != MailStatus.REVIEW:
        raise ValidationError({"message": [_("This message is no longer waiting for review.")]})
    return current


@transaction.atomic
def message_file_to(*, actor, message: MailMessage, person: Person, via: str = "ui") -> MailMessage:
    """File a waiting message in ``person``'s history, with its attachments (a
    forbidden or oversize one is skipped and noted in the text)."""
    _require(user_can(actor, Capability.ACTIVITIES_EDIT))
    current = _waiting(actor, message)
    require_visible(actor, person)
    parsed = inbound.reparse(current)
    notes = []
    if current.error:
        notes.append(current.error)
    before = audit.snapshot(current)
    inbound.file_activity(
        current,
        parsed,
        person=person,
        participants=[person],
        direction=inbound.direction_of(current.from_address, current.mailbox),
        actor=actor,
        via=via,
        notes=notes,
    )
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current


@transaction.atomic
def message_ignore(*, actor, message: MailMessage, via: str = "ui") -> MailMessage:
    """Take a waiting message out of the queue without filing it (spam, newsletters).
    It stays stored, so fetching it again does not bring it back."""
    _require(user_can(actor, Capability.ACTIVITIES_EDIT) or user_can(actor, Capability.MAIL_MANAGE))
    current = _waiting(actor, message)
    before = audit.snapshot(current)
    current.status = MailStatus.IGNORED
    current.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current


@transaction.atomic
def mail_mark_private(
    *, actor, message: MailMessage, private: bool = True, via: str = "ui"
) -> MailMessage:
    """Make a filed mail private: its activity is then seen by ``actor`` only (who
    becomes its author). Making it public again is up to that user."""
    _require(user_can(actor, Capability.ACTIVITIES_EDIT))
    current = MailMessage.objects.select_for_update().get(pk=message.pk)
    if not queries.messages_visible_to(actor).filter(pk=current.pk).exists():
        raise Http404
    if current.activity_id is None:
        raise ValidationError({"private": [_("Only a filed e-mail can be made private.")]})
    activity = Activity.objects.select_for_update().get(pk=current.activity_id)
    if not private and activity.private and activity.author_id != actor.pk:
        raise PermissionDenied(_("Only the user who made it private can make it public again."))
    before_activity = audit.snapshot(activity)
    before = audit.snapshot(current)
    activity.private = private
    if private:
        activity.author = actor
    activity.save(update_fields=["private", "author", "updated_at"])
    current.private = private
    current.save(update_fields=["private", "updated_at"])
    audit.record(
        actor=actor, action=AuditAction.UPDATE, instance=activity, before=before_activity, via=via
    )
    audit.record(actor=actor, action=AuditAction.UPDATE, instance=current, before=before, via=via)
    return current

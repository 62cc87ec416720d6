"""Reads on incoming e-mail: who may see which message, the review queue, mailboxes.

Rules:
- a filed message is visible to whoever may see its activity (every customer it
  names; a private one only to its author) — Activity.objects.visible_to;
- a message without an activity (waiting for review, ignored) is visible to those
  who review its mailbox: for a team mailbox (or mail forwarded to Kontor without
  one) roles with mail.manage and the mailbox team's members; for a personal
  mailbox its owner only (mail.manage when the owner is gone) — a personal
  mailbox's unmatched mail is nobody else's business;
- mailboxes are configured by mail.manage (team mailboxes) and by their owner
  (personal mailboxes, with activities.edit, on the servers the administrator allows:
  kontor.mail.servers).
"""

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from kontor.activities.models import Activity
from kontor.core.access import team_ids, user_can
from kontor.core.permissions import Capability
from kontor.mail import servers
from kontor.mail.models import Mailbox, MailboxKind, MailDirection, MailMessage, MailStatus

RECENT_LIMIT = 20


def _active(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def review_scope(user) -> Q:
    """Messages without an activity that ``user`` reviews (see the module docstring)."""
    personal = Q(mailbox__kind=MailboxKind.PERSONAL)
    own = personal & Q(mailbox__owner_id=user.pk)
    team = Q(mailbox__kind=MailboxKind.TEAM, mailbox__team_id__in=team_ids(user))
    if user_can(user, Capability.MAIL_MANAGE):
        shared = Q(mailbox__isnull=True) | Q(mailbox__kind=MailboxKind.TEAM)
        orphaned = personal & Q(mailbox__owner__isnull=True)
        return shared | own | orphaned
    return team | own


def can_review(user) -> bool:
    """Whether the user could review any message at all (the inbox shows the queue)."""
    return _active(user) and (
        user_can(user, Capability.MAIL_MANAGE)
        or Mailbox.objects.filter(
            Q(kind=MailboxKind.PERSONAL, owner_id=user.pk)
            | Q(kind=MailboxKind.TEAM, team_id__in=team_ids(user))
        ).exists()
    )


def messages_visible_to(user) -> QuerySet[MailMessage]:
    if not _active(user):
        return MailMessage.objects.none()
    # Correlated: each message checks its own activity (see ActivityQuerySet.visible_to).
    filed = Q(Exists(Activity.objects.visible_to(user).filter(pk=OuterRef("activity_id"))))
    waiting = Q(activity__isnull=True, direction=MailDirection.INCOMING) & review_scope(user)
    return MailMessage.objects.filter(filed | waiting)


def message_get(*, user, uuid) -> MailMessage:
    """The message if ``user`` may see it; 404 otherwise."""
    try:
        return (
            messages_visible_to(user)
            .select_related("mailbox", "activity__person", "activity__author")
            .get(uuid=uuid)
        )
    except (MailMessage.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        # A malformed uuid is simply "not found".
        raise Http404 from exc


def review_queue(user) -> QuerySet[MailMessage]:
    """Messages waiting for review the user may handle, newest first."""
    if not _active(user):
        return MailMessage.objects.none()
    return (
        MailMessage.objects.filter(
            review_scope(user), status=MailStatus.REVIEW, direction=MailDirection.INCOMING
        )
        .select_related("mailbox")
        .order_by("-created_at", "-id")
    )


def recently_filed(user, *, limit: int = RECENT_LIMIT) -> list[MailMessage]:
    """The newest filed incoming messages of the mailboxes the user reviews, that the
    user may see."""
    if not _active(user):
        return []
    return list(
        messages_visible_to(user)
        .filter(review_scope(user), status=MailStatus.FILED, direction=MailDirection.INCOMING)
        .select_related("mailbox", "activity__person")
        .order_by("-created_at", "-id")[:limit]
    )


def mailboxes_managed_by(user) -> QuerySet[Mailbox]:
    """Team mailboxes for mail.manage, one's own personal ones for activities.edit."""
    if not _active(user):
        return Mailbox.objects.none()
    scope = Q(pk__in=[])
    if user_can(user, Capability.MAIL_MANAGE):
        scope |= Q(kind=MailboxKind.TEAM)
    if user_can(user, Capability.ACTIVITIES_EDIT) or user_can(user, Capability.MAIL_MANAGE):
        scope |= Q(kind=MailboxKind.PERSONAL, owner_id=user.pk)
    return Mailbox.objects.filter(scope).select_related("owner", "team")


def can_manage_mailboxes(user) -> bool:
    return _active(user) and (
        user_can(user, Capability.MAIL_MANAGE) or user_can(user, Capability.ACTIVITIES_EDIT)
    )


def can_add_mailbox(user) -> bool:
    """Mail managers add mailboxes on any server; other users with activities.edit a
    personal one, if the administrator allows them a server (kontor.mail.servers)."""
    if not can_manage_mailboxes(user):
        return False
    return servers.may_use_any_host(user) or bool(servers.allowed_hosts())


def mailbox_get(*, user, pk) -> Mailbox:
    try:
        return mailboxes_managed_by(user).get(pk=pk)
    except (Mailbox.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def attachments_of(message: MailMessage) -> list:
    """The filed attachments (activity attachments) of a filed message."""
    if not message.activity_id:
        return []
    return list(message.activity.attachments.all())

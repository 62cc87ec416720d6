"""Background work on incoming e-mail (django-tasks).

The periodic scheduler enqueues ``kontor.mail.tasks.poll_mailboxes`` every
MAIL_POLL_SECONDS; "Poll now" on the mailbox page enqueues ``poll_mailbox``. Both
are idempotent: a message fetched twice is filed once (Message-ID)."""

import logging

from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from kontor.mail import imap
from kontor.mail.models import Mailbox

logger = logging.getLogger(__name__)


def due_mailboxes():
    """Enabled mailboxes not waiting out a back-off."""
    now = timezone.now()
    return Mailbox.objects.filter(
        Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now), enabled=True
    ).order_by("id")


@task()
def poll_mailboxes() -> dict[str, int]:
    """Poll every due mailbox; one failing mailbox never stops the others."""
    polled = failed = 0
    for mailbox in due_mailboxes():
        try:
            result = imap.poll_mailbox(mailbox)
        except Exception:  # poll_mailbox records its own failures; this is a last resort
            logger.exception("Polling mailbox %s failed", mailbox.pk)
            failed += 1
            continue
        polled += 1
        failed += 0 if result.ok else 1
    return {"polled": polled, "failed": failed}


@task()
def poll_mailbox(mailbox_id: int) -> int:
    """Poll one mailbox now (also when disabled or backing off: a person asked).
    The number of messages fetched."""
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        return 0
    return imap.poll_mailbox(mailbox).fetched

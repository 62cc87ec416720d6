"""The outbox: hands queued e-mails to the configured SMTP server (a django-tasks task).

Idempotent: a message is claimed with one conditional UPDATE before it is sent, so
two workers (or a retry queued twice) never send it twice, and a sent message is
never sent again. The claim is a lease on ``sent_at``: a worker that died while
sending leaves a claim that runs out after a while, and the message can be sent by
the next try. On an SMTP error the message is marked failed with the error and
queued again with a delay, up to MAX_ATTEMPTS tries; after that a person retries it
from the message's page (kontor.mail.services.outgoing.mail_retry)."""

import datetime
import smtplib
from email.utils import formataddr, formatdate

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage, get_connection
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import task

from kontor.mail.models import MailDirection, MailMessage, MailStatus

MAX_ATTEMPTS = 3
# Wait before the second and the third try (seconds).
RETRY_DELAYS = (60, 600)
ERROR_MAX_LENGTH = 2000


def _lease() -> datetime.timedelta:
    # Longer than any send can take: connect and data each wait EMAIL_TIMEOUT at most.
    return datetime.timedelta(seconds=4 * (settings.EMAIL_TIMEOUT or 30) + 60)


def _claim(message_pk: int) -> bool:
    now = timezone.now()
    return bool(
        MailMessage.objects.filter(
            pk=message_pk,
            direction=MailDirection.OUTGOING,
            status__in=[MailStatus.QUEUED, MailStatus.FAILED],
        )
        .filter(Q(sent_at__isnull=True) | Q(sent_at__lt=now - _lease()))
        .update(sent_at=now, attempts=F("attempts") + 1)
    )


def build_email(message: MailMessage) -> EmailMessage:
    """The e-mail as it goes out: From Kontor's address with the sender's name,
    Reply-To the sender (so answers reach a person), the stored Message-ID (so the
    answers' In-Reply-To finds this message) and a fixed Date (so the stored .eml is
    byte for byte what was sent)."""
    sender = message.sender
    reply_to = [sender.email] if sender is not None and sender.email else []
    return EmailMessage(
        subject=message.subject,
        body=message.text_body,
        from_email=formataddr((message.from_name, message.from_address)),
        to=list(message.to_addresses),
        reply_to=reply_to,
        headers={
            "Message-ID": message.message_id,
            "Date": formatdate(localtime=True),
        },
    )


def _retry_later(message: MailMessage) -> None:
    if message.attempts >= MAX_ATTEMPTS:
        return
    task_now = outbox_send
    if not task_now.get_backend().supports_defer:
        # A backend that cannot wait (the immediate one) would retry in a tight loop:
        # leave it to a person.
        return
    delay = RETRY_DELAYS[min(message.attempts, len(RETRY_DELAYS)) - 1]
    run_after = timezone.now() + datetime.timedelta(seconds=delay)
    task_now.using(run_after=run_after).enqueue(message.pk)


@task()
def outbox_send(message_pk: int) -> str:
    """Send one queued message; answers "sent", "failed" or "skipped" (already sent,
    or being sent by someone else)."""
    if not _claim(message_pk):
        return "skipped"
    message = MailMessage.objects.select_related("sender").get(pk=message_pk)
    email = build_email(message)
    raw = email.message().as_bytes(linesep="\r\n")
    try:
        connection = get_connection(fail_silently=False)
        connection.send_messages([email])
    except (smtplib.SMTPException, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}".strip()[:ERROR_MAX_LENGTH]
        MailMessage.objects.filter(pk=message.pk).update(
            status=MailStatus.FAILED, error=error, sent_at=None, updated_at=timezone.now()
        )
        _retry_later(message)
        return "failed"
    message.raw.save(f"{message.uuid}.eml", ContentFile(raw), save=False)
    MailMessage.objects.filter(pk=message.pk).update(
        status=MailStatus.SENT,
        sent_at=timezone.now(),
        raw=message.raw.name,
        size=len(raw),
        error="",
        updated_at=timezone.now(),
    )
    return "sent"

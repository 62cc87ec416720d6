"""IMAP mailboxes Kontor polls, and every message that went in or out."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class MailboxKind(models.TextChoices):
    TEAM = "team", _("Shared team mailbox")
    PERSONAL = "personal", _("Personal mailbox")


class ImapSecurity(models.TextChoices):
    SSL = "ssl", _("SSL/TLS")
    STARTTLS = "starttls", _("STARTTLS")
    NONE = "none", _("None (only on a trusted network)")


class Mailbox(models.Model):
    """One IMAP folder to poll. Messages are fetched by UID after ``last_uid``
    (reset when the server's UIDVALIDITY changes); Message-ID keeps them unique."""

    name = models.CharField(_("name"), max_length=120)
    email_address = models.EmailField(_("address"))
    kind = models.CharField(
        _("kind"), max_length=10, choices=MailboxKind.choices, default=MailboxKind.TEAM
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mailboxes",
    )
    team = models.ForeignKey(
        "core.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mailboxes",
    )
    host = models.CharField(_("IMAP server"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(
        _("security"), max_length=10, choices=ImapSecurity.choices, default=ImapSecurity.SSL
    )
    username = models.CharField(_("user name"), max_length=255)
    password = models.CharField(_("password"), max_length=255)
    folder = models.CharField(_("folder"), max_length=255, default="INBOX")
    enabled = models.BooleanField(_("enabled"), default=True)
    uidvalidity = models.PositiveBigIntegerField(null=True, blank=True, editable=False)
    last_uid = models.PositiveBigIntegerField(default=0, editable=False)
    last_polled_at = models.DateTimeField(_("last polled"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    failures = models.PositiveIntegerField(default=0, editable=False)
    # After a failure, the next poll waits (backing off) until then.
    next_poll_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return f"{self.name} <{self.email_address}>"


class MailDirection(models.TextChoices):
    INCOMING = "in", _("Incoming")
    OUTGOING = "out", _("Outgoing")


class MailStatus(models.TextChoices):
    FILED = "filed", _("Filed")
    REVIEW = "review", _("Waiting for review")
    IGNORED = "ignored", _("Ignored")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class MailMessage(models.Model):
    """A message in or out. The raw message (.eml) is a file under MEDIA_ROOT; the
    text and sanitised HTML are kept for display. Incoming messages are unique by
    Message-ID (``message_id_hash``), so a message fetched twice is filed once."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    direction = models.CharField(max_length=3, choices=MailDirection.choices)
    status = models.CharField(_("status"), max_length=10, choices=MailStatus.choices)
    mailbox = models.ForeignKey(
        Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    message_id = models.TextField(_("Message-ID"))
    message_id_hash = models.CharField(max_length=64, unique=True)
    in_reply_to = models.TextField(blank=True)
    from_address = models.CharField(_("from"), max_length=320)
    from_name = models.CharField(max_length=300, blank=True)
    to_addresses = models.JSONField(_("to"), default=list, blank=True)
    cc_addresses = models.JSONField(_("cc"), default=list, blank=True)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    sent_at = models.DateTimeField(_("date"), null=True, blank=True)
    text_body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    raw = models.FileField(upload_to="mail/%Y/%m/", max_length=300, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    activity = models.OneToOneField(
        "activities.Activity",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="mail",
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    private = models.BooleanField(_("private"), default=False)
    attempts = models.PositiveIntegerField(default=0, editable=False)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("e-mail")
        verbose_name_plural = _("e-mails")
        indexes = [models.Index(fields=["status", "-created_at"], name="mail_status_created")]

    def __str__(self) -> str:
        return self.subject or self.message_id

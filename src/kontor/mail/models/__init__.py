from .mailboxes import ImapSecurity, Mailbox, MailboxKind, MailDirection, MailMessage, MailStatus
from .templates import EmailTemplate

__all__ = [
    "EmailTemplate",
    "ImapSecurity",
    "MailDirection",
    "MailMessage",
    "MailStatus",
    "Mailbox",
    "MailboxKind",
]

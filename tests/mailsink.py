"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd): mail Kontor sends goes
through Django's SMTP backend and arrives here, parsed."""

import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller


class _Sink:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(
            email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink(settings):
    """Start an SMTP server and point Django's SMTP backend at it. The fixture's
    ``messages`` are the received messages (email.message.EmailMessage), in order;
    ``envelopes`` hold the SMTP envelopes (rcpt_tos …)."""
    handler = _Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield handler
    finally:
        controller.stop()

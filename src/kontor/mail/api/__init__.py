"""The e-mail API: sending and templates (outgoing), the review queue (incoming)."""

from ninja import Router

router = Router()
router.add_router("", "kontor.mail.api.outgoing.router")
router.add_router("", "kontor.mail.api.incoming.router")

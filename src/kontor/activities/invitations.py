"""Invitations: an appointment mailed to its attendees with an .ics file attached.

(Stub: the signature is fixed; the implementation follows.)"""


def appointment_invitations_send(*, appointment_id: int, method: str = "REQUEST") -> None:
    """Mail the appointment to its attendees (internal users and external persons with
    an e-mail address) with a METHOD:REQUEST (or CANCEL) iCalendar attachment.
    Call it from ``transaction.on_commit``."""

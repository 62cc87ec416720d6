"""Background work on activities (django-tasks): the reminder e-mails, run
periodically by the worker's scheduler (settings.PERIODIC_TASKS)."""

import importlib
import logging

from django_tasks import task

from kontor.activities.services.tasks import task_reminders_send

logger = logging.getLogger(__name__)


def _appointment_reminders():
    """``appointment_reminders_send`` of the appointments services, or None where
    that does not exist (yet). Imported late, on each run."""
    name = "kontor.activities.services.appointments"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:  # a broken import inside it is a bug, not an absence
            raise
        return None
    return getattr(module, "appointment_reminders_send", None)


@task()
def send_reminders() -> int:
    """Send the due task reminders and the appointment reminders; the number of
    e-mails sent. Idempotent: what was reminded is not reminded again."""
    sent = task_reminders_send()
    send_appointment_reminders = _appointment_reminders()
    if send_appointment_reminders is not None:
        sent += int(send_appointment_reminders() or 0)
    return sent

"""Explicit hooks: a lower app announces a domain event, apps built on it react.

The activities app must not import the processes app, yet completing a task may move
a process on, and a trade-fair capture may start one. So the lower app calls
``hooks.emit("task_done", task=…)`` at the point where the event happens (inside its
transaction), and the higher app registers a handler in its ``AppConfig.ready()``.
Unlike Django signals, every emit is a visible call in a service, and the events
are listed here.

Events (keyword arguments):
- ``task_done``: task, actor — a task was marked done (activities.services.tasks)
- ``task_reopened``: task, actor
- ``trade_fair_captured``: result (activities.services.capture.CaptureResult), actor
- ``person_created`` / ``organization_created``: record, actor, via
- ``mail_queued``: message (mail.MailMessage), actor, context (dict the caller of
  mail.services.outgoing.mail_send passed, e.g. {"process_item": id}) — an e-mail
  written in Kontor was queued
- ``appointment_created``: appointment, actor, context (as above, from
  activities.services.appointments.appointment_create)
- ``lead_created``: record (Person or Organization), source, actor — emitted by the
  sales app once it exists; starts processes with the "lead created" trigger
- ``case_opened``: record, case_kind, actor — emitted by the service app once it exists
- ``opportunity_lost``: record, actor — emitted by the sales app once it exists
- ``process_started`` / ``process_ended``: instance — a process instance started,
  or completed or was cancelled (processes.services.instances; ``instance.status``
  says which); ``process_step_entered``: instance, step_run. For the webhook list
  once webhooks exist.

An app that emits an event *declares* it in its ``AppConfig.ready()``
(``hooks.declare("lead_created")``), so that apps built on it can tell what can
actually happen here (``hooks.is_declared``): the process editor offers only the
triggers whose event some installed app emits.
"""

from collections import defaultdict
from collections.abc import Callable

_handlers: dict[str, list[Callable]] = defaultdict(list)
_declared: set[str] = set()


def declare(event: str) -> None:
    """Announce that an installed app emits ``event`` (call it in ``ready()``)."""
    _declared.add(event)


def is_declared(event: str) -> bool:
    return event in _declared


def register(event: str, handler: Callable) -> None:
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def emit(event: str, **kwargs) -> None:
    """Call every handler of ``event`` in registration order, in the caller's
    transaction: a handler that raises rolls the whole use case back."""
    for handler in list(_handlers.get(event, ())):
        handler(**kwargs)

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
"""

from collections import defaultdict
from collections.abc import Callable

_handlers: dict[str, list[Callable]] = defaultdict(list)


def register(event: str, handler: Callable) -> None:
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


def emit(event: str, **kwargs) -> None:
    """Call every handler of ``event`` in registration order, in the caller's
    transaction: a handler that raises rolls the whole use case back."""
    for handler in list(_handlers.get(event, ())):
        handler(**kwargs)
